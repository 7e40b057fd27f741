"""One-time codes that join a second chat to a group or a second identity to a person."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import Role
from storage.models import (
    Advisor,
    ExchangeAttendance,
    ExperienceExchange,
    Group,
    Identity,
    LinkCode,
    Membership,
    OutboxMessage,
    User,
)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes get typed by hand
CODE_LIFETIME = timedelta(hours=1)


def code_hash(code: str) -> str:
    """What is stored for `code`: typed codes match with any case, dashes or spaces."""
    normalized = code.strip().upper().replace("-", "").replace(" ", "")
    return hashlib.sha256(normalized.encode()).hexdigest()


async def create_code(
    session: AsyncSession,
    *,
    purpose: str,
    now: datetime,
    group_id: int | None = None,
    user_id: int | None = None,
) -> str:
    """A fresh code like `K7QM-4XRT`; only its hash is stored."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    session.add(
        LinkCode(
            code_hash=code_hash(raw),
            purpose=purpose,
            group_id=group_id,
            user_id=user_id,
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    await session.flush()
    return f"{raw[:4]}-{raw[4:]}"


async def find_code(session: AsyncSession, code: str) -> LinkCode | None:
    """The record of a code just created (e.g. to tie it to what it links to)."""
    return await session.scalar(select(LinkCode).where(LinkCode.code_hash == code_hash(code)))


async def redeem(
    session: AsyncSession, code: str, *, purpose: str, now: datetime
) -> LinkCode | None:
    """The code's record if it is valid for `purpose`; it cannot be used again."""
    link = await session.scalar(
        select(LinkCode).where(LinkCode.code_hash == code_hash(code), LinkCode.purpose == purpose)
    )
    if link is None or link.used_at is not None or link.expires_at < now:
        return None
    link.used_at = now
    await session.flush()
    return link


async def merge_users(session: AsyncSession, keep: User, absorb: User) -> None:
    """Make two accounts one person: identities, memberships and queued messages move to
    `keep`; in a group both were in, the higher role stays."""
    if keep.id == absorb.id:
        return
    kept_roles = {
        m.group_id: m
        for m in await session.scalars(select(Membership).where(Membership.user_id == keep.id))
    }
    for member in list(
        await session.scalars(select(Membership).where(Membership.user_id == absorb.id))
    ):
        twin = kept_roles.get(member.group_id)
        if twin is None:
            member.user_id = keep.id
        else:
            if Role(member.role).rank > Role(twin.role).rank:
                twin.role = member.role
            await session.delete(member)
    await session.flush()
    for model, column in (
        (Identity, Identity.user_id),
        (OutboxMessage, OutboxMessage.user_id),
        (Group, Group.created_by_user_id),
        (Membership, Membership.role_granted_by_user_id),
        (Advisor, Advisor.user_id),
        (ExperienceExchange, ExperienceExchange.created_by_user_id),
        (ExchangeAttendance, ExchangeAttendance.recorded_by_user_id),
    ):
        await session.execute(
            update(model).where(column == absorb.id).values({column.key: keep.id})
        )
    keep.language = keep.language or absorb.language
    keep.timezone = keep.timezone or absorb.timezone
    await session.execute(delete(User).where(User.id == absorb.id))
    await session.flush()
    session.expire_all()  # loaded objects still point at the absorbed account
