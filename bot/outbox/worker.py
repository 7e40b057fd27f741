"""The delivery worker: drains the outbox within each platform's rate limits.

Chats are served concurrently, each in order, so one slow group (20 messages a minute)
never holds up direct messages to others. Direct replies to commands never pass through
here; the worker keeps its global rate below the platform's ceiling to leave them room.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial

from aiolimiter import AsyncLimiter

from bot.core.clock import Clock
from bot.core.enums import OutboxStatus
from bot.core.redact import redact
from bot.outbox.pacing import SendWindow
from bot.outbox.ports import (
    ChatMoved,
    DeliveryLimits,
    PermanentFailure,
    RecipientUnreachable,
    RetryLater,
    Sender,
    TransientFailure,
)
from storage import outbox as outbox_store
from storage.db import SessionFactory
from storage.people import move_chat

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerPolicy:
    poll_seconds: float = 1.0
    batch_size: int = 100
    lease: timedelta = timedelta(seconds=120)
    max_attempts: int = 8
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 3600.0
    # While the database is down: one traceback, then a line at most this often.
    outage_summary: timedelta = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class _Pause:
    """A chat cannot take more messages now; `settle` decides what happens to the rest."""

    include_current: bool
    settle: Callable[[list[outbox_store.Delivery]], Awaitable[None]]


@dataclass(slots=True)
class _Outage:
    """The database has been unreachable since `since`; `last_said` is the last log line."""

    since: datetime
    last_said: datetime
    failures: int = 1


def backoff_seconds(attempt: int, policy: WorkerPolicy, jitter: Callable[[], float]) -> float:
    """Exponential backoff with jitter: 2 s, 4 s, 8 s … capped at an hour."""
    delay = min(policy.backoff_base_seconds * 2 ** max(attempt - 1, 0), policy.backoff_max_seconds)
    return delay * (0.8 + 0.4 * jitter())


def _capped(limits: DeliveryLimits, global_per_second: float | None) -> DeliveryLimits:
    if global_per_second is None or global_per_second >= limits.global_per_second:
        return limits
    return replace(limits, global_per_second=global_per_second)


def _spaced(per_second: float) -> AsyncLimiter:
    """A leaky bucket of capacity 1: evenly spaced sends, never a burst.

    A larger bucket would let a full burst go out and then keep dripping, which exceeds
    a "20 per minute" rule within the first minute and earns 429s.
    """
    return AsyncLimiter(1, 1.0 / per_second)


class _PlatformLimiters:
    """What a send waits for: aiolimiter buckets (one global, one per chat, a per-minute one
    per group chat) that space requests evenly, and the sliding windows that hold the
    platform's limits however requests bunch on the way (bot/outbox/pacing.py)."""

    def __init__(
        self, limits: DeliveryLimits, replies: SendWindow | None = None, max_chats: int = 10_000
    ) -> None:
        self.limits = limits
        # Two tokens overall: a late wake-up of the event loop (a busy machine) is made up
        # by the next send instead of being lost for good, which at 25/s cost ~15% of the
        # rate. The window below keeps any second at the limit all the same.
        self.global_limiter = AsyncLimiter(2, 2.0 / limits.global_per_second)
        self.window = SendWindow(int(limits.global_per_second))
        # With the adapter's direct replies: together below the platform's ceiling, so a
        # busy moment in the chats slows the worker instead of earning 429s.
        self._replies = (replies,) if replies is not None else ()
        self.ceiling = (
            SendWindow(int(limits.ceiling_per_second))
            if replies is not None and limits.ceiling_per_second
            else None
        )
        self._per_chat: OrderedDict[str, AsyncLimiter] = OrderedDict()
        self._per_group: OrderedDict[str, AsyncLimiter] = OrderedDict()
        self._max_chats = max_chats
        self._last_done: OrderedDict[str, float] = OrderedDict()

    def _bucket(
        self, table: OrderedDict[str, AsyncLimiter], key: str, per_second: float
    ) -> AsyncLimiter:
        limiter = table.get(key)
        if limiter is None:
            limiter = table[key] = _spaced(per_second)
            if len(table) > self._max_chats:
                table.popitem(last=False)
        else:
            table.move_to_end(key)
        return limiter

    @asynccontextmanager
    async def slot(self, chat_id: str, is_group: bool) -> AsyncIterator[None]:
        """Wait for every limit, then hold the place until the request is answered.

        All waiting happens here, before the caller commits its attempt: a process killed
        while waiting has promised nothing, and its message is simply sent by the next one.
        A chat's interval counts from the answer to its previous request, so however fast
        the next commit is, the platform never sees two requests closer than that. One
        task drains a chat, so this needs no lock.
        """
        await self._bucket(self._per_chat, chat_id, self.limits.per_chat_per_second).acquire()
        gap = 1.0 / self.limits.per_chat_per_second
        if is_group:
            per_second = self.limits.per_group_per_minute / 60.0
            await self._bucket(self._per_group, chat_id, per_second).acquire()
            gap = max(gap, 60.0 / self.limits.per_group_per_minute)
        await self.global_limiter.acquire()
        loop = asyncio.get_running_loop()
        last = self._last_done.get(chat_id)
        if last is not None and (wait := last + gap - loop.time()) > 0:
            await asyncio.sleep(wait)
        ceiling = (
            self.ceiling.slot(others=self._replies) if self.ceiling is not None else nullcontext()
        )
        try:
            async with self.window.slot(), ceiling:
                yield
        finally:
            self._last_done[chat_id] = loop.time()
            self._last_done.move_to_end(chat_id)
            if len(self._last_done) > self._max_chats:
                self._last_done.popitem(last=False)


