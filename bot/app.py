"""Wiring: storage, migrations, dispatcher, delivery worker and the chosen adapters."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from bot.adapters import AdapterStartError, platform_traits
from bot.adapters.email.sender import EmlSender, SmtpSender, mail_sender
from bot.core.clock import Clock, SystemClock
from bot.core.platform import Standing
from bot.core.settings import Settings
from bot.outbox.ports import Sender
from bot.outbox.worker import DeliveryWorker, WorkerPolicy
from bot.scheduler.runner import SweepScheduler
from handlers.context import Services
from handlers.delivery.outage import notifier as outage_notifier
from handlers.dispatcher import Dispatcher
from handlers.processes.claims import holder_id
from handlers.processes.leases import LeaseHeld, SingleProcessLease
from handlers.registry import build_router
from storage import installation
from storage.db import Engine, create_engine, session_factory
from storage.migrate import upgrade_to_head

if TYPE_CHECKING:
    from bot.adapters.imap import ImapReader
    from bot.feed_server import FeedServer

log = logging.getLogger(__name__)


class Adapter(Protocol):
    """A chat platform connection: receives messages, renders replies, delivers the outbox."""

    name: str
    # The name of a lease only one process may hold while this adapter runs (see
    # handlers/processes/leases.py); None: any number of processes may run it.
    single_process: str | None

    @property
    def sender(self) -> Sender: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def unreported_standing(self, chat_id: str, user_id: str) -> Standing | None:
        """Whether someone is still in a chat, where the platform may not say so itself
        (see bot.core.platform.ChatPresence)."""
        ...


@dataclass
class Core:
    """The platform-free part of the running bot."""

    settings: Settings
    engine: Engine
    services: Services
    dispatcher: Dispatcher
    worker: DeliveryWorker | None = None
    feed_server: FeedServer | None = None
    scheduler: SweepScheduler | None = None
    feed_retry_seconds: float = 30.0  # a feed server that could not listen is tried again
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _feed_retry: asyncio.Task[None] | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    async def create(cls, settings: Settings, clock: Clock | None = None) -> Core:
        engine = create_engine(settings.database_url)
        await upgrade_to_head(engine)
        platforms = platform_traits(settings)
        prefixes = tuple(dict.fromkeys(traits.command_prefix for traits in platforms.values()))
        clock = clock or SystemClock()
        sessions = session_factory(engine)
        async with sessions.begin() as session:
            domain = await installation.calendar_domain(session, clock.now())
        services = Services(
            settings=settings,
            clock=clock,
            sessions=sessions,
            router=build_router(prefixes),
            platforms=platforms,
            installation_domain=domain,
        )
        return cls(settings, engine, services, Dispatcher(services))

    def start_delivery(self, senders: Sequence[Sender], policy: WorkerPolicy | None = None) -> None:
        policy = policy or WorkerPolicy(
            poll_seconds=self.settings.outbox_poll_seconds,
            max_attempts=self.settings.outbox_max_attempts,
            lease=timedelta(seconds=self.settings.outbox_lease_seconds),
            outage_notice_after=timedelta(seconds=self.settings.outbox_outage_notice_seconds),
        )
        self.worker = DeliveryWorker(
            self.services.sessions,
            {sender.platform: sender for sender in senders},
            self.services.clock,
            policy,
            global_per_second=self.settings.outbox_global_per_second,
            notify=outage_notifier(self.services),
        )
        self.services.wake_outbox = self.worker.wake
        self._tasks.append(asyncio.create_task(self.worker.run(self._stop), name="outbox"))

    def pace_mail(self, mail: Sender) -> None:
        """Mail goes at MAIL_PER_MINUTE: OUTBOX_GLOBAL_PER_SECOND is the chat platforms'
        ceiling (Telegram's 30 a second), not an SMTP server's."""
        assert self.worker is not None
        self.worker.set_limits(mail.platform, mail.limits)

    async def start_feeds(self) -> FeedServer:
        """The calendar feed server on HTTP_HOST:HTTP_PORT (see bot/feed_server.py)."""
        from bot.feed_server import FeedServer

        self.feed_server = FeedServer(self.services)
        await self.feed_server.start()
        return self.feed_server

    async def keep_feeds_running(self) -> None:
        """Start the feed server; if it cannot listen (the port is taken), the chat side
        runs anyway: the failure is logged and told to the admins once, and the start is
        tried again every `feed_retry_seconds` until it works or the bot stops."""
        from bot.feed_server import FeedServerError
        from handlers.calendar.feed_status import tell_admins_feeds_down

        try:
            await self.start_feeds()
            return
        except FeedServerError as exc:
            self.feed_server = None
            log.error(
                "%s; the chat keeps running, retrying every %ss", exc, self.feed_retry_seconds
            )
            try:
                await tell_admins_feeds_down(self.services, str(exc), self.feed_retry_seconds)
            except Exception:
                log.exception("could not tell the admins that the feed server is down")
        self._feed_retry = asyncio.create_task(self._retry_feeds(), name="feed-retry")

    async def _retry_feeds(self) -> None:
        from bot.feed_server import FeedServerError

        attempts = 1
        while True:
            await asyncio.sleep(self.feed_retry_seconds)
            attempts += 1
            try:
                await self.start_feeds()
            except FeedServerError as exc:
                self.feed_server = None
                log.debug("feed server still down (attempt %d): %s", attempts, exc)
                continue
            log.warning("calendar feed server started after %d attempts", attempts)
            return

    def start_scheduler(self) -> None:
        """Wake the sweeps: each capability's `JOBS`, gathered by handlers.registry.all_jobs."""
        self.scheduler = SweepScheduler(
            self.services,
            every_seconds=self.settings.scheduler_sweep_seconds,
            daily_at=self.settings.daily_time,
            tz=self.settings.timezone,
        )
        self.scheduler.start()

    def start_mail_reader(self) -> ImapReader | None:
        """Read calendar answers and bounces from the IMAP mailbox, when IMAP_HOST is set."""
        if not self.settings.imap_enabled:
            return None
        from bot.adapters.imap import ImapConfig, ImapReader
        from handlers.inbound_mail.apply import handle_mail

        async def handle(raw: bytes) -> object:
            return await handle_mail(self.services, raw)

        reader = ImapReader(ImapConfig.from_settings(self.settings), handle)
        self._tasks.append(asyncio.create_task(reader.run(self._stop), name="imap"))
        return reader

    async def close(self) -> None:
        if self.scheduler is not None:  # first: a sweep may still enqueue for the worker
            await self.scheduler.stop()
            self.scheduler = None
        if self._feed_retry is not None:
            self._feed_retry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._feed_retry
            self._feed_retry = None
        if self.feed_server is not None:
            await self.feed_server.stop()
            self.feed_server = None
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=10)
        await self.engine.dispose()


