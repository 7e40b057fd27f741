"""The agenda draft of a new meeting: what the previous meeting left open comes back.

"Der Punkt wird in der nächsten Sitzung wieder aufgenommen" (TOPs marked to continue) and
the previous meeting's open action items ("Wiedervorlage") are put on the next agenda, and
the customary last item "Verschiedenes / nächste Termine" is added. Safe to call twice:
nothing already on the agenda is added again.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.enums import AgendaItemKind
from bot.core.i18n import N_, translator
from storage import agenda as agenda_store
from storage import meetings as meeting_store
from storage.db import Session
from storage.models import Meeting

MISC_TITLE = N_("Any other business / next dates")
FOLLOW_UP_TITLE = N_("Follow-up: A-{number} {text}")
TITLE_LIMIT = 300


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
    previous = await meeting_store.previous_meeting(session, meeting)
    if previous is not None:
        for item in await agenda_store.items_to_continue(session, previous.id):
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
        for action in await agenda_store.open_action_items(session, previous.id):
            title = _clip(t.gettext(FOLLOW_UP_TITLE, number=action.number, text=action.text))
            if title in titles:
                continue
            await agenda_store.add_item(session, meeting, title=title, now=now)
            titles.add(title)
    if not any(i.kind == AgendaItemKind.MISC.value for i in existing):
        await agenda_store.add_item(
            session, meeting, title=t.gettext(MISC_TITLE), kind=AgendaItemKind.MISC, now=now
        )
