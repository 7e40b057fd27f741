"""Several bot processes on one database: claims on platform updates (each handled once,
a chat's in order) and single-holder leases (one Matrix sync). Every step is one short
statement that compares and sets, so two processes racing for the same row cannot both win."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import delete, exists, select, update

from storage.db import Session, dialect_insert
from storage.models import HandledUpdate, ProcessLease

# An update is `handling` while in hand, `replying` once its effects are committed and its
# replies are going out (copies are dropped, a chat's next update still waits), `handled`.
HANDLING, REPLYING, HANDLED = "handling", "replying", "handled"


class Claim(Enum):
    """What a process may do with an update it was given."""

    MINE = "mine"  # handle it
    HANDLED = "handled"  # a copy: its effects are committed already
    BUSY = "busy"  # another process has it in hand (its lease runs)


async def claim_update(
    session: Session,
    platform: str,
    update_id: int,
    chat_id: str | None,
    owner: str,
    now: datetime,
    lease: timedelta,
) -> Claim:
    """Claim an update for `owner`: new, or held by a holder whose lease ran out (crashed)."""
    inserted = await session.execute(
        dialect_insert(session)(HandledUpdate)
        .values(
            platform=platform,
            update_id=update_id,
            chat_id=chat_id,
            state=HANDLING,
            owner=owner,
            lease_until=now + lease,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["platform", "update_id"])
    )
    if inserted.rowcount == 1:  # type: ignore[attr-defined]
        return Claim.MINE
    taken = await session.execute(
        update(HandledUpdate)
        .where(
            HandledUpdate.platform == platform,
            HandledUpdate.update_id == update_id,
            HandledUpdate.state == HANDLING,
            (HandledUpdate.lease_until <= now) | (HandledUpdate.owner == owner),
        )
        .values(owner=owner, lease_until=now + lease)
    )
    if taken.rowcount == 1:  # type: ignore[attr-defined]
        return Claim.MINE
    state = await session.scalar(
        select(HandledUpdate.state).where(
            HandledUpdate.platform == platform, HandledUpdate.update_id == update_id
        )
    )
    return Claim.HANDLED if state in (REPLYING, HANDLED) else Claim.BUSY


async def update_state(session: Session, platform: str, update_id: int) -> str | None:
    """`handling`, `replying`, `handled` or None (never seen, or purged)."""
    return await session.scalar(
        select(HandledUpdate.state).where(
            HandledUpdate.platform == platform, HandledUpdate.update_id == update_id
        )
    )


async def earlier_in_hand(
    session: Session, platform: str, chat_id: str, update_id: int, now: datetime
) -> bool:
    """Whether an earlier update of the same chat is claimed and not yet handled (by a
    holder whose lease still runs): the later one waits for it."""
    return bool(
        await session.scalar(
            select(
                exists().where(
                    HandledUpdate.platform == platform,
                    HandledUpdate.chat_id == chat_id,
                    HandledUpdate.state.in_((HANDLING, REPLYING)),
                    HandledUpdate.update_id < update_id,
                    HandledUpdate.lease_until > now,
                )
            )
        )
    )


async def finish_update(
    session: Session, platform: str, update_id: int, owner: str, now: datetime
) -> bool:
    """Mark the update's effects committed (`replying`), in the caller's transaction; False
    when `owner` no longer holds it (its lease ran out and another process took it over):
    then the caller must roll back its effects, the other process handles it."""
    done = await session.execute(
        update(HandledUpdate)
        .where(
            HandledUpdate.platform == platform,
            HandledUpdate.update_id == update_id,
            HandledUpdate.owner == owner,
            HandledUpdate.state == HANDLING,
        )
        .values(state=REPLYING, finished_at=now)
    )
    return done.rowcount == 1  # type: ignore[attr-defined]


async def close_update(
    session: Session, platform: str, update_id: int, owner: str, now: datetime
) -> bool:
    """Mark the update `handled`: all done, replies sent; False when `owner` lost it."""
    done = await session.execute(
        update(HandledUpdate)
        .where(
            HandledUpdate.platform == platform,
            HandledUpdate.update_id == update_id,
            HandledUpdate.owner == owner,
            HandledUpdate.state.in_((HANDLING, REPLYING)),
        )
        .values(state=HANDLED, finished_at=now)
    )
    return done.rowcount == 1  # type: ignore[attr-defined]


async def purge_updates(session: Session, handled_before: datetime) -> int:
    """Forget updates handled (or abandoned) before `handled_before`: the platform no longer
    redelivers them."""
    gone = await session.execute(
        delete(HandledUpdate).where(
            (
                HandledUpdate.state.in_((REPLYING, HANDLED))
                & (HandledUpdate.finished_at < handled_before)
            )
            | ((HandledUpdate.state == HANDLING) & (HandledUpdate.lease_until < handled_before))
        )
    )
    return int(gone.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class LeaseHolder:
    """Who holds a lease, for the message that refuses a second holder."""

    holder: str
    renewed_at: datetime
    expires_at: datetime


async def acquire_lease(
    session: Session,
    name: str,
    holder: str,
    now: datetime,
    ttl: timedelta,
    *,
    dead: str | None = None,
) -> LeaseHolder | None:
    """Take the lease `name` for `holder` (new, ours, run out, or held by `dead`, a holder
    known to be gone); None when taken, else the current holder, who keeps it."""
    inserted = await session.execute(
        dialect_insert(session)(ProcessLease)
        .values(name=name, holder=holder, acquired_at=now, renewed_at=now, expires_at=now + ttl)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    if inserted.rowcount == 1:  # type: ignore[attr-defined]
        return None
    taken = await session.execute(
        update(ProcessLease)
        .where(
            ProcessLease.name == name,
            (ProcessLease.expires_at <= now)
            | (ProcessLease.holder == holder)
            | (ProcessLease.holder == (dead or holder)),
        )
        .values(holder=holder, acquired_at=now, renewed_at=now, expires_at=now + ttl)
    )
    if taken.rowcount == 1:  # type: ignore[attr-defined]
        return None
    row = await session.get(ProcessLease, name, populate_existing=True)
    assert row is not None
    return LeaseHolder(row.holder, row.renewed_at, row.expires_at)


async def renew_lease(
    session: Session, name: str, holder: str, now: datetime, ttl: timedelta
) -> bool:
    """Extend the lease while `holder` still has it; False when it was lost (it ran out
    and another process took it)."""
    renewed = await session.execute(
        update(ProcessLease)
        .where(ProcessLease.name == name, ProcessLease.holder == holder)
        .values(renewed_at=now, expires_at=now + ttl)
    )
    return renewed.rowcount == 1  # type: ignore[attr-defined]


async def release_lease(session: Session, name: str, holder: str) -> None:
    """Give the lease up at a clean stop, so the next process need not wait for it to run out."""
    await session.execute(
        delete(ProcessLease).where(ProcessLease.name == name, ProcessLease.holder == holder)
    )
