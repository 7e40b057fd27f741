"""Faults a test injects: Telegram's flood limits (429 with retry_after), failed requests,
requests held back for a while, and a misbehaving platform: answers that come late, a
connection reset mid-response, a malformed answer – each after the request was processed
(the message exists), so the bot cannot know whether it arrived. Faults come one by one
(`fail_next`, `slow_answers`, …), on a schedule of phases, or at random with a seed."""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus

from tests.fake_telegram.protocol import ApiError


@dataclass
class RateLimitConfig:
    """Telegram's documented flood limits; OFF by default so ordinary tests stay fast."""

    enabled: bool = False
    global_per_s: int = 30
    per_chat_per_s: int = 1
    per_group_per_min: int = 20


class FaultKind(StrEnum):
    STATUS = "status"  # an error answer (5xx, 429) before processing: nothing happened
    SLOW = "slow"  # processed, the answer held back `seconds`
    RESET = "reset"  # processed, the connection reset halfway through the answer
    MALFORMED = "malformed"  # processed, the answer is not JSON


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    status: int = 500  # STATUS
    seconds: float = 0.0  # SLOW
    chat_id: int | None = None  # only requests to this chat (one-by-one faults)


@dataclass(frozen=True, slots=True)
class Phase:
    """From `start` to `end` seconds after `schedule()`, each request of `methods` (None:
    every method) gets `fault` with `probability`."""

    start: float
    end: float
    fault: Fault
    probability: float = 1.0
    methods: frozenset[str] | None = None


SEND_METHODS = frozenset({"sendMessage", "sendDocument", "editMessageText"})


