"""Each delivered update handled once, a chat's updates in order, across processes.

Before a process handles an update it claims the update id in the database (a lease: a
holder that dies loses it when it runs out). A copy (Telegram retries a webhook post
whose answer it did not get, possibly to another process) finds it claimed: when it was
handled, it is answered and dropped; while another process has it in hand, the copy
waits for that. A later update of a chat waits while an earlier one of the same chat is
claimed and not yet handled.

The update is marked `replying` in the same transaction as the command's effects (the
dispatcher calls `finish_in`), so a crash cannot leave the effects committed but the
update unmarked: a redelivery then either finds it done or redoes it whole. The price: a
crash after that commit and before the reply went out loses the reply (never doubles
it). Once the replies are out, the update is `handled` (`finish`) and the chat's next
update goes ahead, so replies keep the chat's order too. A holder whose lease ran out
and was taken over cannot commit: its transaction is rolled back, the new holder's counts.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta

from handlers.context import Services
from storage import processes
from storage.db import Session
from storage.processes import Claim

WAIT_FIRST, WAIT_LONGEST = 0.01, 0.2  # seconds between looks while waiting for another


def holder_id() -> str:
    """Who holds a claim or lease, for the log and for a refused second process."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class UpdateClaim:
    """An update this process holds; `finished` once its effects are committed."""

    platform: str
    update_id: int
    chat_id: str | None
    owner: str
    finished: bool = False


# The update the running handler works on: set by the adapter around handling, read by
# the dispatcher to mark it handled in the command's own transaction.
current_claim: ContextVar[UpdateClaim | None] = ContextVar("current_claim", default=None)


class ClaimLost(RuntimeError):
    """Our lease on an update ran out and another process took it over: ours must not count."""


async def admit(services: Services, claim: UpdateClaim, *, max_wait: float) -> Claim:
    """Wait until `claim` may be handled here: MINE (handle it now), HANDLED (a copy of a
    handled update: drop it) or BUSY (still in another's hands after `max_wait` seconds:
    the platform should deliver it again later)."""
    lease = timedelta(seconds=services.settings.telegram_update_lease_seconds)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_wait
    pause = WAIT_FIRST
    while True:
        now = services.clock.now()
        async with services.sessions.begin() as session:
            verdict = await processes.claim_update(
                session, claim.platform, claim.update_id, claim.chat_id, claim.owner, now, lease
            )
            blocked = (
                verdict is Claim.MINE
                and claim.chat_id is not None
                and await processes.earlier_in_hand(
                    session, claim.platform, claim.chat_id, claim.update_id, now
                )
            )
        if verdict is Claim.HANDLED or (verdict is Claim.MINE and not blocked):
            return verdict
        if loop.time() >= deadline:
            # Still held elsewhere: BUSY, delivered again later. An earlier update of the
            # chat still in hand after all that time: order gives way to progress.
            return verdict
        await asyncio.sleep(pause)
        pause = min(pause * 2, WAIT_LONGEST)


async def finish_in(session: Session, services: Services) -> None:
    """Mark the current update's effects committed, in `session`'s transaction (no-op
    without one). Raises ClaimLost when another process took it over meanwhile."""
    claim = current_claim.get()
    if claim is None or claim.finished:
        return
    now = services.clock.now()
    if not await processes.finish_update(
        session, claim.platform, claim.update_id, claim.owner, now
    ):
        raise ClaimLost(f"{claim.platform} update {claim.update_id} was taken over")
    claim.finished = True


async def finish(services: Services, claim: UpdateClaim) -> bool:
    """Mark an update handled once its replies are out (also one no command transaction
    marked: member changes, ignored chatter); False when another process took it over."""
    async with services.sessions.begin() as session:
        return await processes.close_update(
            session, claim.platform, claim.update_id, claim.owner, services.clock.now()
        )
