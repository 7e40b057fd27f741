"""State changes of meetings that several commands and jobs share."""

from __future__ import annotations

from datetime import datetime

from bot.core.enums import MeetingStatus
from handlers.agenda.draft import create_agenda_draft
from handlers.calendar import invitations
from handlers.context import HandlerContext
from storage import meetings as meeting_store
from storage.db import Session
from storage.models import Group, Meeting


async def open_meeting(
    session: Session,
    group: Group,
    *,
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
    """A new meeting of `group` with its agenda draft (in the group's language): the one way
    a meeting comes about, whether scheduled, picked from a date poll or a series' occurrence."""
    meeting = await meeting_store.create_meeting(
        session,
        group_id=group.id,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        location=location,
        created_by_user_id=created_by_user_id,
        now=now,
        description=description,
        series_id=series_id,
        recurrence_id=recurrence_id,
    )
    await create_agenda_draft(session, meeting, language=group.language, now=now)
    return meeting


async def answer_meeting(
    session: Session, meeting: Meeting, user_id: int, answer: str, now: datetime
) -> bool:
    """Record a person's yes / maybe / no to a meeting: the one way an answer is given,
    whether by /zusage, a button or a calendar app's reply by e-mail. A cancelled meeting
    takes no answers (False)."""
    if meeting.status == MeetingStatus.CANCELLED.value:
        return False
    await meeting_store.set_rsvp(session, meeting.id, user_id, answer, now)
    return True


def held_already(meeting: Meeting, now: datetime) -> bool:
    """A meeting that has begun: recorded afterwards, it gets no invitation or reminder."""
    return meeting.starts_at <= now


async def invite(ctx: HandlerContext, meeting: Meeting) -> None:
    """Calendar invitations for this version of the meeting, unless it has begun already:
    nobody needs a calendar entry for a meeting that took place."""
    if not held_already(meeting, ctx.now):
        await invitations.meeting_changed(ctx, meeting)


async def bring_about(
    ctx: HandlerContext,
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime | None,
    location: str | None,
    description: str | None = None,
) -> Meeting:
    """A chair's new meeting of this group, by command or a date poll's pick: created with
    its agenda and, when it lies ahead, the invitations (.ics) to every member. A series
    sends its invitation once for all its meetings (`invitations.series_changed`)."""
    assert ctx.group is not None
    meeting = await open_meeting(
        ctx.session,
        ctx.group,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        location=location,
        created_by_user_id=ctx.user.id,
        now=ctx.now,
        description=description,
    )
    await invite(ctx, meeting)
    return meeting
