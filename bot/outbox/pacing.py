"""Sliding-window pacing shared by the delivery worker and the adapters' direct replies."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable


class SendWindow:
    """At most `limit` events in any trailing `period`, like the platform's own count
    (Telegram: 30 messages in any second).

    The worker's token bucket paces sends but lets its spare token through after a stall;
    with commits that stall and then catch up, 31 requests landed within one second at a
    Telegram-like sliding window and earned 429s. Windows can also be read together
    (`others`): the worker counts the adapter's direct replies, which never wait, against
    the platform's ceiling.
    """

    def __init__(self, limit: int, period: float = 1.0) -> None:
        self.limit = max(1, limit)
        self.period = period
        self._starts: deque[float] = deque()

    def _recent(self, now: float) -> deque[float]:
        while self._starts and self._starts[0] <= now - self.period:
            self._starts.popleft()
        return self._starts

    def delay(self, now: float, others: Iterable[SendWindow] = ()) -> float:
        """Seconds to wait before one more send may start (0: now)."""
        starts = list(self._recent(now))
        for other in others:
            starts += other._recent(now)
        if len(starts) < self.limit:
            return 0.0
        starts.sort()
        return starts[len(starts) - self.limit] + self.period - now

    def record(self, now: float) -> None:
        self._starts.append(now)

    def record_now(self) -> None:
        """Count a send that does not wait (a direct reply)."""
        self.record(asyncio.get_running_loop().time())

    async def wait_turn(self, others: Iterable[SendWindow] = ()) -> None:
        """Sleep until a send fits, then count it; no await between check and count."""
        loop = asyncio.get_running_loop()
        others = tuple(others)
        for _ in range(1000):  # each pass waits for the oldest send to age out
            wait = self.delay(loop.time(), others)
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        self.record(loop.time())
