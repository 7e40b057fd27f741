"""Periodic reports between groups: intervals as people write them, the next due date, and
when the owing group's chairs are reminded. Pure: "today" is an argument."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

REMIND_DAYS_BEFORE = 14  # two weeks: enough to put the report on the owing group's agenda

INTERVALS = {
    "jährlich": 12,
    "jaehrlich": 12,
    "yearly": 12,
    "annually": 12,
    "halbjährlich": 6,
    "halbjaehrlich": 6,
    "half-yearly": 6,
    "vierteljährlich": 3,
    "vierteljaehrlich": 3,
    "quarterly": 3,
    "monatlich": 1,
    "monthly": 1,
}


def parse_interval(text: str) -> int | None:
    """Months between reports from "jährlich", "quarterly", …; None if it is none of them."""
    return INTERVALS.get(text.strip().casefold())


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the 31st becomes the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def reminder_due(due: date, today: date, reminded_for: date | None) -> bool:
    """Whether the chairs should hear of `due` now: within the lead, and not yet for it."""
    return reminded_for != due and today >= due - timedelta(days=REMIND_DAYS_BEFORE)
