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

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import ActionItemStatus, AgendaItemStatus, FeedKind
from storage.models import (
    ActionItem,
    ActionItemAssignee,
    AgendaItem,
    CalendarFeed,
    CalendarRevision,
    Group,
    Identity,
    Meeting,
    MeetingSeries,
    Membership,
    User,
)

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
            .where(Membership.user_id == user_id, Membership.left_at.is_(None))
            .order_by(Group.id)
        )
    )


def as_utc(value: object) -> datetime | None:
    """An aggregate over a UTC column: SQLite may hand back text or a naive value."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _latest(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


async def revisions(session: AsyncSession, group_ids: list[int]) -> str:
    """The groups' calendar revisions, "id:revision" in id order ("id:0" for a group nothing
    was written for yet): database triggers raise a group's revision in the same transaction
    as every insert, delete or change of a field a feed shows (migration
    0016_feedrev_calendar_revisions), whoever writes. Equal text, unchanged rows."""
    if not group_ids:
        return "-"
    found = dict(
        (
            await session.execute(
                select(CalendarRevision.group_id, CalendarRevision.revision).where(
                    CalendarRevision.group_id.in_(group_ids)
                )
            )
        ).all()
    )
    return ",".join(f"{group_id}:{found.get(group_id, 0)}" for group_id in sorted(group_ids))


async def meetings_version(
    session: AsyncSession, group_ids: list[int]
) -> tuple[str, datetime | None]:
    """A tag that changes whenever the groups' meetings, series or agendas do (their
    revisions), and the latest change as the rows state it (for Last-Modified): two small
    queries, no rows loaded."""
    if not group_ids:
        return "-", None
    latest = select(
        select(func.max(Meeting.updated_at))
        .where(Meeting.group_id.in_(group_ids))
        .scalar_subquery(),
        select(func.max(MeetingSeries.updated_at))
        .where(MeetingSeries.group_id.in_(group_ids))
        .scalar_subquery(),
    )
    m_latest, s_latest = (await session.execute(latest)).one()
    return await revisions(session, group_ids), _latest(as_utc(m_latest), as_utc(s_latest))


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


async def occurrences_of_series(session: AsyncSession, series_id: int) -> list[Meeting]:
    return list(
        await session.scalars(
            select(Meeting).where(Meeting.series_id == series_id).order_by(Meeting.starts_at)
        )
    )


async def series_by_id(session: AsyncSession, series_ids: list[int]) -> dict[int, MeetingSeries]:
    if not series_ids:
        return {}
    found = await session.scalars(select(MeetingSeries).where(MeetingSeries.id.in_(series_ids)))
    return {series.id: series for series in found}


async def agendas_of_groups(
    session: AsyncSession, group_ids: list[int]
) -> dict[int, list[AgendaItem]]:
    """Accepted agenda items per meeting id, in agenda order."""
    if not group_ids:
        return {}
    return await _agendas(
        session,
        select(AgendaItem)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(Meeting.group_id.in_(group_ids)),
    )


async def agenda_of_meeting(session: AsyncSession, meeting_id: int) -> list[AgendaItem]:
    found = await _agendas(session, select(AgendaItem).where(AgendaItem.meeting_id == meeting_id))
    return found.get(meeting_id, [])


async def _agendas(
    session: AsyncSession, query: Select[tuple[AgendaItem]]
) -> dict[int, list[AgendaItem]]:
    rows = await session.scalars(
        query.where(AgendaItem.status == AgendaItemStatus.ACCEPTED.value).order_by(
            AgendaItem.meeting_id, AgendaItem.position, AgendaItem.id
        )
    )
    agendas: dict[int, list[AgendaItem]] = {}
    for item in rows:
        agendas.setdefault(item.meeting_id, []).append(item)
    return agendas


def _assigned_to(user_id: int) -> Select[tuple[ActionItem]]:
    return (
        select(ActionItem)
        .join(ActionItemAssignee, ActionItemAssignee.action_item_id == ActionItem.id)
        .where(ActionItemAssignee.user_id == user_id)
    )


async def action_items_version(session: AsyncSession, user_id: int) -> tuple[str, datetime | None]:
    """The revisions of every group the person has an action item in: an assignment made or
    taken back, or an item changed, raises its group's revision (see `revisions`)."""
    assigned = _assigned_to(user_id).subquery()
    count, latest = (
        await session.execute(select(func.count(), func.max(assigned.c.updated_at)))
    ).one()
    group_ids = list(await session.scalars(select(assigned.c.group_id).distinct()))
    latest = as_utc(latest)
    return f"{count}:{await revisions(session, group_ids)}", latest


async def action_items_of_person(session: AsyncSession, user_id: int) -> list[ActionItem]:
    """Open action items assigned to this person that have a due date."""
    return list(
        await session.scalars(
            _assigned_to(user_id)
            .where(
                ActionItem.status == ActionItemStatus.OPEN.value,
                ActionItem.due_date.is_not(None),
            )
            .order_by(ActionItem.due_date, ActionItem.id)
        )
    )


async def invitees(session: AsyncSession, group_id: int) -> list[tuple[User, str]]:
    """The group's members who have a chat account, each with the name of their first one:
    who gets a meeting's invitation and who is listed as its attendee."""
    rows = await session.execute(
        select(User, Identity.display_name)
        .join(Membership, Membership.user_id == User.id)
        .join(Identity, Identity.user_id == User.id)
        .where(Membership.group_id == group_id, Membership.left_at.is_(None))
        .order_by(User.id, Identity.id)
    )
    people: dict[int, tuple[User, str]] = {}
    for user, name in rows.all():
        people.setdefault(user.id, (user, name))
    return list(people.values())
