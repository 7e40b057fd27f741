"""Numbers people type (#3, TOP 2, poll 12): plain ASCII digits of a sane length only.

`str.isdigit()` accepts "²" and `int()` accepts 30 digits, which the database then refuses
(SQLite's INTEGER is 64-bit): every lookup by a typed number goes through here instead.
"""

from __future__ import annotations

MAX_DIGITS = 9


def small_number(raw: str | None) -> int | None:
    """The number in `raw` ("#3" or "3"), or None when it is not a plain, small number."""
    text = (raw or "").strip().lstrip("#")
    if not text or len(text) > MAX_DIGITS or not (text.isascii() and text.isdecimal()):
        return None
    return int(text)
