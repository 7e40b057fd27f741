"""How fast the bot's events may reach the homeserver, learned from its answers.

A homeserver limits messages per sender (Synapse's rc_message: 0.2/s with a burst of 10 by
default), and an admin may lift that for the bot; the bot cannot see the lift unless it is
a server admin itself. So the pace starts from what is known (MATRIX_MESSAGES_PER_SECOND,
the lift read through the admin API, else Synapse's default), is raised step by step while
no M_LIMIT_EXCEEDED comes back, and backs off when one does, never climbing past a pace
that was refused again. Every event counts (texts, files, reactions, edits, new rooms):
the outbox's sends wait here for their turn, the direct replies to commands go at once but
take their turn all the same, so queued deliveries leave them room.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

# Synapse's default rc_message, and the most the bot ever asks for when the limit is lifted.
DEFAULT_PER_SECOND = 0.2
CEILING_PER_SECOND = 10.0
RAISE_AFTER = 10  # events in a row without M_LIMIT_EXCEEDED before the pace goes up
RAISE_FACTOR = 1.5
BACKOFF_FACTOR = 0.5
FLOOR_PER_SECOND = 0.1  # half of Synapse's default: below, the server's retry_after rules


@dataclass(frozen=True, slots=True)
class PaceStart:
    """Where the pace starts, where it may go, and why (for the log)."""

    per_second: float
    ceiling: float
    source: str


def starting_pace(configured: float | None, lifted: bool) -> PaceStart:
    """MATRIX_MESSAGES_PER_SECOND wins (and is never exceeded); a lift seen through the admin
    API starts at the ceiling; otherwise Synapse's defaults, raised while the server allows."""
    if configured is not None:
        return PaceStart(configured, configured, "MATRIX_MESSAGES_PER_SECOND")
    if lifted:
        return PaceStart(CEILING_PER_SECOND, CEILING_PER_SECOND, "rate limit lifted for the bot")
    return PaceStart(DEFAULT_PER_SECOND, CEILING_PER_SECOND, "homeserver defaults")


class MatrixPace:
    """Evenly spaced events at a pace that follows the homeserver's answers."""

    def __init__(self, start: PaceStart) -> None:
        self.per_second = start.per_second
        self.source = start.source
        self._cap = start.ceiling  # lowered to the last pace that was refused
        self._floor = min(FLOOR_PER_SECOND, start.per_second)
        self._next = 0.0  # loop time at which the next event may go
        self._clean = 0
        self.limit_exceeded = 0  # M_LIMIT_EXCEEDED answers seen
        self.raised = 0
        self._lowered_at: float | None = None

    def _take(self, now: float) -> float:
        """Reserve the next turn; return when it is."""
        slot = max(now, self._next)
        self._next = slot + 1.0 / self.per_second
        return slot

    async def wait(self, at_most: float = float("inf")) -> float | None:
        """Wait for this event's turn (the outbox's sends); None once it is here.

        If the turn is more than `at_most` seconds away, take none and return how far away
        it is: the outbox hands the message back for that long instead of holding it (and
        its lease) inside a delivery.
        """
        loop = asyncio.get_running_loop()
        now = loop.time()
        if (ahead := max(now, self._next) - now) > at_most:
            return ahead
        slot = self._take(now)
        if (pause := slot - loop.time()) > 0:
            await asyncio.sleep(pause)
        return None

    def count(self) -> None:
        """Take a turn without waiting (a direct reply): later deliveries wait longer."""
        self._take(asyncio.get_running_loop().time())

    def accepted(self) -> None:
        """The homeserver took an event: after enough of them, try a faster pace."""
        self._clean += 1
        if self._clean < RAISE_AFTER or self.per_second >= self._cap:
            return
        self._clean = 0
        before = self.per_second
        self.per_second = min(self._cap, self.per_second * RAISE_FACTOR)
        self.raised += 1
        log.info(
            "matrix: no M_LIMIT_EXCEEDED in the last %d events; pace raised from %.2f/s to "
            "%.2f/s (measured)",
            RAISE_AFTER,
            before,
            self.per_second,
        )

    def limited(self, retry_after: float) -> None:
        """M_LIMIT_EXCEEDED: slow down, pause for retry_after, and remember the refused pace."""
        self.limit_exceeded += 1
        self._clean = 0
        now = asyncio.get_running_loop().time()
        self._next = max(self._next, now + retry_after)
        if self._lowered_at is not None and now - self._lowered_at < retry_after + 1.0:
            return  # requests in flight together met the same limit: lower the pace once
        self._lowered_at = now
        before = self.per_second
        # Never back to a refused pace: at most the step below it from now on.
        self._cap = max(self._floor, min(self._cap, before / RAISE_FACTOR))
        self.per_second = max(self._floor, before * BACKOFF_FACTOR)
        log.warning(
            "matrix: M_LIMIT_EXCEEDED at %.2f/s; pace lowered to %.2f/s, at most %.2f/s from "
            "now on (measured)",
            before,
            self.per_second,
            self._cap,
        )
