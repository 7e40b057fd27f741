"""Numbers people type (#3, TOP 2, poll 12): plain ASCII digits of a sane length only.

`str.isdigit()` accepts "²" and `int()` accepts 30 digits, which the database then refuses
(SQLite's INTEGER is 64-bit): every lookup by a typed number goes through here instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_DIGITS = 9


def small_number(raw: str | None) -> int | None:
    """The number in `raw` ("#3" or "3"), or None when it is not a plain, small number."""
    text = (raw or "").strip().lstrip("#")
    if not text or len(text) > MAX_DIGITS or not (text.isascii() and text.isdecimal()):
        return None
    return int(text)


_LEADING_REF = re.compile(rf"#(\d{{1,{MAX_DIGITS}}})\b:?\s*")  # "#3: Text" too


def split_leading_ref(text: str | None) -> tuple[str | None, str]:
    """A leading "#3" names what the rest of the text is about (a meeting): returns the
    digits as typed (the lookup checks them with `small_number`, so "#３" is refused, not
    read as 3) and the rest; (None, the whole text) when there is none."""
    text = (text or "").strip()
    match = _LEADING_REF.match(text)
    if match is None:
        return None, text
    return match.group(1), text[match.end() :].strip()


def decision_label(year: int, number: int) -> str:
    """``B-2021-07``: the number people cite in minutes and mails (the data export, which
    storage writes, shows it too, so it lives here and not with the minutes)."""
    return f"B-{year}-{number:02d}"


def action_label(number: int) -> str:
    """``A-12``: how an action item is cited."""
    return f"A-{number}"


def top_numbers(items: Iterable[tuple[int, bool]]) -> dict[int, int]:
    """TOP numbers by id, for an agenda's items in order given as (id, is a break). Breaks
    keep their place but get no number: seven TOPs with two breaks are TOP 1–7."""
    numbers: dict[int, int] = {}
    for item_id, is_break in items:
        if not is_break:
            numbers[item_id] = len(numbers) + 1
    return numbers