def freeze_startup_objects() -> None:
    """Everything loaded so far (libraries, catalogs, mappers) lives as long as the
    process: keep it out of the garbage collector's full scans. Called once the bot (or a
    bench's bot process) has started; without it a full scan of those objects ran every
    few hundred claimed rows or built mails."""
    gc.collect()
    gc.freeze()


async def run_adapters(
    core: Core, adapters: Sequence[Adapter], stop: asyncio.Event, *, feeds: bool = False
) -> None:
    """Start every adapter, the delivery worker and (with `feeds`) the calendar feed server
    on one event loop until `stop` is set."""
    started: list[Adapter] = []
    leases: list[SingleProcessLease] = []
    mail: SmtpSender | EmlSender | None = None
    try:
        if feeds:
            await core.keep_feeds_running()
        for adapter in adapters:
            if adapter.single_process:
                leases.append(await _single_process(core, adapter.single_process, stop))
            core.services.presence[adapter.name] = adapter
            await adapter.start()
            started.append(adapter)
        mail = mail_sender(core.settings, core.services.clock)
        core.start_delivery([*(adapter.sender for adapter in adapters), mail])
        core.pace_mail(mail)
        core.start_scheduler()
        core.start_mail_reader()
        freeze_startup_objects()
        log.info("bot running on %s", ", ".join(a.name for a in adapters))
        await stop.wait()
    finally:
        for adapter in reversed(started):
            try:
                await adapter.stop()
            except Exception:
                log.exception("error while stopping the %s adapter", adapter.name)
        for lease in leases:
            await lease.release()
        await core.close()
        if mail is not None:
            await mail.close()


async def _single_process(core: Core, name: str, stop: asyncio.Event) -> SingleProcessLease:
    """Hold the lease `name` while running, or refuse to start: another live process has
    it (Matrix: one syncing process, see README "Operations"). Losing it stops this one."""
    lease = SingleProcessLease(
        core.services,
        name,
        holder_id(),
        heartbeat_seconds=core.settings.matrix_lease_heartbeat_seconds,
        on_lost=stop.set,
    )
    try:
        await lease.acquire()
    except LeaseHeld as exc:
        raise AdapterStartError(str(exc)) from None
    return lease
