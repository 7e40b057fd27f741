"""Calendar subscription feeds: secret tokens, and the rows a feed is built from.

A feed URL is `…/calendar/<token>.ics`. The token is 32 random bytes (256 bits) from
`secrets`; only its SHA-256 is stored, so looking a token up is one indexed equality query
and a copy of the database opens no calendar. Each group and each person has at most one
live feed: rotating revokes the old token, so a leaked URL stops working at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CalendarFeed, FeedKind, Group, Meeting, Membership

TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _owner(kind: FeedKind, owner_id: int) -> object:
    if kind is FeedKind.GROUP:
        return CalendarFeed.group_id == owner_id
    return CalendarFeed.user_id == owner_id


async def revoke(session: AsyncSession, kind: FeedKind, owner_id: int, now: datetime) -> int:
    """Revoke the live feed of a group or person; returns how many were revoked (0 or 1)."""
    result = await session.execute(
        update(CalendarFeed)
        .where(
            CalendarFeed.kind == kind.value,
            _owner(kind, owner_id),
            CalendarFeed.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def issue(session: AsyncSession, kind: FeedKind, owner_id: int, now: datetime) -> str:
    """A new token for the group's or person's feed; any previous one stops working."""
    await revoke(session, kind, owner_id, now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        CalendarFeed(
            token_hash=token_hash(token),
            kind=kind.value,
            group_id=owner_id if kind is FeedKind.GROUP else None,
            user_id=owner_id if kind is FeedKind.PERSON else None,
            created_at=now,
        )
    )
    await session.flush()
    return token


async def has_live_feed(session: AsyncSession, kind: FeedKind, owner_id: int) -> bool:
    found = await session.scalar(
        select(CalendarFeed.id).where(
            CalendarFeed.kind == kind.value,
            _owner(kind, owner_id),
            CalendarFeed.revoked_at.is_(None),
        )
    )
    return found is not None


async def feed_for_token(session: AsyncSession, token: str) -> CalendarFeed | None:
    """The live feed this token opens, or None (unknown and revoked look the same)."""
    if not token or len(token) > 100:
        return None
    return await session.scalar(
        select(CalendarFeed).where(
            CalendarFeed.token_hash == token_hash(token), CalendarFeed.revoked_at.is_(None)
        )
    )


# --- what feeds are built from --------------------------------------------------------------


async def groups_of_person(session: AsyncSession, user_id: int) -> list[Group]:
    return list(
        await session.scalars(
            select(Group)
            .join(Membership, Membership.group_id == Group.id)
            .where(Membership.user_id == user_id)
            .order_by(Group.id)
        )
    )


async def meetings_version(
    session: AsyncSession, group_ids: list[int]
) -> tuple[int, datetime | None]:
    """(count, latest change) of the groups' meetings: one aggregate query, no rows loaded.

    Every change to a meeting sets `updated_at`; a deletion lowers the count. Together they
    change whenever the feed's content would.
    """
    if not group_ids:
        return 0, None
    row = (
        await session.execute(
            select(func.count(Meeting.id), func.max(Meeting.updated_at)).where(
                Meeting.group_id.in_(group_ids)
            )
        )
    ).one()
    latest = row[1]
    if isinstance(latest, str):  # SQLite's max() over a column returns its text
        latest = datetime.fromisoformat(latest)
    if latest is not None and latest.tzinfo is None:
        latest = latest.replace(tzinfo=UTC)
    return int(row[0]), latest


async def meetings_of_groups(session: AsyncSession, group_ids: list[int]) -> list[Meeting]:
    if not group_ids:
        return []
    return list(
        await session.scalars(
            select(Meeting)
            .where(Meeting.group_id.in_(group_ids))
            .order_by(Meeting.starts_at, Meeting.id)
        )
    )
