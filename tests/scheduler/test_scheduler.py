"""The sweep scheduler: APScheduler wakes registered jobs with the injected clock's time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.clock import FixedClock
from bot.scheduler import jobs
from bot.scheduler.runner import SweepScheduler
from handlers.context import Job, Services, local_today

BERLIN = ZoneInfo("Europe/Berlin")


def services(clock: FixedClock) -> Services:
    return Services(settings=None, clock=clock, sessions=None, router=None)  # type: ignore[arg-type]


async def test_sweeps_run_at_start_then_every_interval_with_the_injected_time() -> None:
    clock = FixedClock(datetime(2027, 3, 28, 1, 30, tzinfo=UTC))
    seen: list[tuple[str, datetime]] = []

    async def sweep(_: Services, now: datetime) -> None:
        seen.append(("sweep", now))

    async def broken(_: Services, now: datetime) -> None:
        raise RuntimeError("a bug in one job")

    async def daily(_: Services, now: datetime) -> None:
        seen.append(("daily", now))

    scheduler = SweepScheduler(
        services(clock),
        sweeps=(Job("broken", broken), Job("sweep", sweep)),
        daily=(Job("daily", daily),),
        every_seconds=1,
        daily_at=time(6, 0),
        tz=BERLIN,
    )
    scheduler.start()
    try:
        for _ in range(60):
            if sum(name == "sweep" for name, _ in seen) >= 2:
                break
            await asyncio.sleep(0.1)
    finally:
        await scheduler.stop()
    names = [name for name, _ in seen]
    assert names[:2] == ["sweep", "daily"]  # the start-up catch-up runs both
    assert names.count("sweep") >= 2  # a failing job does not stop the others
    assert {now for _, now in seen} == {clock.now()}
    count = len(seen)
    await asyncio.sleep(1.3)
    assert len(seen) == count  # stopped: no more wake-ups


async def test_stop_waits_for_a_running_sweep() -> None:
    clock = FixedClock(datetime(2027, 1, 1, tzinfo=UTC))
    finished = asyncio.Event()

    async def slow(_: Services, now: datetime) -> None:
        await asyncio.sleep(0.3)
        finished.set()

    scheduler = SweepScheduler(
        services(clock),
        sweeps=(Job("slow", slow),),
        daily=(),
        every_seconds=60,
        daily_at=time(6, 0),
        tz=BERLIN,
    )
    scheduler.start()
    await asyncio.sleep(0.05)
    await scheduler.stop()
    assert finished.is_set()


def test_registry_has_the_reminders_and_the_day_in_the_local_zone() -> None:
    assert [job.name for job in jobs.every_sweep()][:1] == ["reminders"]
    clock = FixedClock(datetime(2027, 3, 27, 23, 30, tzinfo=UTC))

    class _Settings:
        bot_timezone = "Europe/Berlin"

    s = Services(settings=_Settings(), clock=clock, sessions=None, router=None)  # type: ignore[arg-type]
    assert local_today(s, clock.now()).isoformat() == "2027-03-28"


async def test_registered_jobs_close_polls_and_make_series_occurrences(core) -> None:
    """The sweep registry runs the poll deadlines, series occurrences and (daily) advisor
    escalation of the other features against the real database."""
    from sqlalchemy import func, select

    from bot.core.enums import PollStatus
    from storage.models import Meeting, Poll
    from tests.harness import person, registered_ag_transfer

    anna = person("anna")
    chat = await registered_ag_transfer(core)
    await chat.say(anna, '/terminabfrage "Juni" 15.06. 9-12 Uhr; 17.06. 14 Uhr bis 12.06.')
    await chat.say(anna, "/serie wöchentlich montags 9-10 Uhr Jour fixe")
    clock = core.services.clock
    async with core.services.sessions() as session:
        before = await session.scalar(select(func.count()).select_from(Meeting))
    assert before and before > 5

    clock.advance(timedelta(days=70))  # the poll's deadline passed; the horizon moved on
    names = [job.name for job in jobs.every_sweep()]
    assert names == [
        "reminders",
        "poll_deadlines",
        "series_occurrences",
        "outbox_uncertain",
        "mail_failed",
    ]
    assert [job.name for job in jobs.daily()] == [
        "outbox_retention",
        "advisor_escalation",
        "report_reminders",
        "organisation_digest",
        "handled_updates_retention",
    ]
    for job in (*jobs.every_sweep(), *jobs.daily()):
        await job.run(core.services, clock.now())
    async with core.services.sessions() as session:
        poll = await session.scalar(select(Poll))
        after = await session.scalar(select(func.count()).select_from(Meeting))
    assert poll is not None and poll.status == PollStatus.CLOSED.value
    assert after > before
