"""Wakes the sweeps: every N seconds, and once a day at a local time.

APScheduler (3.x, AsyncIOScheduler) only triggers; it holds two jobs whatever the number of
reminders, and no state: the sweeps read the database. Each sweep gets `now` from the
injected clock. Runs do not overlap (one at a time per schedule), a late wake-up is
coalesced into one run, and stopping waits for a running sweep instead of cancelling it
half-way. While the database is down the sweeps wait for it: one traceback, then a summary
every few minutes, and the next wake-up after it is back simply catches up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import time
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.outage_log import OutageLog
from bot.scheduler import jobs as schedule
from handlers.context import Job, Services
from storage.db import is_unavailable

log = logging.getLogger(__name__)


class SweepScheduler:
    def __init__(
        self,
        services: Services,
        *,
        sweeps: Sequence[Job] | None = None,
        daily: Sequence[Job] | None = None,
        every_seconds: float,
        daily_at: time,
        tz: ZoneInfo,
    ) -> None:
        self.services = services
        self.sweeps = tuple(schedule.every_sweep() if sweeps is None else sweeps)
        self.daily = tuple(schedule.daily() if daily is None else daily)
        self.every_seconds = every_seconds
        self.daily_at = daily_at
        self.tz = tz
        self._scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()
        self._database = OutageLog(
            log, "the sweeps' database", f"the sweeps try again every {every_seconds:g}s"
        )

    async def run_jobs(self, jobs: Sequence[Job]) -> None:
        """Run jobs one after another; one failing job does not keep the others from running."""
        async with self._lock:
            for job in jobs:
                now = self.services.clock.now()
                try:
                    await job.run(self.services, now)
                except Exception as exc:
                    if is_unavailable(exc):  # the rest would fail the same way: wait
                        self._database.failed(now, exc)
                        return
                    log.exception(
                        "sweep job %s failed; it runs again at the next wake-up", job.name
                    )
                else:
                    self._database.worked()

    async def _wake(self, jobs: Sequence[Job]) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._running.add(task)
        try:
            await self.run_jobs(jobs)
        finally:
            self._running.discard(task)

    def start(self) -> None:
        """Schedule the wake-ups; the first sweep and daily run happen at once (catch-up)."""
        scheduler = AsyncIOScheduler(timezone=self.tz)
        common = {"max_instances": 1, "coalesce": True}
        scheduler.add_job(
            self._wake,
            IntervalTrigger(seconds=self.every_seconds, timezone=self.tz),
            args=(self.sweeps,),
            id="sweep",
            misfire_grace_time=None,
            **common,
        )
        if self.daily:
            scheduler.add_job(
                self._wake,
                CronTrigger(hour=self.daily_at.hour, minute=self.daily_at.minute, timezone=self.tz),
                args=(self.daily,),
                id="daily",
                misfire_grace_time=3600,
                **common,
            )
        scheduler.start()
        self._scheduler = scheduler
        # Catch up at once after a restart instead of waiting for the first interval.
        startup = asyncio.create_task(self._wake(self.sweeps + self.daily), name="sweep startup")
        self._running.add(startup)
        log.info(
            "scheduler started: %d sweep job(s) every %ss, %d daily at %s",
            len(self.sweeps),
            self.every_seconds,
            len(self.daily),
            self.daily_at.strftime("%H:%M"),
        )

    async def stop(self, grace_seconds: float = 30.0) -> None:
        """No new wake-ups; let a running sweep finish (it is one transaction per kind)."""
        if self._scheduler is not None:
            self._scheduler.pause()
        running = list(self._running)
        if running:
            _, late = await asyncio.wait(running, timeout=grace_seconds)
            for task in late:
                task.cancel()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
