"""The delivery worker: drains the outbox within each platform's rate limits.

Chats are served concurrently, each in order, so one slow group (20 messages a minute)
never holds up direct messages to others. Direct replies to commands never pass through
here; the worker keeps its global rate below the platform's ceiling to leave them room.

A platform that fails most requests is waited out, not turned into failures: its circuit
breaker (bot/outbox/breaker.py) pauses its delivery, everything stays queued in order, a
probe asks now and then, and delivery resumes when it answers. Only a message's own errors
count as its attempts. Admins hear of a long outage and of its end (bot/core/platform_outage.py).
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from aiolimiter import AsyncLimiter

from bot.core.clock import Clock
from bot.core.enums import OutboxStatus
from bot.core.messages import EDIT_MESSAGE_ID
from bot.core.outage_log import OutageLog
from bot.core.platform_outage import Episode, PlatformNotice
from bot.core.redact import redact
from bot.outbox.breaker import BreakerPolicy, BreakerState, Change, CircuitBreaker
from bot.outbox.pacing import SendWindow
from bot.outbox.ports import (
    ChatMoved,
    DeliveryError,
    DeliveryLimits,
    MaybeDelivered,
    OwnPace,
    PermanentFailure,
    RecipientUnreachable,
    RetryLater,
    Sender,
    TransientFailure,
)
from storage import outbox as outbox_store
from storage.db import SessionFactory, is_unavailable
from storage.people import move_chat

log = logging.getLogger(__name__)
T = TypeVar("T")
# The queue key of a batching platform's rows (all chats together; no chat id is empty).
BATCH_QUEUE = ""


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
    # Admins are told when a platform has been unreachable this long (and when it is back).
    outage_notice_after: timedelta = timedelta(minutes=5)
    # A sender with `deliver_many` (e-mail) gets rows in chunks, each with one commit of
    # its attempts (and the chunk before's results): at most this many, and at most what
    # its rate allows in `batch_span_seconds` — a crash leaves at most one chunk uncertain.
    # Each commit cost the SQLite outbox ~2.7 ms: 50 rather than 20 a chunk took
    # bench/email_delivery.py from 838-848 to 902-911 mails/s (PostgreSQL 650 to 847).
    batch_max: int = 50
    batch_span_seconds: float = 0.05


# The chunk after the one being sent, and the task waiting for its pacing.
_Ahead = tuple[list[outbox_store.Delivery], "asyncio.Task[AsyncExitStack]"]


@dataclass(frozen=True, slots=True)
class _Pause:
    """A chat cannot take more messages now; `settle` decides what happens to the rest."""

    include_current: bool
    settle: Callable[[list[outbox_store.Delivery]], Awaitable[None]]


class _Turn:
    """A serial sender's one-at-a-time lock, as held by one row (or no lock at all)."""

    __slots__ = ("_held", "_lock")

    def __init__(self, lock: asyncio.Lock | None) -> None:
        self._lock = lock
        self._held = False

    async def take(self) -> None:
        if self._lock is not None:
            await self._lock.acquire()
            self._held = True

    def release(self) -> None:
        if self._held and self._lock is not None:
            self._held = False
            self._lock.release()


def backoff_seconds(attempt: int, policy: WorkerPolicy, jitter: Callable[[], float]) -> float:
    """Exponential backoff with jitter: 2 s, 4 s, 8 s … capped at an hour."""
    delay = min(policy.backoff_base_seconds * 2 ** max(attempt - 1, 0), policy.backoff_max_seconds)
    return delay * (0.8 + 0.4 * jitter())


def _capped(limits: DeliveryLimits, global_per_second: float | None) -> DeliveryLimits:
    if global_per_second is None or global_per_second >= limits.global_per_second:
        return limits
    return replace(limits, global_per_second=global_per_second)


