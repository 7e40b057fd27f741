"""The agenda draft of a new meeting: what the previous meeting left open comes back.

"Der Punkt wird in der nächsten Sitzung wieder aufgenommen" (TOPs marked to continue) and
the previous meeting's open action items ("Wiedervorlage") are put on the next agenda, and
the customary last item "Verschiedenes / nächste Termine" is added. Safe to call twice:
nothing already on the agenda is added again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.core.enums import ActionItemStatus, AgendaItemKind, AgendaItemStatus, MeetingStatus
from bot.core.i18n import N_, translator
from storage import agenda as agenda_store
from storage.db import Session
from storage.models import ActionItem, AgendaItem, Meeting

MISC_TITLE = N_("Any other business / next dates")
FOLLOW_UP_TITLE = N_("Follow-up: A-{number} {text}")
TITLE_LIMIT = 300


async def previous_meeting(session: Session, meeting: Meeting) -> Meeting | None:
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


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TITLE_LIMIT else text[: TITLE_LIMIT - 1] + "…"


async def create_agenda_draft(
    session: Session, meeting: Meeting, *, language: str, now: datetime
) -> None:
    """Fill the agenda of `meeting` (in `language`) from what its predecessor left open."""
    t = translator(language)
    existing = await agenda_store.items_of(session, meeting.id)
    carried_ids = {i.carried_from_id for i in existing if i.carried_from_id is not None}
    titles = {i.title for i in existing}
    previous = await previous_meeting(session, meeting)
    if previous is not None:
        continued = await session.scalars(
            select(AgendaItem)
            .where(
                AgendaItem.meeting_id == previous.id,
                AgendaItem.continue_next_time.is_(True),
                AgendaItem.status == AgendaItemStatus.ACCEPTED.value,
            )
            .order_by(AgendaItem.position)
        )
        for item in continued:
            if item.id in carried_ids:
                continue
            await agenda_store.add_item(
                session,
                meeting,
                title=item.title,
                now=now,
                presenter_user_id=item.presenter_user_id,
                presenter_name=item.presenter_name,
                carried_from_id=item.id,
            )
        open_items = await session.scalars(
            select(ActionItem)
            .where(
                ActionItem.meeting_id == previous.id,
                ActionItem.status == ActionItemStatus.OPEN.value,
            )
            .order_by(ActionItem.number)
        )
        for action in open_items:
            title = _clip(t.gettext(FOLLOW_UP_TITLE, number=action.number, text=action.text))
            if title in titles:
                continue
            await agenda_store.add_item(session, meeting, title=title, now=now)
            titles.add(title)
    if not any(i.kind == AgendaItemKind.MISC.value for i in existing):
        await agenda_store.add_item(
            session, meeting, title=t.gettext(MISC_TITLE), kind=AgendaItemKind.MISC, now=now
        )
