"""Reminder offsets as people and admins write them ("1d 1h", "2h 30m"), read and shown.

They live in core because two layers read them: the settings refuse a bad
REMINDER_MEETING_OFFSETS at start, and `/erinnerungszeiten` reads what a person types.
Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from datetime import timedelta

MINUTES_PER_DAY = 24 * 60
MAX_OFFSET = timedelta(days=14)
MAX_OFFSETS = 4

_PART = re.compile(r"^(?:\d{1,4}(?:d|t|h|std|min|m))+$")
_PIECE = re.compile(r"(\d{1,4})(d|t|h|std|min|m)")
_UNIT_MINUTES = {"d": MINUTES_PER_DAY, "t": MINUTES_PER_DAY, "h": 60, "std": 60, "m": 1, "min": 1}


class OffsetError(ValueError):
    """An offset list that cannot be read; `code` names the reason for the user."""

    def __init__(self, code: str, value: str = "") -> None:
        super().__init__(code)
        self.code, self.value = code, value


def parse_offsets(text: str) -> tuple[int, ...]:
    """ "1d 1h" -> (1440, 60): minutes before the start, largest first, no duplicates.

    Spaces separate reminders; one reminder may combine units without a space ("1h30m").
    """
    parts = [p for p in re.split(r"[\s,;]+", text.strip().lower()) if p]
    if not parts:
        raise OffsetError("empty")
    minutes: set[int] = set()
    for part in parts:
        if _PART.match(part) is None:
            raise OffsetError("unreadable", part)
        value = sum(int(n) * _UNIT_MINUTES[unit] for n, unit in _PIECE.findall(part))
        if value <= 0 or value > MAX_OFFSET.total_seconds() // 60:
            raise OffsetError("range", part)
        minutes.add(value)
    if len(minutes) > MAX_OFFSETS:
        raise OffsetError("too_many")
    return tuple(sorted(minutes, reverse=True))


def format_offsets(offsets: tuple[int, ...], language: str) -> str:
    """(1440, 90) -> "1d, 1h30m" (German: "1T, 1Std30min"), readable back by parse_offsets."""
    units = (
        ((MINUTES_PER_DAY, "T"), (60, "Std"), (1, "min"))
        if language == "de"
        else ((MINUTES_PER_DAY, "d"), (60, "h"), (1, "m"))
    )
    shown = []
    for offset in offsets:
        words, rest = [], offset
        for size, unit in units:
            if rest >= size:
                words.append(f"{rest // size}{unit}")
                rest %= size
        shown.append("".join(words))
    return ", ".join(shown)
