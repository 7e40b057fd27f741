"""Faults a test injects: Telegram's flood limits (429 with retry_after), failed requests,
and requests held back for a while."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus

from tests.fake_telegram.protocol import ApiError


@dataclass
class RateLimitConfig:
    """Telegram's documented flood limits; OFF by default so ordinary tests stay fast."""

    enabled: bool = False
    global_per_s: int = 30
    per_chat_per_s: int = 1
    per_group_per_min: int = 20


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

    async def _inject_faults(self, method: str) -> None:
        """Hold or fail this request of ``method`` if a test asked for it."""
        if self._delays.get(method):
            await self._sleep(self._delays[method].pop(0))
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
