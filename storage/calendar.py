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


def _revision_tag(group_ids: list[int], found: dict[int, int]) -> str:
    """ "id:revision" in id order; "id:0" for a group nothing was written for yet."""
    return ",".join(f"{group_id}:{found.get(group_id, 0)}" for group_id in sorted(group_ids))


async def meetings_version(
    session: AsyncSession, group_ids: list[int]
) -> tuple[str, datetime | None]:
    """A tag that changes whenever the groups' meetings, series or agendas do, and their
    latest change as the rows state it (for Last-Modified): one small query, no rows loaded.

    The tag is the groups' calendar revisions: database triggers raise a group's revision in
    the same transaction as every insert, deletion or change of a field a feed shows
    (migration 0016_feedrev_calendar_revisions), whoever writes it. Equal tags, unchanged
    rows: not a guess from counts or lengths.
    """
    if not group_ids:
        return "-", None
    latest_meeting = (
        select(func.max(Meeting.updated_at))
        .where(Meeting.group_id.in_(group_ids))
        .scalar_subquery()
    )
    latest_series = (
        select(func.max(MeetingSeries.updated_at))
        .where(MeetingSeries.group_id.in_(group_ids))
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            select(
                CalendarRevision.group_id,
                CalendarRevision.revision,
                latest_meeting,
                latest_series,
            ).where(CalendarRevision.group_id.in_(group_ids))
        )
    ).all()
    found = {row[0]: row[1] for row in rows}
    latest = _latest(*(as_utc(value) for row in rows for value in row[2:]))
    return _revision_tag(group_ids, found), latest


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
    """Per group the person has action items in: its revision and how many items (see
    `meetings_version`: an assignment made or taken back, or an item changed, raises its group's
    revision); and their latest change. One round trip."""
    assigned = _assigned_to(user_id).subquery()
    rows = (
        await session.execute(
            select(
                assigned.c.group_id,
                func.coalesce(CalendarRevision.revision, 0),
                func.count(),
                func.max(assigned.c.updated_at),
            )
            .outerjoin(CalendarRevision, CalendarRevision.group_id == assigned.c.group_id)
            .group_by(assigned.c.group_id, CalendarRevision.revision)
            .order_by(assigned.c.group_id)
        )
    ).all()
    tag = ",".join(f"{group_id}:{revision}:{count}" for group_id, revision, count, _ in rows)
    return tag or "-", _latest(*(as_utc(row[3]) for row in rows))


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
