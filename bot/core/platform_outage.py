"""What admins are told about a platform outage: one notice when it has lasted longer than
a threshold, one when it is over and its backlog is sent, with counts.

Pure bookkeeping: the worker reports breaker changes, outcomes and the time; this decides
when a notice is due and what it says. Short outages (below the threshold) stay silent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class NoticeKind(StrEnum):
    UNREACHABLE = "unreachable"
    RECOVERED = "recovered"


@dataclass(frozen=True, slots=True)
class PlatformNotice:
    """A notice for admins; counts are filled on recovery."""

    kind: NoticeKind
    platform: str
    since: datetime  # when the outage began
    until: datetime | None = None  # when the platform answered again
    queued: int = 0  # waiting when it answered again
    delivered_late: int = 0  # of those, sent after it answered
    expired: int = 0  # outlived their use during the outage and its backlog
    uncertain: int = 0  # answers lost during it (reported separately, never resent)


@dataclass(slots=True)
class Episode:
    """One platform's outage, from the breaker opening until its backlog is sent."""

    platform: str
    since: datetime
    told: bool = False  # the "unreachable" notice went out
    until: datetime | None = None
    queued: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {"late": 0, "expired": 0, "unc": 0})

    def unreachable_notice(self, now: datetime, threshold: timedelta) -> PlatformNotice | None:
        """The "unreachable" notice, once, when the outage is older than `threshold`."""
        if self.told or self.until is not None or now - self.since < threshold:
            return None
        self.told = True
        return PlatformNotice(NoticeKind.UNREACHABLE, self.platform, self.since)

    def recovered(self, now: datetime, queued: int) -> None:
        self.until = now
        self.queued = queued

    def count(self, what: str, n: int = 1) -> None:
        """`late` (sent after recovery), `expired`, `unc` (answer lost)."""
        if what == "late" and self.until is None:
            return  # sent during the outage: a straggler, not late delivery
        self.counts[what] += n

    def recovery_notice(self) -> PlatformNotice | None:
        """The closing notice, if the opening one was sent (else the outage stays silent)."""
        if not self.told or self.until is None:
            return None
        return PlatformNotice(
            NoticeKind.RECOVERED,
            self.platform,
            self.since,
            self.until,
            queued=self.queued,
            delivered_late=self.counts["late"],
            expired=self.counts["expired"],
            uncertain=self.counts["unc"],
        )
