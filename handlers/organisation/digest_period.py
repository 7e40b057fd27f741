"""Which digest period is due: the last whole week (Monday to Monday) or month before
"today", and its key, unique per period, that records it as sent. Pure: "today" is an
argument."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Frequency(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"


FREQUENCY_WORDS = {
    "wöchentlich": Frequency.WEEKLY,
    "woechentlich": Frequency.WEEKLY,
    "weekly": Frequency.WEEKLY,
    "monatlich": Frequency.MONTHLY,
    "monthly": Frequency.MONTHLY,
}


@dataclass(frozen=True)
class Period:
    start: date  # first day
    end: date  # the day after the last: the digest goes out on this day
    key: str  # W2021-23 (ISO week of `start`), M2021-06


def last_complete_period(today: date, frequency: Frequency) -> Period:
    """The latest period that ended by `today` (today included as its end day)."""
    if frequency is Frequency.MONTHLY:
        end = today.replace(day=1)
        start = (end - timedelta(days=1)).replace(day=1)
        return Period(start, end, f"M{start.year:04d}-{start.month:02d}")
    end = today - timedelta(days=today.weekday())
    start = end - timedelta(days=7)
    year, week, _ = start.isocalendar()
    return Period(start, end, f"W{year:04d}-{week:02d}")


def next_send_day(today: date, frequency: Frequency) -> date:
    """The day the next digest goes out (today's is counted as sent by then)."""
    if frequency is Frequency.MONTHLY:
        return (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    return today + timedelta(days=7 - today.weekday())
