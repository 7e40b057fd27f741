"""Sliding-window pacing shared by the delivery worker and the adapters' direct replies.

A platform like Telegram counts requests when they arrive: at most 30 in any second. A
sender can only count what it knows: a request is "in flight" from the moment it is
granted until its answer is back, and counted at that completion afterwards. Every
request that arrives within a second was granted before that second ended and answered
after it began, so counting in-flight requests plus those answered within the last second
never undercounts – however the event loop or the network bunches requests on the way.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager

_POLL = 0.005  # everything in the window is still in flight: look again shortly


class SendWindow:
    """At most `limit` requests in any trailing `period`, counted as described above.

    Windows can be read together (`others`): the worker counts the adapter's direct
    replies, which never wait, against the platform's overall ceiling.
    """

    def __init__(self, limit: int, period: float = 1.0) -> None:
        self.limit = max(1, limit)
        self.period = period
        self._done: deque[float] = deque()
        self._in_flight = 0

    def _recent(self, now: float) -> deque[float]:
        while self._done and self._done[0] <= now - self.period:
            self._done.popleft()
        return self._done

    def delay(self, now: float, others: Iterable[SendWindow] = ()) -> float:
        """Seconds to wait before one more request may start (0: now)."""
        done: Sequence[float]
        if others:
            windows = (self, *others)
            done = sorted(t for w in windows for t in w._recent(now))
            in_flight = sum(w._in_flight for w in windows)
        else:  # answers are recorded in time order: one window is sorted already
            done, in_flight = self._recent(now), self._in_flight
        excess = len(done) + in_flight - self.limit  # this many must leave the window first
        if excess < 0:
            return 0.0
        if excess < len(done):
            return max(done[excess] + self.period - now, 0.0)
        return _POLL

    def record(self, now: float) -> None:
        """Count a request answered at `now`."""
        self._done.append(now)

    async def take(self, others: tuple[SendWindow, ...] = (), *, wait: bool = True) -> None:
        """Take a place for one request (waiting until the window allows it, unless
        `wait=False`); `give_back` once it is answered or failed."""
        if wait:
            loop = asyncio.get_running_loop()
            for _ in range(100_000):
                pause = self.delay(loop.time(), others)
                if pause <= 0:
                    break
                await asyncio.sleep(pause)
        self._in_flight += 1  # no await since the check: nobody slipped in between

    def give_back(self, now: float) -> None:
        """The request of a place taken is answered (or failed) at `now`."""
        self._in_flight -= 1
        self.record(now)

    @asynccontextmanager
    async def slot(
        self, others: Iterable[SendWindow] = (), *, wait: bool = True
    ) -> AsyncIterator[None]:
        """Hold a place from now until the request is answered (or failed).

        With `wait=False` the request goes at once and is only counted (direct replies).
        """
        await self.take(tuple(others), wait=wait)
        try:
            yield
        finally:
            self.give_back(asyncio.get_running_loop().time())
