"""Reminder storage: the log that makes each reminder happen once, settings, due queries.

Every query that finds due work is bounded by time and served by an index
(`meetings.starts_at`, the log's unique key), so a sweep costs the same whether a thousand
or a hundred thousand meetings lie outside its window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import ActionItemStatus, MeetingStatus, ReminderStatus
from storage.db import dialect_insert
from storage.models import (
    ActionItem,
    ActionItemAssignee,
    Group,
    GroupReminderSettings,
    Meeting,
    Membership,
    ReminderLog,
    Rsvp,
    User,
    UserReminderSettings,
)
from storage.platform_state import get_state, set_state

STATE_PLATFORM = "scheduler"


def _membership_of(group_id: Any, user_id: Any) -> Any:
    return and_(Membership.group_id == group_id, Membership.user_id == user_id)


# Who left the group gets no reminders of it (an ended membership has `left_at`).
_NOT_LEFT = Membership.left_at.is_(None)


async def swept_until(session: AsyncSession, kind: str) -> datetime | None:
    """Up to which instant due reminders of `kind` were already decided."""
    value = await get_state(session, STATE_PLATFORM, f"swept:{kind}")
    return datetime.fromisoformat(value) if value else None


async def set_swept_until(session: AsyncSession, kind: str, instant: datetime) -> None:
    previous = await swept_until(session, kind)
    if previous is None or instant > previous:
        await set_state(session, STATE_PLATFORM, f"swept:{kind}", instant.isoformat(), instant)


async def record(
    session: AsyncSession,
    *,
    kind: str,
    subject: str,
    recipient_id: int,
    group_id: int | None,
    due_at: datetime,
    status: ReminderStatus,
    now: datetime,
) -> bool:
    """Log a reminder decision; False when it was decided before (by us or another process).

    On PostgreSQL a concurrent transaction inserting the same key waits for ours and then
    does nothing, so the outbox message written next in the same transaction exists once.
    """
    statement = (
        dialect_insert(session)(ReminderLog)
        .values(
            kind=kind,
            subject=subject,
            recipient_id=recipient_id,
            group_id=group_id,
            due_at=due_at,
            status=status.value,
            decided_at=now,
        )
        .on_conflict_do_nothing(index_elements=["kind", "subject", "recipient_id", "due_at"])
    )
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class MeetingAttendee:
    """One person who said yes or maybe to a meeting, with what their reminder needs."""

    meeting: Meeting
    group: Group
    user: User
    group_offsets: str | None
    user_offsets: str | None
    muted: str


async def meeting_attendees(
    session: AsyncSession, *, starts_from: datetime, starts_until: datetime
) -> list[MeetingAttendee]:
    """Yes/maybe answers of scheduled meetings starting in [starts_from, starts_until] that
    were scheduled before they began."""
    rows = await session.execute(
        select(
            Meeting,
            Group,
            User,
            GroupReminderSettings.meeting_offsets,
            UserReminderSettings.meeting_offsets,
            UserReminderSettings.muted,
        )
        .join(Group, Group.id == Meeting.group_id)
        .join(Rsvp, Rsvp.meeting_id == Meeting.id)
        .join(User, User.id == Rsvp.user_id)
        .outerjoin(Membership, _membership_of(Group.id, User.id))
        .outerjoin(GroupReminderSettings, GroupReminderSettings.group_id == Group.id)
        .outerjoin(UserReminderSettings, UserReminderSettings.user_id == User.id)
        .where(
            Meeting.starts_at >= starts_from,
            Meeting.starts_at <= starts_until,
            Meeting.status == MeetingStatus.SCHEDULED.value,
            # A meeting recorded after it began (minutes of a past meeting) gets none.
            Meeting.created_at < Meeting.starts_at,
            Rsvp.answer.in_(("yes", "maybe")),
            _NOT_LEFT,
        )
        .order_by(Meeting.id, User.id)
    )
    return [
        MeetingAttendee(meeting, group, user, group_offsets, user_offsets, muted or "")
        for meeting, group, user, group_offsets, user_offsets, muted in rows.all()
    ]


@dataclass(frozen=True, slots=True)
class ItemAssignee:
    """An open action item and one member it is assigned to."""

    item: ActionItem
    group: Group
    user: User
    muted: str


def _open_items_query() -> Select[Any]:
    return (
        select(ActionItem, Group, User, UserReminderSettings.muted)
        .join(Group, Group.id == ActionItem.group_id)
        .join(ActionItemAssignee, ActionItemAssignee.action_item_id == ActionItem.id)
        .join(User, User.id == ActionItemAssignee.user_id)
        .outerjoin(Membership, _membership_of(Group.id, User.id))
        .outerjoin(UserReminderSettings, UserReminderSettings.user_id == User.id)
        .where(ActionItem.status == ActionItemStatus.OPEN.value, _NOT_LEFT)
    )


async def open_items_due_between(
    session: AsyncSession, first: date, last: date
) -> list[ItemAssignee]:
    """Open items due on a day in [first, last] (index on status, due_date), per assignee."""
    rows = await session.execute(
        _open_items_query()
        .where(ActionItem.due_date >= first, ActionItem.due_date <= last)
        .order_by(ActionItem.id, User.id)
    )
    return [ItemAssignee(item, group, user, muted or "") for item, group, user, muted in rows.all()]


async def open_items_per_person(session: AsyncSession) -> list[list[ItemAssignee]]:
    """Every member's open items (for the weekly overview), grouped by person."""
    rows = await session.execute(
        _open_items_query().order_by(User.id, ActionItem.due_date, ActionItem.id)
    )
    people: dict[int, list[ItemAssignee]] = {}
    for item, group, user, muted in rows.all():
        people.setdefault(user.id, []).append(ItemAssignee(item, group, user, muted or ""))
    return list(people.values())


