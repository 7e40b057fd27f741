"""The circuit breaker of one platform: when most requests fail, stop sending and probe.

Pure policy: it is told the outcomes and the time, and answers whether a request may go.
While a platform is down, sending message after message only burns their attempts (in the
issue that started this, 500s for 330 s turned seven invitations into `failed`). Instead
the worker keeps everything queued while the breaker is open, lets one probe through now and
then (getMe on Telegram, else the next message), and resumes in order when it answers.

    closed --(most of the recent requests failed)--> open
    open --(probe time)--> half-open --(probe answered)--> closed
                                     --(probe failed)--> open, next probe later
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"  # sending normally
    OPEN = "open"  # paused: nothing goes out until the next probe
    HALF_OPEN = "half_open"  # one probe may go; its answer decides


class Change(StrEnum):
    OPENED = "opened"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    window: timedelta = timedelta(seconds=30)  # outcomes this recent count
    min_requests: int = 5  # fewer than this in the window: never trips
    failure_ratio: float = 0.5  # trips when at least this share failed
    first_probe: timedelta = timedelta(seconds=2)
    max_probe_interval: timedelta = timedelta(seconds=30)


class CircuitBreaker:
    """One platform's breaker; `now` always comes from the caller's clock."""

    def __init__(self, policy: BreakerPolicy | None = None) -> None:
        self.policy = policy or BreakerPolicy()
        self._outcomes: deque[tuple[datetime, bool]] = deque()
        # Failures among `_outcomes`, kept as they come and go: counting them on every
        # request cost a scan of the whole window (thousands of mails at a fast SMTP rate).
        self._failures = 0
        self._open = False
        self._next_probe: datetime | None = None
        self._interval = self.policy.first_probe
        self._probing = False
        self.opened_at: datetime | None = None  # start of the current outage

    def state(self, now: datetime) -> BreakerState:
        if not self._open:
            return BreakerState.CLOSED
        if self._next_probe is not None and now >= self._next_probe:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    @property
    def probing(self) -> bool:
        return self._probing

    def _recent(self, now: datetime) -> deque[tuple[datetime, bool]]:
        since = now - self.policy.window
        while self._outcomes and self._outcomes[0][0] <= since:
            _, ok = self._outcomes.popleft()
            self._failures -= not ok
        return self._outcomes

    def healthy(self, now: datetime) -> bool:
        """Whether the platform works for most requests: only then is a failure the
        message's own (and counts as one of its attempts). With too few requests to tell,
        it counts; if they turn out to be the start of an outage, the worker gives the
        attempts back when the breaker opens (`window` says how far back)."""
        if self._open:
            return False
        recent = self._recent(now)
        if len(recent) < self.policy.min_requests:
            return True
        return self._failures / len(recent) < self.policy.failure_ratio

    def admit(self, now: datetime) -> tuple[bool, bool]:
        """(may this request go, is it the probe). Half-open lets exactly one through."""
        match self.state(now):
            case BreakerState.CLOSED:
                return True, False
            case BreakerState.HALF_OPEN if not self._probing:
                self._probing = True
                return True, True
            case _:
                return False, False

    def forget_probe(self, probe: bool) -> None:
        """The admitted probe never went out (the row was no longer ours): allow another."""
        if probe:
            self._probing = False

    def record(self, now: datetime, ok: bool, *, probe: bool = False) -> Change | None:
        """A request was answered (`ok`) or failed at the platform's level."""
        if self._open:
            if ok:  # any answer, probe or straggler, shows the platform is back
                return self._close()
            if probe:
                self._probing = False
                self._interval = min(self._interval * 2, self.policy.max_probe_interval)
                self._next_probe = now + self._interval
            return None
        recent = self._recent(now)
        recent.append((now, ok))
        self._failures += not ok
        if len(recent) >= self.policy.min_requests and self._failures / len(recent) >= (
            self.policy.failure_ratio
        ):
            self._open = True
            self.opened_at = now
            self._interval = self.policy.first_probe
            self._next_probe = now + self._interval
            self._probing = False
            return Change.OPENED
        return None

    def _close(self) -> Change:
        self._open = False
        self._probing = False
        self._next_probe = None
        self._outcomes.clear()
        self._failures = 0
        return Change.CLOSED