class DeliveryWorker:
    def __init__(
        self,
        sessions: SessionFactory,
        senders: Mapping[str, Sender],
        clock: Clock,
        policy: WorkerPolicy | None = None,
        owner: str | None = None,
        jitter: Callable[[], float] = random.random,
        global_per_second: float | None = None,
    ) -> None:
        self.sessions = sessions
        self.senders = dict(senders)
        self.clock = clock
        self.policy = policy or WorkerPolicy()
        self.owner = owner or f"worker-{uuid.uuid4().hex[:12]}"
        self._jitter = jitter
        self._limiters = {
            name: _PlatformLimiters(_capped(s.limits, global_per_second), s.replies)
            for name, s in self.senders.items()
        }
        self._idempotent = frozenset(n for n, s in self.senders.items() if s.idempotent)
        self._wake = asyncio.Event()
        self._queues: dict[tuple[str, str], deque[outbox_store.Delivery]] = {}
        self._chat_tasks: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._queued_ids: set[int] = set()
        self._stopping = False
        self._outage: _Outage | None = None

    def set_limits(self, platform: str, limits: DeliveryLimits) -> None:
        """Replace a platform's pacing (e.g. once a homeserver's real limits are known)."""
        self._limiters[platform] = _PlatformLimiters(limits, self.senders[platform].replies)

    def wake(self) -> None:
        """Something was enqueued: look now instead of at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        log.info("delivery worker %s started for %s", self.owner, ", ".join(self.senders))
        while not stop.is_set():
            try:
                claimed = await self.claim()
            except Exception as exc:
                self._claim_failed(exc)
                claimed = 0
            else:
                self._claim_worked()
            if claimed >= self.policy.batch_size:
                await asyncio.sleep(0)
                continue
            self._wake.clear()
            waiters = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())}
            _, pending = await asyncio.wait(
                waiters, timeout=self.policy.poll_seconds, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
        await self.shutdown()
        log.info("delivery worker %s stopped", self.owner)

    def _claim_failed(self, error: Exception) -> None:
        """The database is down: a traceback once, then a line at most every few minutes.

        A traceback on every poll (once a second) buried everything else in the log.
        """
        now = self.clock.now()
        if self._outage is None:
            self._outage = _Outage(since=now, last_said=now)
            log.exception(
                "cannot claim from the outbox (is the database down?); retrying every %.1fs",
                self.policy.poll_seconds,
            )
            return
        self._outage.failures += 1
        if now - self._outage.last_said >= self.policy.outage_summary:
            self._outage.last_said = now
            log.error(
                "outbox still unreachable since %s (%d failed polls): %s: %s",
                self._outage.since.isoformat(timespec="seconds"),
                self._outage.failures,
                type(error).__name__,
                str(error).splitlines()[0] if str(error) else "",
            )

    def _claim_worked(self) -> None:
        if self._outage is not None:
            log.warning(
                "database reachable again; the outbox was unreachable since %s (%d failed polls)",
                self._outage.since.isoformat(timespec="seconds"),
                self._outage.failures,
            )
            self._outage = None

    async def run_once(self) -> int:
        """Claim one batch and wait until every chat queue is drained (for tests and tools)."""
        claimed = await self.claim()
        while self._chat_tasks:
            await asyncio.gather(*list(self._chat_tasks.values()))
        return claimed

    async def claim(self) -> int:
        """Claim due rows and hand them to per-chat queues; returns how many were new.

        Each chat is drained by its own task, so a group limited to 20 messages a minute
        never holds up direct messages to others, across batches too.
        """
        async with self.sessions.begin() as session:
            claimed = await outbox_store.claim_due(
                session,
                owner=self.owner,
                now=self.clock.now(),
                lease=self.policy.lease,
                limit=self.policy.batch_size,
                idempotent=self._idempotent,
            )
        fresh = 0
        for delivery in claimed:
            if delivery.id in self._queued_ids:
                continue  # our own lease ran out while it waited in a slow chat's queue
            if delivery.platform not in self.senders:
                await self._finish(delivery.id, OutboxStatus.FAILED, "no adapter for this platform")
                continue
            key = (delivery.platform, delivery.chat_id)
            self._queues.setdefault(key, deque()).append(delivery)
            self._queued_ids.add(delivery.id)
            fresh += 1
            if key not in self._chat_tasks:
                self._chat_tasks[key] = asyncio.create_task(self._drain(key), name=f"outbox {key}")
        return fresh

    async def shutdown(self, grace_seconds: float = 10.0) -> None:
        """Finish the messages being sent now; hand queued ones back for the next start."""
        self._stopping = True
        tasks = list(self._chat_tasks.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace_seconds)
            for task in late:
                task.cancel()
        leftovers = [d for queue in self._queues.values() for d in queue]
        if leftovers:
            async with self.sessions.begin() as session:
                for delivery in leftovers:
                    await outbox_store.reschedule(
                        session,
                        delivery.id,
                        at=self.clock.now(),
                        error="worker stopped",
                        count_attempt=False,
                    )
        self._queues.clear()
        self._queued_ids.clear()

    async def _drain(self, key: tuple[str, str]) -> None:
        queue = self._queues[key]
        try:
            while queue and not self._stopping:
                delivery = queue[0]
                pause = await self._deliver_one(delivery)
                queue.popleft()
                self._queued_ids.discard(delivery.id)
                if pause is not None:  # the chat is rate limited or gone: settle the rest
                    rest = [delivery, *queue] if pause.include_current else list(queue)
                    queue.clear()
                    self._queued_ids.difference_update(d.id for d in rest)
                    await pause.settle(rest)
        except Exception:
            # Forget the chat's rows here; their leases run out and a later claim (ours or
            # another process's) takes them again. Remembering them would block that.
            log.exception("delivery to %s failed unexpectedly; rows will be retried", key)
            self._queued_ids.difference_update(d.id for d in queue)
            queue.clear()
        finally:
            self._chat_tasks.pop(key, None)
            if not queue:
                self._queues.pop(key, None)

    async def _deliver_one(self, delivery: outbox_store.Delivery) -> _Pause | None:
        """Send one row and record its outcome; a _Pause stops this chat's queue."""
        sender = self.senders[delivery.platform]
        limiters = self._limiters[delivery.platform]
        async with limiters.slot(delivery.chat_id, sender.is_group_chat(delivery.chat_id)):
            # Committed before the request: if this process dies from here on, the row is
            # marked uncertain instead of being sent a second time (see storage/outbox.py).
            async with self.sessions.begin() as session:
                still_ours = await outbox_store.start_attempt(
                    session,
                    delivery.id,
                    owner=self.owner,
                    now=self.clock.now(),
                    lease=self.policy.lease,
                )
            if not still_ours:
                return None
            try:
                message_id = await sender.deliver(
                    delivery.chat_id, delivery.message, key=f"outbox-{delivery.id}"
                )
            except Exception as exc:  # classified below, once the place is given back
                failure: Exception | None = exc
            else:
                failure = None
        if failure is None:
            async with self.sessions.begin() as session:
                await outbox_store.mark_sent(
                    session, delivery.id, now=self.clock.now(), platform_message_id=message_id
                )
            return None
        return await self._failed(delivery, failure)

    async def _failed(self, delivery: outbox_store.Delivery, failure: Exception) -> _Pause | None:
        """Record a failed request; a _Pause stops this chat's queue.

        The error text is stored and logged redacted: client errors quote URLs, and a Bot
        API URL carries the token.
        """
        error = redact(str(failure))
        match failure:
            case RetryLater(seconds=seconds):
                return _Pause(True, partial(self._release, seconds=seconds, error=error))
            case RecipientUnreachable():
                await self._unreachable([delivery], error=error)
                return _Pause(False, partial(self._unreachable, error=error))
            case ChatMoved(new_chat_id=new_chat_id):
                moved = partial(
                    self._moved,
                    platform=delivery.platform,
                    old_chat_id=delivery.chat_id,
                    new=new_chat_id,
                )
                return _Pause(True, moved)
            case TransientFailure():
                await self._retry_or_fail(delivery, error)
            case PermanentFailure():
                await self._finish(delivery.id, OutboxStatus.FAILED, error)
            case _:  # an adapter bug must not stop the worker
                log.error(
                    "unexpected delivery error for outbox row %s", delivery.id, exc_info=failure
                )
                await self._retry_or_fail(delivery, f"{type(failure).__name__}: {error}")
        return None

    async def _release(
        self, rows: list[outbox_store.Delivery], *, seconds: float, error: str
    ) -> None:
        """429: hand this chat's rows back, due after retry_after."""
        if not rows:
            return
        at = self.clock.now() + timedelta(seconds=max(seconds, 0.0))
        log.warning("rate limited on chat %s: retry in %.1fs", rows[0].chat_id, seconds)
        async with self.sessions.begin() as session:
            for row in rows:
                await outbox_store.reschedule(
                    session, row.id, at=at, error=error, count_attempt=False
                )

    async def _unreachable(self, rows: list[outbox_store.Delivery], *, error: str) -> None:
        if not rows:
            return
        log.warning("chat %s is unreachable: %s", rows[0].chat_id, error)
        now = self.clock.now()
        async with self.sessions.begin() as session:
            personal = [r for r in rows if r.user_id is not None]
            for user_id in {r.user_id for r in personal}:
                ids = [r.id for r in personal if r.user_id == user_id]
                await outbox_store.park_for_dm(
                    session, ids, user_id=user_id, platform=rows[0].platform, now=now
                )
            for row in rows:
                if row.user_id is None:
                    await outbox_store.mark_final(
                        session, row.id, status=OutboxStatus.UNREACHABLE, error=error
                    )

    async def _moved(
        self, rows: list[outbox_store.Delivery], *, platform: str, old_chat_id: str, new: str
    ) -> None:
        log.info("chat %s moved to %s; following it", old_chat_id, new)
        async with self.sessions.begin() as session:
            await move_chat(session, platform, old_chat_id, new)
            for row in rows:
                await outbox_store.reschedule(
                    session,
                    row.id,
                    at=self.clock.now(),
                    error=f"chat moved to {new}",
                    count_attempt=False,
                )

    async def _retry_or_fail(self, delivery: outbox_store.Delivery, error: str) -> None:
        attempt = delivery.attempts + 1
        if attempt >= self.policy.max_attempts:
            log.error(
                "giving up on outbox row %s after %d attempts: %s", delivery.id, attempt, error
            )
            await self._finish(delivery.id, OutboxStatus.FAILED, error)
            return
        delay = backoff_seconds(attempt, self.policy, self._jitter)
        async with self.sessions.begin() as session:
            await outbox_store.reschedule(
                session,
                delivery.id,
                at=self.clock.now() + timedelta(seconds=delay),
                error=error,
                count_attempt=True,
            )

    async def _finish(self, delivery_id: int, status: OutboxStatus, error: str) -> None:
        async with self.sessions.begin() as session:
            await outbox_store.mark_final(session, delivery_id, status=status, error=error)
