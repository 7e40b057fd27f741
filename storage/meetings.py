"""Meetings of a working group. Every query is scoped to one group: a number from another
group finds nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import MeetingStatus
from storage.models import Meeting, MeetingSeries, Rsvp


async def create_meeting(
    session: AsyncSession,
    *,
    group_id: int,
    title: str,
    starts_at: datetime,
    ends_at: datetime | None,
    location: str | None,
    created_by_user_id: int | None,
    now: datetime,
    description: str | None = None,
    series_id: int | None = None,
    recurrence_id: datetime | None = None,
) -> Meeting:
    """The group's next meeting number; an occurrence of a series also gets `series_id` and
    its original start as `recurrence_id`."""
    last = await session.scalar(
        select(func.max(Meeting.number)).where(Meeting.group_id == group_id)
    )
    meeting = Meeting(
        group_id=group_id,
        number=(last or 0) + 1,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        location=location,
        status=MeetingStatus.SCHEDULED.value,
        created_at=now,
        updated_at=now,
        created_by_user_id=created_by_user_id,
        description=description,
        series_id=series_id,
        recurrence_id=recurrence_id,
    )
    session.add(meeting)
    await session.flush()
    return meeting


async def meeting_by_number(session: AsyncSession, group_id: int, number: int) -> Meeting | None:
    return await session.scalar(
        select(Meeting).where(Meeting.group_id == group_id, Meeting.number == number)
    )


async def meetings_of_group(
    session: AsyncSession, group_id: int, *, since: datetime | None, limit: int = 20
) -> list[Meeting]:
    """Upcoming meetings from `since` (soonest first), or all (latest first) without it."""
    query = select(Meeting).where(Meeting.group_id == group_id)
    if since is not None:
        query = query.where(
            func.coalesce(Meeting.ends_at, Meeting.starts_at) >= since,
            Meeting.status == MeetingStatus.SCHEDULED.value,
        ).order_by(Meeting.starts_at)
    else:
        query = query.order_by(Meeting.starts_at.desc())
    return list(await session.scalars(query.limit(limit)))


async def set_rsvp(
    session: AsyncSession, meeting_id: int, user_id: int, answer: str, now: datetime
) -> None:
    existing = await session.scalar(
        select(Rsvp).where(Rsvp.meeting_id == meeting_id, Rsvp.user_id == user_id)
    )
    if existing is None:
        session.add(Rsvp(meeting_id=meeting_id, user_id=user_id, answer=answer, answered_at=now))
    else:
        existing.answer, existing.answered_at = answer, now
    await session.flush()


async def rsvps_of(session: AsyncSession, meeting_id: int) -> dict[int, str]:
    """Per person who answered the meeting: yes, no or maybe."""
    rows = await session.execute(
        select(Rsvp.user_id, Rsvp.answer).where(Rsvp.meeting_id == meeting_id)
    )
    return {user_id: answer for user_id, answer in rows.all()}


async def rsvp_counts(session: AsyncSession, meeting_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per meeting: how many said yes, no, maybe."""
    rows = await session.execute(
        select(Rsvp.meeting_id, Rsvp.answer, func.count())
        .where(Rsvp.meeting_id.in_(meeting_ids))
        .group_by(Rsvp.meeting_id, Rsvp.answer)
    )
    counts: dict[int, dict[str, int]] = {}
    for meeting_id, answer, count in rows.all():
        counts.setdefault(meeting_id, {})[answer] = count
    return counts


def mark_changed(meeting: Meeting, now: datetime) -> None:
    """Record a change that calendars must see (time, place, title, cancellation): the
    iCalendar SEQUENCE goes up and `updated_at` moves, so subscribers replace the event."""
    meeting.sequence = (meeting.sequence or 0) + 1
    meeting.updated_at = now


async def said_yes(session: AsyncSession, meeting_id: int) -> list[int]:
    """The people who answered yes to the meeting (e.g. to record them all as present)."""
    return list(
        await session.scalars(
            select(Rsvp.user_id).where(Rsvp.meeting_id == meeting_id, Rsvp.answer == "yes")
        )
    )