async def unreported_missed(session: AsyncSession) -> list[ReminderLog]:
    """Missed reminders nobody was told about yet; locked so two processes report once."""
    return list(
        await session.scalars(
            select(ReminderLog)
            .where(
                ReminderLog.status == ReminderStatus.MISSED.value,
                ReminderLog.reported_at.is_(None),
            )
            .order_by(ReminderLog.id)
            .limit(1000)
            .with_for_update(skip_locked=True)
        )
    )


async def mark_reported(session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    if ids:
        await session.execute(
            update(ReminderLog).where(ReminderLog.id.in_(list(ids))).values(reported_at=now)
        )


async def user_settings(session: AsyncSession, user_id: int) -> UserReminderSettings | None:
    return await session.get(UserReminderSettings, user_id)


async def group_settings(session: AsyncSession, group_id: int) -> GroupReminderSettings | None:
    return await session.get(GroupReminderSettings, group_id)


async def _user_row(session: AsyncSession, user_id: int, now: datetime) -> UserReminderSettings:
    settings = await user_settings(session, user_id)
    if settings is None:
        settings = UserReminderSettings(user_id=user_id, meeting_offsets=None, muted="")
        session.add(settings)
    settings.updated_at = now
    return settings


async def set_user_offsets(
    session: AsyncSession, user_id: int, offsets: str | None, now: datetime
) -> None:
    """A person's own meeting-reminder offsets; None returns to the group's."""
    (await _user_row(session, user_id, now)).meeting_offsets = offsets
    await session.flush()


async def set_user_muted(session: AsyncSession, user_id: int, muted: str, now: datetime) -> None:
    """The kinds of reminders a person does not want, comma-separated."""
    (await _user_row(session, user_id, now)).muted = muted
    await session.flush()


async def set_group_offsets(
    session: AsyncSession, group_id: int, offsets: str | None, now: datetime
) -> None:
    """A group's meeting-reminder offsets; None returns to the deployment's default."""
    settings = await group_settings(session, group_id)
    if offsets is None:
        if settings is not None:
            await session.delete(settings)
        return
    if settings is None:
        session.add(
            GroupReminderSettings(group_id=group_id, meeting_offsets=offsets, updated_at=now)
        )
    else:
        settings.meeting_offsets, settings.updated_at = offsets, now
    await session.flush()


async def subject_action_item(session: AsyncSession, item_id: int) -> ActionItem | None:
    """The action item a reminder was about, if it still exists."""
    return await session.get(ActionItem, item_id)
