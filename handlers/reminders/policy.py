"""When a reminder is due, and whether a late one is still worth sending (pure, no I/O).

Offsets are written like "1d 1h" or "2h 30m". Whole days count in local calendar days
(a "1 day before" reminder keeps the meeting's wall-clock time across a DST change);
everything else is an exact duration. Local times that do not exist (the spring gap) move
forward by the gap, local times that exist twice (the autumn fold) take the first
occurrence, so every reminder maps to exactly one UTC instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

# Offsets are minutes; their written form ("1d 1h") is read in bot/core/reminder_offsets.py,
# where the settings check it too.
from bot.core.reminder_offsets import MINUTES_PER_DAY


class ReminderKind(StrEnum):
    """Kinds a person can mute; the value is stored in the reminder log."""

    MEETING = "meeting"
    ACTION_ITEM = "action_item"
    DIGEST = "digest"


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
