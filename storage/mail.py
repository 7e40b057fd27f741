"""Outbound e-mail in the database: members' addresses being confirmed, channel choices,
mail rows of the outbox, and failed mail not yet reported (models.mail, models.email)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, select, update

from bot.core.enums import OutboxStatus
from bot.core.mail import MAIL_PLATFORM
from bot.core.messages import OutgoingMessage
from storage import outbox
from storage.db import Session, dialect_insert
from storage.email_addresses import address_key
from storage.models import ChannelPreference, EmailAddress, EmailCode, Identity, OutboxMessage


class PendingResult(StrEnum):
    CODE_SENT = "code_sent"  # a new (or changed) address now waits for its code
    ALREADY_CONFIRMED = "already_confirmed"
    TAKEN = "taken"  # another person's address


async def address_of(session: Session, user_id: int) -> EmailAddress | None:
    return await session.scalar(select(EmailAddress).where(EmailAddress.user_id == user_id))


async def set_pending_address(
    session: Session, *, user_id: int, address: str, code_hash: str, now: datetime
) -> PendingResult:
    """Record `address` for the person, unconfirmed, with a fresh code (its hash).

    A different address replaces the old one: from now on nothing but the code goes out
    until the new one is confirmed.
    """
    key = address_key(address)
    owner = await session.scalar(
        select(EmailAddress.user_id).where(EmailAddress.address_key == key)
    )
    if owner is not None and owner != user_id:
        return PendingResult.TAKEN
    row = await address_of(session, user_id)
    confirmed = row is not None and row.confirmed_at is not None and row.unreachable_at is None
    if confirmed and row is not None and row.address_key == key:
        return PendingResult.ALREADY_CONFIRMED
    if row is None:
        row = EmailAddress(user_id=user_id, address=address, address_key=key, created_at=now)
        session.add(row)
    else:
        row.address, row.address_key, row.created_at = address, key, now
        row.confirmed_at = row.unreachable_at = row.unreachable_reason = None
    await session.execute(delete(EmailCode).where(EmailCode.user_id == user_id))
    session.add(
        EmailCode(user_id=user_id, address_key=key, code_hash=code_hash, created_at=now, attempts=0)
    )
    await session.flush()
    return PendingResult.CODE_SENT


async def pending_code(session: Session, user_id: int) -> EmailCode | None:
    return await session.scalar(select(EmailCode).where(EmailCode.user_id == user_id))


async def confirm_address(session: Session, user_id: int, now: datetime) -> EmailAddress | None:
    """The code was right: the address is confirmed and the code is gone."""
    row = await address_of(session, user_id)
    if row is None:
        return None
    row.confirmed_at = now
    row.unreachable_at = row.unreachable_reason = None
    await session.execute(delete(EmailCode).where(EmailCode.user_id == user_id))
    return row


async def remove_address(session: Session, user_id: int) -> bool:
    """`/email aus`: the address and any pending code are deleted; True if there was one.
    Mail already queued to it is dropped, so nothing more goes there."""
    row = await address_of(session, user_id)
    await session.execute(delete(EmailCode).where(EmailCode.user_id == user_id))
    if row is None:
        return False
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.platform == MAIL_PLATFORM,
            OutboxMessage.user_id == user_id,
            OutboxMessage.status == OutboxStatus.PENDING.value,
        )
        .values(status=OutboxStatus.DROPPED.value, last_error="address removed by its owner")
    )
    await session.delete(row)
    await session.flush()
    return True


async def channels(session: Session, user_id: int) -> dict[str, str]:
    """The person's stored choices, kind → channel (kinds without a row use the default)."""
    rows = await session.execute(
        select(ChannelPreference.kind, ChannelPreference.channel).where(
            ChannelPreference.user_id == user_id
        )
    )
    return {kind: channel for kind, channel in rows.all()}


async def set_channel(
    session: Session, *, user_id: int, kind: str, channel: str, now: datetime
) -> None:
    statement = dialect_insert(session)(ChannelPreference).values(
        user_id=user_id, kind=kind, channel=channel, updated_at=now
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "kind"], set_={"channel": channel, "updated_at": now}
        )
    )


async def has_chat(session: Session, user_id: int) -> bool:
    """Whether the person has a chat account the bot knows (a chat message can reach them)."""
    found = await session.scalar(select(Identity.id).where(Identity.user_id == user_id).limit(1))
    return found is not None


def mail_key(dedupe_key: str, address: str) -> str:
    """The outbox key of the mail `enqueue_mail` queues for this key and address."""
    return f"{dedupe_key}:mail:{address_key(address)}"[:255]


async def mail_queued(session: Session, dedupe_key: str, address: str) -> bool:
    """Whether this mail was queued already (then enqueue_mail would not queue it again)."""
    found = await session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == mail_key(dedupe_key, address))
    )
    return found is not None


async def enqueue_mail(
    session: Session,
    *,
    address: str,
    dedupe_key: str,
    purpose: str,
    message: OutgoingMessage,
    now: datetime,
    user_id: int | None = None,
    group_id: int | None = None,
    expires_at: datetime | None = None,
) -> bool:
    """One mail to one address through the outbox; True when it was new. The dedupe key is
    the caller's (purpose and recipient) plus the address, so a changed address gets its
    own mail. `expires_at`: as for chat messages (outbox.enqueue)."""
    return await outbox.enqueue(
        session,
        dedupe_key=mail_key(dedupe_key, address),
        purpose=purpose,
        platform=MAIL_PLATFORM,
        chat_id=address,
        user_id=user_id,
        group_id=group_id,
        message=message,
        now=now,
        expires_at=expires_at,
    )


async def unreported_failures(session: Session, *, limit: int) -> list[OutboxMessage]:
    """Mail the worker gave up on and nobody was told about yet, oldest first, locked so one
    process reports each."""
    return list(
        await session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.platform == MAIL_PLATFORM,
                OutboxMessage.status == OutboxStatus.FAILED.value,
                OutboxMessage.reported_at.is_(None),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


async def mark_reported(session: Session, ids: Sequence[int], now: datetime) -> None:
    await outbox.mark_uncertain_reported(session, ids, now)


async def export(session: Session, user_id: int) -> dict[str, object]:
    """The person's e-mail data for `/meinedaten`: address, its state, channel choices."""
    row = await address_of(session, user_id)
    return {
        "address": row.address if row else None,
        "confirmed_at": row.confirmed_at.isoformat() if row and row.confirmed_at else None,
        "unreachable_at": row.unreachable_at.isoformat() if row and row.unreachable_at else None,
        "code_pending": await pending_code(session, user_id) is not None,
        "channels": await channels(session, user_id),
    }
