"""When a reminder is due, and whether a late one is still worth sending (pure, no I/O).

Offsets are written like "1d 1h" or "2h 30m". Whole days count in local calendar days
(a "1 day before" reminder keeps the meeting's wall-clock time across a DST change);
everything else is an exact duration. Local times that do not exist (the spring gap) move
forward by the gap, local times that exist twice (the autumn fold) take the first
occurrence, so every reminder maps to exactly one UTC instant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
MAX_OFFSET = timedelta(days=14)
MAX_OFFSETS = 4

_PART = re.compile(r"^(?:\d{1,4}(?:d|t|h|std|min|m))+$")
_PIECE = re.compile(r"(\d{1,4})(d|t|h|std|min|m)")
_UNIT_MINUTES = {"d": MINUTES_PER_DAY, "t": MINUTES_PER_DAY, "h": 60, "std": 60, "m": 1, "min": 1}


class ReminderKind(StrEnum):
    """Kinds a person can mute; the value is stored in the reminder log."""

    MEETING = "meeting"
    ACTION_ITEM = "action_item"
    DIGEST = "digest"


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


def stored_offsets(value: str | None) -> tuple[int, ...] | None:
    """The database keeps offsets as "1440,60"."""
    if not value:
        return None
    return tuple(int(v) for v in value.split(","))


def store_offsets(offsets: tuple[int, ...]) -> str:
    return ",".join(str(v) for v in offsets)


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The one UTC instant of a local wall-clock time (gap: moved forward; fold: first)."""
    # fold=0 reads an ambiguous time as its first occurrence, and a time in the spring gap
    # with the offset before the change, which is the instant the gap's length later.
    return datetime.combine(day, at.replace(tzinfo=None, fold=0)).replace(tzinfo=tz).astimezone(UTC)


def due_instant(starts_at: datetime, offset_minutes: int, tz: ZoneInfo) -> datetime:
    """When the reminder `offset_minutes` before `starts_at` is due (UTC)."""
    if offset_minutes % MINUTES_PER_DAY == 0:
        local = starts_at.astimezone(tz)
        day = local.date() - timedelta(days=offset_minutes // MINUTES_PER_DAY)
        return local_instant(day, local.time(), tz)
    return starts_at.astimezone(UTC) - timedelta(minutes=offset_minutes)


class Timing(StrEnum):
    """Whether a reminder is due now, not yet, or too late to be of use."""

    NOT_YET = "not_yet"
    SEND = "send"
    MISSED = "missed"  # due while the bot was down, and too late to be of use now


@dataclass(frozen=True, slots=True)
class Lateness:
    """How late a reminder may still go out; after `deadline` (e.g. the meeting's start)
    it is pointless however small the delay."""

    maximum: timedelta
    deadline: datetime | None = None


def decide(due_at: datetime, now: datetime, lateness: Lateness) -> Timing:
    if due_at > now:
        return Timing.NOT_YET
    if now - due_at > lateness.maximum:
        return Timing.MISSED
    if lateness.deadline is not None and now >= lateness.deadline:
        return Timing.MISSED
    return Timing.SEND
