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

from bot.core.context import Services
from bot.scheduler.reminders import run_reminders

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
        # Date polls – register here:
        # Job("poll_deadlines", run_poll_deadlines),
    )


def daily() -> tuple[Job, ...]:
    """Run once a day at SCHEDULER_DAILY_AT (local time), and once at start-up."""
    return (
        # Advisor escalation – register here:
        # Job("advisor_escalation", lambda s, now: run_advisor_escalation(s, local_today(s, now))),
    )
