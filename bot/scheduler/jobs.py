"""The registry of sweep jobs: `async def job(services, now)`, each idempotent.

A job finds its due work with indexed queries and records what it did in the database, so
running it twice, late, or in two processes at once changes nothing. Register new jobs
here, one line each.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from handlers.advisors.escalation import run_advisor_escalation
from handlers.context import Services
from handlers.delivery.commands import report_uncertain
from handlers.meetings.series_occurrences import extend_series
from handlers.polls.deadlines import run_poll_deadlines
from handlers.reminders.sweep import run_reminders

SweepJob = Callable[[Services, datetime], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    run: SweepJob


def local_today(services: Services, now: datetime) -> date:
    """The calendar day in the deployment's zone, for jobs that think in days."""
    return now.astimezone(ZoneInfo(services.settings.bot_timezone)).date()


def every_sweep() -> tuple[Job, ...]:
    """Run every SCHEDULER_SWEEP_SECONDS, and once at start-up."""
    return (
        Job("reminders", run_reminders),
        Job("poll_deadlines", run_poll_deadlines),
        # Series occurrences are made three months ahead, long before any reminder is due.
        Job("series_occurrences", extend_all_series),
        # Messages a crash left uncertain go to the admins' attention, never out of sight.
        Job("outbox_uncertain", report_uncertain),
    )


def daily() -> tuple[Job, ...]:
    """Run once a day at SCHEDULER_DAILY_AT (local time), and once at start-up."""
    return (Job("advisor_escalation", advisor_escalation),)


async def extend_all_series(services: Services, now: datetime) -> int:
    """Materialize series occurrences that came within the horizon (see handlers.series)."""
    async with services.sessions.begin() as session:
        return await extend_series(session, now)


async def advisor_escalation(services: Services, now: datetime) -> object:
    return await run_advisor_escalation(services, local_today(services, now))
