"""State changes of meetings that several commands and jobs share."""

from __future__ import annotations

from datetime import datetime

from bot.core.enums import MeetingStatus
from handlers.agenda.draft import create_agenda_draft
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
