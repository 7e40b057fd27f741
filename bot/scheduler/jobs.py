"""The sweep jobs the scheduler wakes, split by schedule: `async def job(services, now)`.

Each capability exports its jobs as `JOBS` from its `jobs.py`; `handlers.registry.all_jobs`
concatenates them. Nothing is registered here.
"""

from __future__ import annotations

from handlers.context import Job
from handlers.registry import all_jobs


def every_sweep() -> tuple[Job, ...]:
    """Run every SCHEDULER_SWEEP_SECONDS, and once at start-up."""
    return tuple(job for job in all_jobs() if not job.daily)


def daily() -> tuple[Job, ...]:
    """Run once a day at SCHEDULER_DAILY_AT (local time), and once at start-up."""
    return tuple(job for job in all_jobs() if job.daily)