async def previous_meeting(session: AsyncSession, meeting: Meeting) -> Meeting | None:
    """The group's last meeting (not cancelled) that started before this one."""
    return await session.scalar(
        select(Meeting)
        .where(
            Meeting.group_id == meeting.group_id,
            Meeting.id != meeting.id,
            Meeting.status == MeetingStatus.SCHEDULED.value,
            Meeting.starts_at < meeting.starts_at,
        )
        .order_by(Meeting.starts_at.desc(), Meeting.number.desc())
        .limit(1)
    )


async def meeting_by_id(session: AsyncSession, meeting_id: int) -> Meeting | None:
    """The meeting a row points to (e.g. a poll's fixed date); None once it was deleted."""
    return await session.get(Meeting, meeting_id)


# --- meeting series ---------------------------------------------------------------------------


async def create_series(
    session: AsyncSession,
    *,
    group_id: int,
    title: str,
    rrule: str,
    first_starts_at: datetime,
    timezone: str,
    duration_minutes: int | None,
    location: str | None,
    created_by_user_id: int,
    now: datetime,
) -> MeetingSeries:
    """A new series; none of its occurrences exists yet (they are materialized from its
    first start on)."""
    series = MeetingSeries(
        group_id=group_id,
        title=title,
        rrule=rrule,
        first_starts_at=first_starts_at,
        timezone=timezone,
        duration_minutes=duration_minutes,
        location=location,
        materialized_until=first_starts_at,
        sequence=0,
        created_at=now,
        updated_at=now,
        created_by_user_id=created_by_user_id,
    )
    session.add(series)
    await session.flush()
    return series


def mark_series_changed(series: MeetingSeries, now: datetime) -> None:
    """Like `mark_changed` for a whole series: calendars replace it by its higher SEQUENCE."""
    series.sequence += 1
    series.updated_at = now


async def series_of_group(session: AsyncSession, group_id: int) -> list[MeetingSeries]:
    """The group's series, oldest first: their place in this list is their number (S1, …)."""
    return list(
        await session.scalars(
            select(MeetingSeries)
            .where(MeetingSeries.group_id == group_id)
            .order_by(MeetingSeries.id)
        )
    )


async def series_to_extend(
    session: AsyncSession, horizon: datetime, group_id: int | None = None
) -> list[MeetingSeries]:
    """Running series (of every group, or of one) whose occurrences do not reach `horizon`."""
    query = select(MeetingSeries).where(
        MeetingSeries.ended_at.is_(None), MeetingSeries.materialized_until < horizon
    )
    if group_id is not None:
        query = query.where(MeetingSeries.group_id == group_id)
    return list(await session.scalars(query.order_by(MeetingSeries.id)))


async def has_occurrence(session: AsyncSession, series_id: int, recurrence_id: datetime) -> bool:
    """Whether the series' occurrence originally starting at `recurrence_id` exists."""
    found = await session.scalar(
        select(Meeting.id).where(
            Meeting.series_id == series_id, Meeting.recurrence_id == recurrence_id
        )
    )
    return found is not None


async def future_occurrences(session: AsyncSession, series_id: int, now: datetime) -> list[Meeting]:
    """The series' scheduled occurrences from `now` on, soonest first."""
    return list(
        await session.scalars(
            select(Meeting)
            .where(
                Meeting.series_id == series_id,
                Meeting.starts_at >= now,
                Meeting.status == MeetingStatus.SCHEDULED.value,
            )
            .order_by(Meeting.starts_at)
        )
    )


async def occurrence(
    session: AsyncSession, series_id: int, recurrence_id: datetime
) -> Meeting | None:
    """The series' occurrence that originally starts at `recurrence_id` (its RECURRENCE-ID)."""
    return await session.scalar(
        select(Meeting).where(
            Meeting.series_id == series_id, Meeting.recurrence_id == recurrence_id
        )
    )
