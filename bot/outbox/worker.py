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
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta

from aiolimiter import AsyncLimiter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.clock import Clock
from bot.outbox.ports import (
    DeliveryLimits,
    PermanentFailure,
    RecipientUnreachable,
    RetryLater,
    Sender,
    TransientFailure,
)
from storage import outbox as repo
from storage.models import OutboxStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerPolicy:
    poll_seconds: float = 1.0
    batch_size: int = 100
    lease: timedelta = timedelta(seconds=120)
    max_attempts: int = 8
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 3600.0


def backoff_seconds(attempt: int, policy: WorkerPolicy, jitter: Callable[[], float]) -> float:
    """Exponential backoff with jitter: 2 s, 4 s, 8 s … capped at an hour."""
    delay = min(policy.backoff_base_seconds * 2 ** max(attempt - 1, 0), policy.backoff_max_seconds)
    return delay * (0.8 + 0.4 * jitter())


def _capped(limits: DeliveryLimits, global_per_second: float | None) -> DeliveryLimits:
    if global_per_second is None or global_per_second >= limits.global_per_second:
        return limits
    return replace(limits, global_per_second=global_per_second)


class _PlatformLimiters:
    """aiolimiter buckets: one global, one per chat, one per-minute bucket per group chat."""

    def __init__(self, limits: DeliveryLimits, max_chats: int = 10_000) -> None:
        self.limits = limits
        self.global_limiter = AsyncLimiter(limits.global_per_second, 1.0)
        self._per_chat: OrderedDict[str, AsyncLimiter] = OrderedDict()
        self._per_group: OrderedDict[str, AsyncLimiter] = OrderedDict()
        self._max_chats = max_chats

    def _bucket(self, table: OrderedDict[str, AsyncLimiter], key: str, rate: float, period: float):
        limiter = table.get(key)
        if limiter is None:
            limiter = table[key] = AsyncLimiter(rate, period)
            if len(table) > self._max_chats:
                table.popitem(last=False)
        else:
            table.move_to_end(key)
        return limiter

    async def acquire(self, chat_id: str, is_group: bool) -> None:
        per_second = self.limits.per_chat_per_second
        await self._bucket(self._per_chat, chat_id, per_second, 1.0).acquire()
        if is_group:
            per_minute = self.limits.per_group_per_minute
            await self._bucket(self._per_group, chat_id, per_minute, 60.0).acquire()
        await self.global_limiter.acquire()


class DeliveryWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
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
            name: _PlatformLimiters(_capped(s.limits, global_per_second))
            for name, s in self.senders.items()
        }
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something was enqueued: look now instead of at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        log.info("delivery worker %s started for %s", self.owner, ", ".join(self.senders))
        while not stop.is_set():
            try:
                processed = await self.run_once()
            except Exception:
                log.exception("delivery run failed; retrying after the poll interval")
                processed = 0
            if processed:
                continue
            self._wake.clear()
            waiters = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())}
            _, pending = await asyncio.wait(
                waiters, timeout=self.policy.poll_seconds, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
        log.info("delivery worker %s stopped", self.owner)

    async def run_once(self) -> int:
        """Claim one batch and deliver it; returns how many rows were handled."""
        async with self.sessions.begin() as session:
            claimed = await repo.claim_due(
                session,
                owner=self.owner,
                now=self.clock.now(),
                lease=self.policy.lease,
                limit=self.policy.batch_size,
            )
        deliverable = [d for d in claimed if d.platform in self.senders]
        for stranger in (d for d in claimed if d.platform not in self.senders):
            await self._finish(stranger.id, OutboxStatus.FAILED, "no adapter for this platform")
        by_chat: dict[tuple[str, str], list[repo.Delivery]] = defaultdict(list)
        for delivery in deliverable:
            by_chat[(delivery.platform, delivery.chat_id)].append(delivery)
        await asyncio.gather(*(self._deliver_chat(rows) for rows in by_chat.values()))
        return len(claimed)

    async def _deliver_chat(self, rows: list[repo.Delivery]) -> None:
        sender = self.senders[rows[0].platform]
        limiters = self._limiters[rows[0].platform]
        is_group = sender.is_group_chat(rows[0].chat_id)
        for index, delivery in enumerate(rows):
            async with self.sessions.begin() as session:
                still_ours = await repo.renew_lease(
                    session,
                    delivery.id,
                    owner=self.owner,
                    now=self.clock.now(),
                    lease=self.policy.lease,
                )
            if not still_ours:
                continue
            await limiters.acquire(delivery.chat_id, is_group)
            try:
                message_id = await sender.deliver(delivery.chat_id, delivery.message)
            except RetryLater as exc:
                await self._release(rows[index:], exc.seconds, str(exc))
                return
            except RecipientUnreachable as exc:
                await self._unreachable(rows[index:], str(exc))
                return
            except TransientFailure as exc:
                await self._retry_or_fail(delivery, str(exc))
                continue
            except PermanentFailure as exc:
                await self._finish(delivery.id, OutboxStatus.FAILED, str(exc))
                continue
            except Exception as exc:  # an adapter bug must not stop the worker
                log.exception("unexpected delivery error for outbox row %s", delivery.id)
                await self._retry_or_fail(delivery, f"{type(exc).__name__}: {exc}")
                continue
            async with self.sessions.begin() as session:
                await repo.mark_sent(
                    session, delivery.id, now=self.clock.now(), platform_message_id=message_id
                )

    async def _release(self, rows: list[repo.Delivery], seconds: float, error: str) -> None:
        """429: hand the rest of this chat's rows back, due after retry_after."""
        at = self.clock.now() + timedelta(seconds=max(seconds, 0.0))
        log.warning("rate limited on chat %s: retry in %.1fs", rows[0].chat_id, seconds)
        async with self.sessions.begin() as session:
            for row in rows:
                await repo.reschedule(session, row.id, at=at, error=error, count_attempt=False)

    async def _unreachable(self, rows: list[repo.Delivery], error: str) -> None:
        log.warning("chat %s is unreachable: %s", rows[0].chat_id, error)
        now = self.clock.now()
        async with self.sessions.begin() as session:
            personal = [r for r in rows if r.user_id is not None]
            for user_id in {r.user_id for r in personal}:
                ids = [r.id for r in personal if r.user_id == user_id]
                await repo.park_for_dm(
                    session, ids, user_id=user_id, platform=rows[0].platform, now=now
                )
            for row in rows:
                if row.user_id is None:
                    await repo.mark_final(
                        session, row.id, status=OutboxStatus.UNREACHABLE, error=error
                    )

    async def _retry_or_fail(self, delivery: repo.Delivery, error: str) -> None:
        attempt = delivery.attempts + 1
        if attempt >= self.policy.max_attempts:
            log.error(
                "giving up on outbox row %s after %d attempts: %s", delivery.id, attempt, error
            )
            await self._finish(delivery.id, OutboxStatus.FAILED, error)
            return
        delay = backoff_seconds(attempt, self.policy, self._jitter)
        async with self.sessions.begin() as session:
            await repo.reschedule(
                session,
                delivery.id,
                at=self.clock.now() + timedelta(seconds=delay),
                error=error,
                count_attempt=True,
            )

    async def _finish(self, delivery_id: int, status: OutboxStatus, error: str) -> None:
        async with self.sessions.begin() as session:
            await repo.mark_final(session, delivery_id, status=status, error=error)