class Faults:
    """Fault injection; part of FakeTelegram, which asks before every request it handles."""

    _canonical: Callable[[str], str]  # FakeTelegram: Telegram's spelling of a method name
    _sleep: Callable[[float], Awaitable[None]]  # FakeTelegram: a sleep that stop() ends

    def __init__(self) -> None:
        super().__init__()
        self.limits = RateLimitConfig()
        self._fail: dict[str, list[int]] = {}
        self._delays: dict[str, list[float]] = {}
        self._global_window: deque[float] = deque()
        self._chat_windows: dict[int, deque[float]] = {}
        self._group_windows: dict[int, deque[float]] = {}
        self._after: dict[str, list[Fault]] = {}
        self._phases: list[Phase] = []
        self._phase_start = 0.0
        self._random = random.Random(0)
        # What was done to requests the bot sent: (method, fault) in order.
        self.injected: list[tuple[str, Fault]] = []

    def rate_limits(
        self,
        enabled: bool = True,
        global_per_s: int = 30,
        per_chat_per_s: int = 1,
        per_group_per_min: int = 20,
    ) -> None:
        """Enforce flood limits on send methods (per_chat_per_s applies to every chat,
        per_group_per_min additionally to groups); sliding windows restart on each call."""
        self.limits = RateLimitConfig(enabled, global_per_s, per_chat_per_s, per_group_per_min)
        self._global_window.clear()
        self._chat_windows.clear()
        self._group_windows.clear()

    def fail_next(self, method: str, status_code: int = 500, count: int = 1) -> None:
        """The next ``count`` requests of ``method`` get an ok:false ``status_code`` answer."""
        self._fail.setdefault(self._canonical(method), []).extend([status_code] * count)

    def delay(self, method: str, seconds: float, count: int = 1) -> None:
        """The next ``count`` requests of ``method`` are held ``seconds`` before processing."""
        self._delays.setdefault(self._canonical(method), []).extend([seconds] * count)

    def slow_answers(
        self, method: str, seconds: float, count: int = 1, chat_id: int | None = None
    ) -> None:
        """The next ``count`` requests of ``method`` (to ``chat_id`` if given) are processed,
        then answered ``seconds`` late."""
        self._after_next(method, Fault(FaultKind.SLOW, seconds=seconds, chat_id=chat_id), count)

    def reset_next(self, method: str, count: int = 1, chat_id: int | None = None) -> None:
        """The next ``count`` requests (to ``chat_id`` if given) are processed, then the
        connection is reset halfway through the answer."""
        self._after_next(method, Fault(FaultKind.RESET, chat_id=chat_id), count)

    def malformed_next(self, method: str, count: int = 1, chat_id: int | None = None) -> None:
        """The next ``count`` requests (to ``chat_id`` if given) are processed, then answered
        with garbage (not JSON)."""
        self._after_next(method, Fault(FaultKind.MALFORMED, chat_id=chat_id), count)

    def _after_next(self, method: str, fault: Fault, count: int) -> None:
        self._after.setdefault(self._canonical(method), []).extend([fault] * count)

    def schedule(self, phases: Iterable[Phase], seed: int = 0) -> None:
        """Faults by phase from now on (replacing an earlier schedule); random draws use
        ``seed``, so a run can be repeated exactly."""
        self._phases = list(phases)
        self._phase_start = time.monotonic()
        self._random = random.Random(seed)

    def at_random(
        self,
        faults: dict[Fault, float],
        seed: int = 0,
        methods: frozenset[str] | None = SEND_METHODS,
    ) -> None:
        """From now on each request of ``methods`` gets each fault with its probability."""
        self.schedule(
            [Phase(0.0, math.inf, fault, p, methods) for fault, p in faults.items()], seed
        )

    def cut_mid_response(self, slower_than: float) -> int:
        """Requests processed whose answer the bot cannot have read: resets, garbage, and
        answers later than ``slower_than`` seconds (the bot's read timeout)."""
        return sum(
            1
            for _, fault in self.injected
            if fault.kind in (FaultKind.RESET, FaultKind.MALFORMED)
            or (fault.kind is FaultKind.SLOW and fault.seconds > slower_than)
        )

    def _scheduled(self, method: str, before: bool) -> Fault | None:
        elapsed = time.monotonic() - self._phase_start
        for phase in self._phases:
            if not phase.start <= elapsed < phase.end:
                continue
            if phase.methods is not None and method not in phase.methods:
                continue
            if (phase.fault.kind is FaultKind.STATUS) != before:
                continue
            if self._random.random() < phase.probability:
                return phase.fault
        return None

    def _fault_after(self, method: str, chat_id: object = None) -> Fault | None:
        """What happens to the answer of a request that was processed (None: nothing)."""
        queued = self._after.get(method, [])
        mine = [f for f in queued if f.chat_id is None or str(f.chat_id) == str(chat_id)]
        if mine:
            queued.remove(mine[0])
        fault = mine[0] if mine else self._scheduled(method, before=False)
        if fault is not None:
            self.injected.append((method, fault))
        return fault

    async def _inject_faults(self, method: str) -> None:
        """Hold or fail this request of ``method`` if a test asked for it."""
        if self._delays.get(method):
            await self._sleep(self._delays[method].pop(0))
        scheduled = None if self._fail.get(method) else self._scheduled(method, before=True)
        if scheduled is not None:
            self.injected.append((method, scheduled))
            self._fail.setdefault(method, []).insert(0, scheduled.status)
        if self._fail.get(method):
            status = self._fail[method].pop(0)
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:
                phrase = "Error"
            extra = {"retry_after": 1} if status == 429 else None
            if status == 429:
                phrase = "Too Many Requests: retry after 1"
            raise ApiError(status, phrase, extra)

    def _check_rate(self, chat_id: int) -> None:
        """Sliding-window flood control; raises 429 without recording anything."""
        limits = self.limits
        if not limits.enabled:
            return
        now = time.monotonic()
        waits: list[float] = []
        windows = [
            (self._global_window, limits.global_per_s, 1.0),
            (self._chat_windows.setdefault(chat_id, deque()), limits.per_chat_per_s, 1.0),
        ]
        if chat_id < 0:
            windows.append(
                (self._group_windows.setdefault(chat_id, deque()), limits.per_group_per_min, 60.0)
            )
        for window, limit, period in windows:
            while window and window[0] <= now - period:
                window.popleft()
            if limit > 0 and len(window) >= limit:
                waits.append(window[len(window) - limit] + period - now)
        if waits:
            retry_after = max(1, math.ceil(max(waits)))
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        for window, _, _ in windows:
            window.append(now)
