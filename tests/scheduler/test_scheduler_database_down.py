"""The sweeps while the database is down: they wait and resume, with a short log."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.clock import FixedClock
from bot.scheduler.runner import SweepScheduler
from handlers.context import Job, Services


async def test_a_database_outage_is_logged_once_then_summarised_then_its_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FixedClock(datetime(2027, 3, 2, 8, 0, tzinfo=UTC))
    down = True
    ran: list[str] = []

    async def reminders(_: Services, now: datetime) -> None:
        if down:
            raise ConnectionRefusedError(111, "Connect call failed ('10.0.0.5', 5432)")
        ran.append("reminders")

    async def polls(_: Services, now: datetime) -> None:
        ran.append("polls")

    services = Services(settings=None, clock=clock, sessions=None, router=None)  # type: ignore[arg-type]
    scheduler = SweepScheduler(
        services,
        sweeps=(Job("reminders", reminders), Job("polls", polls)),
        daily=(),
        every_seconds=10,
        daily_at=time(6, 0),
        tz=ZoneInfo("Europe/Berlin"),
    )
    caplog.set_level(logging.INFO, logger="bot.scheduler.runner")
    for _ in range(12):  # two minutes of sweeps
        await scheduler.run_jobs(scheduler.sweeps)
        clock.advance(timedelta(seconds=10))
    clock.advance(timedelta(minutes=4))
    await scheduler.run_jobs(scheduler.sweeps)  # six minutes down: one summary line
    assert ran == []  # the other jobs waited too instead of failing one by one
    down = False
    await scheduler.run_jobs(scheduler.sweeps)
    assert ran == ["reminders", "polls"]  # resumed without a restart
    records = [r for r in caplog.records if r.name == "bot.scheduler.runner"]
    errors = [r for r in records if r.levelno >= logging.ERROR]
    assert len(errors) == 2
    assert errors[0].exc_info is not None and "database" in errors[0].getMessage()
    assert errors[1].exc_info is None and "still unreachable" in errors[1].getMessage()
    assert any("database reachable again" in r.getMessage() for r in records)
