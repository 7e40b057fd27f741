"""A dependency that is down (the database): a traceback once, then a line at most every few
minutes, then one when it is back – not a traceback on every poll that buries the log.

Shared by the delivery worker and the sweep scheduler; the caller gives the time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class OutageLog:
    logger: logging.Logger
    what: str  # e.g. "the outbox": "cannot reach the outbox (is the database down?)"
    retry: str  # how it goes on, e.g. "retrying every 1.0s"
    every: timedelta = timedelta(minutes=5)
    since: datetime | None = field(default=None, init=False)
    last_said: datetime | None = field(default=None, init=False)
    failures: int = field(default=0, init=False)

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, now: datetime, error: BaseException) -> None:
        """One more failed try: the first logs its traceback, later ones a summary at most
        every `every`."""
        self.failures += 1
        if self.since is None or self.last_said is None:
            self.since = self.last_said = now
            self.logger.error(
                "cannot reach %s (is the database down?); %s",
                self.what,
                self.retry,
                exc_info=error,
            )
            return
        if now - self.last_said >= self.every:
            self.last_said = now
            first_line = str(error).splitlines()[0] if str(error) else ""
            self.logger.error(
                "%s still unreachable since %s (%d failed tries): %s: %s",
                self.what,
                self.since.isoformat(timespec="seconds"),
                self.failures,
                type(error).__name__,
                first_line,
            )

    def worked(self) -> None:
        """A try succeeded: say so once if it had been down."""
        if self.since is None:
            return
        self.logger.warning(
            "database reachable again; %s was unreachable since %s (%d failed tries)",
            self.what,
            self.since.isoformat(timespec="seconds"),
            self.failures,
        )
        self.since = self.last_said = None
        self.failures = 0