class _PlatformLimiters:
    """What a send waits for: a chat's interval since its previous answer (a per-minute
    one for group chats), an aiolimiter bucket that spaces all requests evenly, and the
    sliding windows that hold the platform's limits however requests bunch on the way
    (bot/outbox/pacing.py)."""

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
        self._max_chats = max_chats
        self._last_done: OrderedDict[str, float] = OrderedDict()

    @asynccontextmanager
    async def slot(self, chat_id: str, is_group: bool) -> AsyncIterator[None]:
        """Wait for every limit, then hold the place until the request is answered.

        All waiting happens here, before the caller commits its attempt: a process killed
        while waiting has promised nothing, and its message is simply sent by the next one.
        A chat's interval counts from the answer to its previous request, so however fast
        the next commit is, the platform never sees two requests closer than that (a
        bucket per chat, spacing requests from their start, added nothing to this but the
        cost of one limiter per address). One task drains a chat, so this needs no lock;
        the chat waits before the global bucket, which would otherwise stand unused.
        """
        async with self.slots([(chat_id, is_group)]):
            yield

    @asynccontextmanager
    async def slots(self, chats: Sequence[tuple[str, bool]]) -> AsyncIterator[None]:
        """Places for the chats of one chunk (chat id, is a group), waited for in turn as
        `slot` describes and held together until the chunk is answered: one context
        instead of one per mail. A wait stopped halfway gives back what it had taken."""
        taken: list[str] = []
        try:
            for chat_id, is_group in chats:
                await self._take(chat_id, is_group)
                taken.append(chat_id)
            yield
        finally:
            now = asyncio.get_running_loop().time()
            for chat_id in taken:
                self._give_back(chat_id, now)

    async def _take(self, chat_id: str, is_group: bool) -> None:
        """Wait for the chat's interval and the platform's pacing, then take a place in
        its windows: all of them, or (cancelled while waiting) none."""
        gap = 1.0 / self.limits.per_chat_per_second
        if is_group:
            gap = max(gap, 60.0 / self.limits.per_group_per_minute)
        loop = asyncio.get_running_loop()
        last = self._last_done.get(chat_id)
        if last is not None and (wait := last + gap - loop.time()) > 0:
            await asyncio.sleep(wait)
        await self.global_limiter.acquire()
        await self.window.take()
        if self.ceiling is not None:
            try:
                await self.ceiling.take(self._replies)
            except BaseException:
                self.window.give_back(loop.time())
                raise

    def _give_back(self, chat_id: str, now: float) -> None:
        """The request is answered (or failed): its places go back, and the chat's
        interval counts from now."""
        self.window.give_back(now)
        if self.ceiling is not None:
            self.ceiling.give_back(now)
        self._last_done[chat_id] = now
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
        breaker: BreakerPolicy | None = None,
        notify: Callable[[PlatformNotice], Awaitable[None]] | None = None,
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
        # Senders that send one request at a time (`serial`, e.g. SMTP over one connection):
        # one row of theirs is attempted at a time, from the committed attempt to its
        # record, so a crash leaves at most one row in flight (uncertain) instead of every
        # row that had committed its attempt and waited for the connection.
        self._serial = {
            n: asyncio.Lock() for n, s in self.senders.items() if getattr(s, "serial", False)
        }
        self._batching = frozenset(n for n, s in self.senders.items() if hasattr(s, "deliver_many"))
        self._wake = asyncio.Event()
        self._queues: dict[tuple[str, str], deque[outbox_store.Delivery]] = {}
        self._chat_tasks: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._queued_ids: set[int] = set()
        self._stopping = False
        self._database = OutageLog(
            log,
            "the outbox",
            f"retrying every {self.policy.poll_seconds:.1f}s",
            self.policy.outage_summary,
        )
        self._breakers = {name: CircuitBreaker(breaker) for name in self.senders}
        self._probers = frozenset(n for n, s in self.senders.items() if hasattr(s, "probe"))
        self._probes: dict[str, asyncio.Task[None]] = {}
        self._episodes: dict[str, Episode] = {}
        # Attempts counted per platform, recently: given back if an outage turns out to
        # have caused them (the breaker opens).
        self._counted: dict[str, deque[tuple[datetime, int]]] = {n: deque() for n in senders}
        self._refunds: set[str] = set()
        self._notify = notify

    def breaker_state(self, platform: str) -> BreakerState:
        """Whether `platform`'s delivery runs (closed), is paused (open) or probing."""
        return self._breakers[platform].state(self.clock.now())

    def set_limits(self, platform: str, limits: DeliveryLimits) -> None:
        """Replace a platform's pacing (e.g. once a homeserver's real limits are known)."""
        self._limiters[platform] = _PlatformLimiters(limits, self.senders[platform].replies)

    def wake(self) -> None:
        """Something was enqueued: look now instead of at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        log.info("delivery worker %s started for %s", self.owner, ", ".join(self.senders))
        while not stop.is_set():
            await self._watch_platforms()
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
        for probe in self._probes.values():
            probe.cancel()
        await self.shutdown()
        log.info("delivery worker %s stopped", self.owner)

    def _claim_failed(self, error: Exception) -> None:
        """The database is down: a traceback once, then a line at most every few minutes.

        A traceback on every poll (once a second) buried everything else in the log.
        """
        self._database.failed(self.clock.now(), error)

    def _claim_worked(self) -> None:
        self._database.worked()

    async def run_once(self) -> int:
        """Claim one batch and wait until every chat queue is drained (for tests and tools);
        probes and outage notices are looked after before and after, as `run` does."""
        await self._watch_platforms()
        claimed = await self.claim()
        while self._chat_tasks:
            await asyncio.gather(*list(self._chat_tasks.values()))
        if self._probes:
            await asyncio.gather(*list(self._probes.values()))
        await self._watch_platforms()
        return claimed

    async def claim(self) -> int:
        """Claim due rows and hand them to per-chat queues; returns how many were new.

        Each chat is drained by its own task, so a group limited to 20 messages a minute
        never holds up direct messages to others, across batches too.
        """
        now = self.clock.now()
        full = self._full()
        if full and full.issuperset(self.senders):
            return 0  # every platform has a batch waiting in memory: not even a query
        async with self.sessions.begin() as session:
            expired = await outbox_store.expire_outlived(session, now=now)
            claimed = await outbox_store.claim_due(
                session,
                owner=self.owner,
                now=now,
                lease=self.policy.lease,
                limit=self.policy.batch_size,
                idempotent=self._idempotent,
                skip_platforms=self._paused(now) | full,
            )
        for platform, count in expired.items():
            log.warning("%d messages on %s expired unsent (no longer useful)", count, platform)
            if (episode := self._episodes.get(platform)) is not None:
                episode.count("expired", count)
        fresh = 0
        for delivery in claimed:
            if delivery.id in self._queued_ids:
                continue  # our own lease ran out while it waited in a slow chat's queue
            if delivery.platform not in self.senders:
                await self._finish(delivery.id, OutboxStatus.FAILED, "no adapter for this platform")
                continue
            batched = self._chunk_size(delivery.platform) > 1
            key = (delivery.platform, BATCH_QUEUE if batched else delivery.chat_id)
            self._queues.setdefault(key, deque()).append(delivery)
            self._queued_ids.add(delivery.id)
            fresh += 1
            if key not in self._chat_tasks:
                drain = self._drain_batches(key) if batched else self._drain(key)
                self._chat_tasks[key] = asyncio.create_task(drain, name=f"outbox {key}")
        return fresh

    def _full(self) -> frozenset[str]:
        """Batching platforms with a claim's worth of rows still queued here: no more are
        claimed for them until it runs low (`_drain_batches` wakes the loop then).

        Claiming on at every poll leased the whole backlog to this process (none left for
        another one, all of it waiting for a lease after a crash) and, on SQLite, ran the
        claim's queries on the event loop between every few mails."""
        return frozenset(
            platform
            for platform in self._batching
            if len(self._queues.get((platform, BATCH_QUEUE), ())) >= self.policy.batch_size
        )

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
                    await self._persisting(partial(pause.settle, rest))
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

    def _chunk_size(self, platform: str) -> int:
        """How many rows of `platform` go out together (1: one at a time)."""
        if platform not in self._batching:
            return 1
        per_second = self._limiters[platform].limits.global_per_second
        return max(1, min(self.policy.batch_max, int(per_second * self.policy.batch_span_seconds)))

    async def _drain_batches(self, key: tuple[str, str]) -> None:
        """A batching platform's rows, in chunks of different chats (each chat in order).

        While a chunk is sent, the next one already waits for its pacing (`_pace_ahead`):
        done one after the other, the connection stood idle for that wait, a fifth of the
        time at a high MAIL_PER_MINUTE. Its attempts are still committed only after the
        current chunk's answers, so a crash leaves at most one chunk uncertain.

        A chunk's sent rows are recorded in the commit of the next chunk's attempts when
        that chunk is paced ahead (one commit a chunk instead of two), else at once.
        """
        queue = self._queues[key]
        ahead: _Ahead | None = None
        failed = False
        unrecorded: list[tuple[int, str | None]] = []
        try:
            while not self._stopping:
                paced: AsyncExitStack | None = None
                if ahead is not None:
                    chunk, pacing = ahead
                    ahead = None
                    paced = await pacing
                elif queue:
                    chunk = self._take_chunk(queue, key[0], frozenset())
                else:
                    break
                ahead = self._pace_ahead(queue, chunk)
                try:
                    await self._deliver_chunk(chunk, queue, paced, unrecorded)
                finally:
                    self._queued_ids.difference_update(d.id for d in chunk)
                if ahead is None:
                    await self._record_sent(unrecorded)
        except Exception:
            failed = True
            log.exception("delivery to %s failed unexpectedly; rows will be retried", key)
            self._queued_ids.difference_update(d.id for d in queue)
            queue.clear()
        finally:
            try:
                await self._record_sent(unrecorded)
            except Exception:  # the rows stay `sending` and are reported uncertain
                log.exception("recording %d sent rows on %s failed", len(unrecorded), key)
            if ahead is not None:
                await self._drop_ahead(ahead, queue, forget=failed)
            self._chat_tasks.pop(key, None)
            if not queue:
                self._queues.pop(key, None)

    def _take_chunk(
        self, queue: deque[outbox_store.Delivery], platform: str, busy: frozenset[str]
    ) -> list[outbox_store.Delivery]:
        """The next rows of the queue, of different chats and none of `busy` (the chats of
        the chunk being sent), in queue order; taken out of the queue."""
        chunk: list[outbox_store.Delivery] = []
        chats = set(busy)
        size = self._chunk_size(platform)
        for delivery in queue:
            if delivery.chat_id in chats or len(chunk) >= size:
                break
            chunk.append(delivery)
            chats.add(delivery.chat_id)
        for _ in chunk:
            queue.popleft()
        if len(queue) < self.policy.batch_size <= len(queue) + len(chunk):
            self._wake.set()  # running low: claim the next rows (see `_full`)
        return chunk

    def _pace_ahead(
        self, queue: deque[outbox_store.Delivery], current: list[outbox_store.Delivery]
    ) -> _Ahead | None:
        """Take the chunk after `current` and start waiting for its pacing now. Only between
        chunks of several rows with the platform working (else rows go one at a time), and
        never a chat of `current`: if one of its rows fails, its later rows must still be in
        the queue for `_behind`."""
        platform = current[0].platform
        if (
            len(current) < 2
            or self._stopping
            or self._breakers[platform].state(self.clock.now()) is not BreakerState.CLOSED
        ):
            return None
        following = self._take_chunk(queue, platform, frozenset(d.chat_id for d in current))
        if not following:
            return None
        return following, asyncio.create_task(self._paced(following))

    async def _drop_ahead(
        self, ahead: _Ahead, queue: deque[outbox_store.Delivery], *, forget: bool
    ) -> None:
        """The drain stops with a chunk waiting for its pacing: give the places back and
        put its rows back at the front of the queue (`forget`: drop them with the queue)."""
        rows, pacing = ahead
        pacing.cancel()
        try:
            paced = await pacing
        except BaseException:  # cancelled while waiting: it gave its places back itself
            paced = None
        if paced is not None:
            await paced.aclose()
        if forget:
            self._queued_ids.difference_update(d.id for d in rows)
        else:
            queue.extendleft(reversed(rows))

    async def _paced(self, chunk: list[outbox_store.Delivery]) -> AsyncExitStack:
        """Wait for every row's pacing (`_PlatformLimiters.slots`); the places are held
        until the returned stack is closed."""
        sender = self.senders[chunk[0].platform]
        limiters = self._limiters[chunk[0].platform]
        held = AsyncExitStack()
        chats = [(d.chat_id, sender.is_group_chat(d.chat_id)) for d in chunk]
        await held.enter_async_context(limiters.slots(chats))
        return held

    def _behind(
        self, queue: deque[outbox_store.Delivery], chat_id: str
    ) -> list[outbox_store.Delivery]:
        """Take a chat's later rows out of a batch queue (its first one failed)."""
        rest = [d for d in queue if d.chat_id == chat_id]
        if rest:
            kept = [d for d in queue if d.chat_id != chat_id]
            queue.clear()
            queue.extend(kept)
            self._queued_ids.difference_update(d.id for d in rest)
        return rest

    async def _deliver_chunk(
        self,
        chunk: list[outbox_store.Delivery],
        queue: deque[outbox_store.Delivery],
        paced: AsyncExitStack | None,
        unrecorded: list[tuple[int, str | None]],
    ) -> None:
        """Send rows of different chats together: each waits for its pacing, then one commit
        records all attempts (and `unrecorded`, the sent rows of the chunk before), the
        sender sends them in turn, and the sent rows join `unrecorded` for the next commit.

        Everything `_deliver_one` guarantees holds per row (pacing, breaker, never twice,
        uncertain reported); the price is that a crash leaves the whole chunk uncertain,
        which is why chunks span at most `batch_span_seconds` of the platform's rate.
        """
        platform = chunk[0].platform
        breaker = self._breakers[platform]
        if len(chunk) == 1 or breaker.state(self.clock.now()) is not BreakerState.CLOSED:
            await self._record_sent(unrecorded)
            if paced is not None:  # waited for ahead; each row now waits for its own
                await paced.aclose()
            for delivery in chunk:  # one at a time, probes and all
                pause = await self._deliver_one(delivery)
                if pause is not None:
                    rest = self._behind(queue, delivery.chat_id)
                    rows = [delivery, *rest] if pause.include_current else rest
                    await self._persisting(partial(pause.settle, rows))
            return
        sender = self.senders[platform]
        turn = _Turn(self._serial.get(platform))
        try:
            async with paced if paced is not None else await self._paced(chunk):
                await turn.take()
                try:
                    async with self.sessions.begin() as session:
                        await outbox_store.mark_sent_many(session, unrecorded, now=self.clock.now())
                        ours = await outbox_store.start_attempts(
                            session,
                            [d.id for d in chunk],
                            owner=self.owner,
                            now=self.clock.now(),
                            lease=self.policy.lease,
                        )
                    unrecorded.clear()
                except Exception as exc:
                    if not is_unavailable(exc):
                        raise
                    # Nothing was sent: hand the rows (and their chats' later ones) back.
                    self._database.failed(self.clock.now(), exc)
                    await self._record_sent(unrecorded)
                    rows = [r for d in chunk for r in (d, *self._behind(queue, d.chat_id))]
                    await self._persisting(partial(self._hand_back, rows))
                    return
                sendable = [d for d in chunk if d.id in ours]
                results = await sender.deliver_many(  # type: ignore[attr-defined]
                    [(d.chat_id, d.message, f"outbox-{d.id}") for d in sendable]
                )
            sent: list[tuple[int, str | None]] = []
            failed: list[tuple[outbox_store.Delivery, Exception]] = []
            for delivery, result in zip(sendable, results, strict=True):
                if isinstance(result, Exception):
                    failed.append((delivery, result))
                else:
                    sent.append((delivery.id, result))
                platform_failed = isinstance(result, TransientFailure | MaybeDelivered) or (
                    isinstance(result, Exception) and not isinstance(result, DeliveryError)
                )
                await self._outcome(platform, ok=not platform_failed, probe=False)
            unrecorded.extend(sent)
            if sent and (episode := self._episodes.get(platform)) is not None:
                episode.count("late", len(sent))
            for delivery, failure in failed:
                pause = await self._persisting(partial(self._failed, delivery, failure))
                if pause is not None:
                    rest = self._behind(queue, delivery.chat_id)
                    rows = [delivery, *rest] if pause.include_current else rest
                    await self._persisting(partial(pause.settle, rows))
        finally:
            turn.release()

    async def _record_sent(self, unrecorded: list[tuple[int, str | None]]) -> None:
        """Commit sent rows not yet recorded (waiting for the database if it is down)."""
        if unrecorded:
            await self._persisting(partial(self._sent_many, list(unrecorded)))
            unrecorded.clear()

    async def _sent_many(self, sent: list[tuple[int, str | None]]) -> None:
        async with self.sessions.begin() as session:
            await outbox_store.mark_sent_many(session, sent, now=self.clock.now())

    async def _deliver_one(self, delivery: outbox_store.Delivery) -> _Pause | None:
        """Send one row and record its outcome; a _Pause stops this chat's queue."""
        turn = _Turn(self._serial.get(delivery.platform))
        try:
            return await self._attempt(delivery, turn)
        finally:
            turn.release()

    async def _attempt(self, delivery: outbox_store.Delivery, turn: _Turn) -> _Pause | None:
        """`turn` is taken once the pacing allows the send and given back by the caller
        after the outcome is recorded."""
        sender = self.senders[delivery.platform]
        limiters = self._limiters[delivery.platform]
        breaker = self._breakers[delivery.platform]
        async with limiters.slot(delivery.chat_id, sender.is_group_chat(delivery.chat_id)):
            await turn.take()
            admitted, probe = breaker.admit(self.clock.now())
            if not admitted:  # the platform is down: keep the chat's rows queued, in order
                return _Pause(True, self._hand_back)
            # Committed before the request: if this process dies from here on, the row is
            # marked uncertain instead of being sent a second time (see storage/outbox.py).
            try:
                async with self.sessions.begin() as session:
                    still_ours = await outbox_store.start_attempt(
                        session,
                        delivery.id,
                        owner=self.owner,
                        now=self.clock.now(),
                        lease=self.policy.lease,
                    )
            except Exception as exc:
                breaker.forget_probe(probe)
                if not is_unavailable(exc):
                    raise
                # Nothing was sent; whether the attempt was recorded is unknown. Hand the
                # rows back once the database answers, so they do not turn `uncertain`.
                self._database.failed(self.clock.now(), exc)
                return _Pause(True, self._hand_back)
            except BaseException:
                breaker.forget_probe(probe)
                raise
            if not still_ours:
                breaker.forget_probe(probe)
                return None
            try:
                message_id = await sender.deliver(
                    delivery.chat_id, delivery.message, key=f"outbox-{delivery.id}"
                )
            except Exception as exc:  # classified below, once the place is given back
                failure: Exception | None = exc
            else:
                failure = None
        if self._database_down_in_sender(delivery, failure):
            breaker.forget_probe(probe)  # the platform was not asked, or may be asked again
            return _Pause(True, self._hand_back)
        platform_failed = isinstance(failure, TransientFailure | MaybeDelivered) or (
            failure is not None and not isinstance(failure, DeliveryError)
        )
        await self._outcome(delivery.platform, ok=not platform_failed, probe=probe)
        if failure is None:
            await self._persisting(partial(self._sent, delivery.id, message_id))
            if (episode := self._episodes.get(delivery.platform)) is not None:
                episode.count("late")
            return None
        return await self._persisting(partial(self._failed, delivery, failure))

    def _database_down_in_sender(
        self, delivery: outbox_store.Delivery, failure: Exception | None
    ) -> bool:
        """The sender itself reads the database (Matrix: whose room is this) and it is down.

        That says nothing about the platform (the breaker is not told) nor about the message
        (no attempt counted), and it is the database outage already logged once, not an
        adapter bug with a traceback per row. Only where a repeat is harmless: elsewhere the
        request may have gone out before the error, and the usual rules apply.
        """
        if (
            failure is None
            or isinstance(failure, DeliveryError)
            or not is_unavailable(failure)
            or not self._resend_harmless(delivery)
        ):
            return False
        self._database.failed(self.clock.now(), failure)
        return True

    async def _sent(self, delivery_id: int, message_id: str | None) -> None:
        async with self.sessions.begin() as session:
            await outbox_store.mark_sent(
                session, delivery_id, now=self.clock.now(), platform_message_id=message_id
            )

    async def _persisting(self, step: Callable[[], Awaitable[T]]) -> T:
        """Record what became of a request that went out, waiting for the database if it
        is down: a delivered message whose record was lost would turn `uncertain` (and a
        refused one could no longer be sent). Each step writes the same again if repeated."""
        pause = 0.2
        while True:
            try:
                return await step()
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                self._database.failed(self.clock.now(), exc)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)

    async def _failed(self, delivery: outbox_store.Delivery, failure: Exception) -> _Pause | None:
        """Record a failed request; a _Pause stops this chat's queue.

        The error text is stored and logged redacted: client errors quote URLs, and a Bot
        API URL carries the token.
        """
        error = redact(str(failure))
        match failure:
            case RetryLater(seconds=seconds):
                own = isinstance(failure, OwnPace)
                return _Pause(True, partial(self._release, seconds=seconds, error=error, own=own))
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
            case MaybeDelivered() if self._resend_harmless(delivery):
                return _Pause(True, partial(self._back_off, error=error))  # same key again
            case MaybeDelivered():
                await self._uncertain(delivery, error)
            case TransientFailure():
                return _Pause(True, partial(self._back_off, error=error))
            case PermanentFailure():
                await self._finish(delivery.id, OutboxStatus.FAILED, error)
            case _:  # an adapter bug must not stop the worker
                log.error(
                    "unexpected delivery error for outbox row %s", delivery.id, exc_info=failure
                )
                error = f"{type(failure).__name__}: {error}"
                return _Pause(True, partial(self._back_off, error=error))
        return None

    def _resend_harmless(self, delivery: outbox_store.Delivery) -> bool:
        """The platform shows a repeated request once (Matrix: same transaction id), or the
        message is an edit, which only sets the same text again."""
        return delivery.platform in self._idempotent or EDIT_MESSAGE_ID in delivery.message.extra

    async def _uncertain(self, delivery: outbox_store.Delivery, error: str) -> None:
        """The answer was lost after the request went out: never a copy, admins are told."""
        log.warning(
            "outbox row %s may have been delivered (%s): marked uncertain, not sent again",
            delivery.id,
            error,
        )
        async with self.sessions.begin() as session:
            await outbox_store.mark_uncertain(session, delivery.id, error=error)
        if (episode := self._episodes.get(delivery.platform)) is not None:
            episode.count("unc")

    async def _hand_back(self, rows: list[outbox_store.Delivery]) -> None:
        """The platform is paused: these rows were not sent; queue them as they were."""
        if rows:
            async with self.sessions.begin() as session:
                await outbox_store.hand_back(session, [row.id for row in rows])

    async def _back_off(self, rows: list[outbox_store.Delivery], *, error: str) -> None:
        """The first row failed at the platform's level (not sent, or sent again safely).

        While the platform is paused, every row just waits, due as before (order kept).
        Otherwise the chat's rows wait for the backoff together (so they keep their order);
        the attempt counts against the first row only if the platform works for others.
        """
        if not rows:
            return
        first, rest = rows[0], rows[1:]
        now = self.clock.now()
        breaker = self._breakers[first.platform]
        if breaker.state(now) is not BreakerState.CLOSED:
            async with self.sessions.begin() as session:
                await outbox_store.hand_back(session, [first.id], error=error)
            await self._hand_back(rest)
            return
        counted = breaker.healthy(now)
        attempt = first.attempts + 1
        if counted and attempt >= self.policy.max_attempts:
            log.error("giving up on outbox row %s after %d attempts: %s", first.id, attempt, error)
            await self._finish(first.id, OutboxStatus.FAILED, error)
            await self._hand_back(rest)
            return
        at = now + timedelta(seconds=backoff_seconds(attempt, self.policy, self._jitter))
        if counted:
            recent = self._counted[first.platform]
            while recent and recent[0][0] <= now - breaker.policy.window:
                recent.popleft()
            recent.append((now, first.id))
        async with self.sessions.begin() as session:
            await outbox_store.reschedule(
                session, first.id, at=at, error=error, count_attempt=counted
            )
            for row in rest:
                await outbox_store.reschedule(
                    session,
                    row.id,
                    at=at,
                    error="waiting behind an earlier message",
                    count_attempt=False,
                )

    # --- platform health: breaker, probes, notices --------------------------------------

    def _paused(self, now: datetime) -> frozenset[str]:
        """Platforms whose rows are not claimed now: breaker open, or probing by itself."""
        return frozenset(
            name
            for name, breaker in self._breakers.items()
            if (state := breaker.state(now)) is BreakerState.OPEN
            or (state is BreakerState.HALF_OPEN and name in self._probers)
        )

    async def _outcome(self, platform: str, *, ok: bool, probe: bool) -> None:
        """Tell the platform's breaker how a request went; act on its change."""
        now = self.clock.now()
        match self._breakers[platform].record(now, ok, probe=probe):
            case Change.OPENED:
                log.warning(
                    "%s fails most requests: delivery paused, everything stays queued; "
                    "probing until it answers",
                    platform,
                )
                episode = self._episodes.get(platform)
                if episode is None:
                    self._episodes[platform] = Episode(platform, now)
                else:
                    episode.until = None  # down again before its backlog was sent
                self._refunds.add(platform)  # at the next look, once those writes are done
            case Change.CLOSED:
                await self._platform_back(platform, now)
            case None:
                pass

    async def _give_back_attempts(self, platform: str) -> None:
        """The attempts counted just before the breaker opened were the outage's doing."""
        counted = self._counted[platform]
        breaker = self._breakers[platform]
        since = (breaker.opened_at or self.clock.now()) - breaker.policy.window
        ids = [row_id for at, row_id in counted if at > since]
        counted.clear()
        if ids:
            async with self.sessions.begin() as session:
                await outbox_store.give_back_attempts(session, ids)

    async def _platform_back(self, platform: str, now: datetime) -> None:
        episode = self._episodes.get(platform)
        since = episode.since.isoformat(timespec="seconds") if episode else "?"
        log.warning("%s answers again (down since %s): delivery resumes", platform, since)
        if episode is not None:
            try:
                async with self.sessions() as session:
                    queued = await outbox_store.queued_count(session, platform)
            except Exception:
                queued = 0
            episode.recovered(now, queued)
        self._wake.set()

    async def _probe(self, platform: str) -> None:
        """Ask the platform whether it answers, without sending a message."""
        try:
            await self.senders[platform].probe()  # type: ignore[attr-defined]
        except Exception as exc:
            log.info("%s probe: still failing (%s)", platform, redact(str(exc)))
            ok = isinstance(exc, DeliveryError) and not isinstance(
                exc, TransientFailure | MaybeDelivered
            )
        else:
            ok = True
        await self._outcome(platform, ok=ok, probe=True)

    async def _watch_platforms(self) -> None:
        """Start due probes, tell admins of a long outage, and of its end once its backlog
        is sent (never raises: the run loop must go on)."""
        now = self.clock.now()
        for name in list(self._refunds):
            try:
                await self._give_back_attempts(name)
                self._refunds.discard(name)
            except Exception as exc:
                if is_unavailable(exc):
                    self._database.failed(self.clock.now(), exc)
                else:
                    log.warning("could not give back %s's attempts; retrying", name, exc_info=True)
        for name, breaker in self._breakers.items():
            if (
                name in self._probers
                and name not in self._probes
                and breaker.state(now) is BreakerState.HALF_OPEN
                and breaker.admit(now)[1]
            ):
                task = asyncio.create_task(self._probe(name), name=f"probe {name}")
                self._probes[name] = task
                task.add_done_callback(lambda _t, name=name: self._probes.pop(name, None))
        for name, episode in list(self._episodes.items()):
            try:
                notice = episode.unreachable_notice(now, self.policy.outage_notice_after)
                if notice is not None:
                    try:
                        await self._tell(notice)
                    except Exception:
                        episode.told = False  # not queued: the next look tries again
                        raise
                if episode.until is None or any(p == name for p, _ in self._queues):
                    continue
                async with self.sessions() as session:
                    if await outbox_store.queued_count(session, name):
                        continue
                if (notice := episode.recovery_notice()) is not None:
                    await self._tell(notice)
                del self._episodes[name]
            except Exception as exc:
                if is_unavailable(exc):  # logged once for all, as for the claims
                    self._database.failed(self.clock.now(), exc)
                else:
                    log.warning("could not check on %s's outage; retrying", name, exc_info=True)

    async def _tell(self, notice: PlatformNotice) -> None:
        if self._notify is None:
            log.warning("platform notice (no admins to tell): %s", notice)
            return
        await self._notify(notice)
        self._wake.set()

    async def _release(
        self, rows: list[outbox_store.Delivery], *, seconds: float, error: str, own: bool = False
    ) -> None:
        """429, or the bot's own pace (`own`): hand this chat's rows back, due after
        retry_after. The log says which: only a 429 means the platform refused anything."""
        if not rows:
            return
        at = self.clock.now() + timedelta(seconds=max(seconds, 0.0))
        if own:
            log.info(
                "chat %s waits for the bot's own pace (nothing refused): next turn in %.1fs",
                rows[0].chat_id,
                seconds,
            )
        else:
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

    async def _finish(self, delivery_id: int, status: OutboxStatus, error: str) -> None:
        async with self.sessions.begin() as session:
            await outbox_store.mark_final(session, delivery_id, status=status, error=error)
