"""Periodic reports between groups: intervals as people write them, the next due date, and
when the owing group's chairs are reminded. Pure: "today" is an argument."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

# The default lead (REPORT_REMIND_DAYS_BEFORE): two weeks, enough to put the report on the
# owing group's agenda. A chair may set another per report; at most MAX_LEAD_DAYS.
REMIND_DAYS_BEFORE = 14
MAX_LEAD_DAYS = 365

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


def reminder_due(
    due: date, today: date, reminded_for: date | None, lead_days: int = REMIND_DAYS_BEFORE
) -> bool:
    """Whether the chairs should hear of `due` now: within the lead, and not yet for it."""
    return reminded_for != due and today >= due - timedelta(days=lead_days)


def parse_lead(text: str) -> int | None:
    """Days from "30", "30 Tage", "30 days"; None if it is no number of days we accept."""
    words = text.strip().casefold().split()
    if not words or not words[0].isdigit() or len(words) > 2:
        return None
    if len(words) == 2 and words[1] not in ("tage", "tag", "days", "day"):
        return None
    days = int(words[0])
    return days if days <= MAX_LEAD_DAYS else None
