"""The helpers other features build on: the active meeting, its current TOP, the agenda
draft with carried-over TOPs and the "Wiedervorlage" of open action items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.core.enums import ActionItemStatus, AgendaItemKind
from handlers.agenda.draft import create_agenda_draft
from storage import agenda, meetings
from storage.models import ActionItem, Group, Meeting

BERLIN_9 = datetime(2021, 6, 10, 7, 0, tzinfo=UTC)  # 9:00 summer time


async def _group(session, name: str = "AG Transfer") -> Group:
    group = Group(
        name=name, kind="ag", timezone="Europe/Berlin", language="de", created_at=BERLIN_9
    )
    session.add(group)
    await session.flush()
    return group


async def _meeting(session, group: Group, starts_at: datetime, hours: int | None = 2) -> Meeting:
    return await meetings.create_meeting(
        session,
        group_id=group.id,
        title="Sitzung",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours) if hours else None,
        location=None,
        created_by_user_id=None,
        now=BERLIN_9,
    )


async def test_active_meeting_is_the_running_one_else_todays_latest(core) -> None:
    async with core.services.sessions() as session:
        group = await _group(session)
        other = await _group(session, "AG Qualität")
        morning = await _meeting(session, group, BERLIN_9)
        afternoon = await _meeting(session, group, BERLIN_9 + timedelta(hours=5))
        await _meeting(session, other, BERLIN_9)
        tomorrow = await _meeting(session, group, BERLIN_9 + timedelta(days=1))
        active = agenda.active_meeting
        assert await active(session, group.id, BERLIN_9 + timedelta(minutes=30)) is morning
        # between the two: the morning one was the most recent
        assert await active(session, group.id, BERLIN_9 + timedelta(hours=3)) is morning
        assert await active(session, group.id, BERLIN_9 + timedelta(hours=6)) is afternoon
        # before the first one of the day: the next one today
        assert await active(session, group.id, BERLIN_9 - timedelta(hours=2)) is morning
        # late at night (23:30 local): still today's last meeting, not tomorrow's
        assert await active(session, group.id, BERLIN_9 + timedelta(hours=14, minutes=30)) is (
            afternoon
        )
        assert await active(session, group.id, BERLIN_9 + timedelta(days=1)) is tomorrow
        assert await active(session, group.id, BERLIN_9 + timedelta(days=3)) is None


async def test_current_item_belongs_to_the_meeting(core) -> None:
    async with core.services.sessions() as session:
        group = await _group(session)
        first = await _meeting(session, group, BERLIN_9)
        second = await _meeting(session, group, BERLIN_9 + timedelta(days=7))
        item = await agenda.add_item(session, first, title="Bericht", now=BERLIN_9)
        assert await agenda.current_agenda_item(session, first) is None
        first.current_agenda_item_id = item.id
        assert await agenda.current_agenda_item(session, first) is item
        second.current_agenda_item_id = item.id  # an id of another meeting finds nothing
        assert await agenda.current_agenda_item(session, second) is None


async def test_draft_carries_over_open_work_and_ends_with_misc(core) -> None:
    async with core.services.sessions() as session:
        group = await _group(session)
        previous = await _meeting(session, group, BERLIN_9)
        await create_agenda_draft(session, previous, language="de", now=BERLIN_9)
        kept = await agenda.add_item(session, previous, title="Weiterbildungskonzept", now=BERLIN_9)
        kept.continue_next_time = True
        await agenda.add_item(session, previous, title="Erledigt", now=BERLIN_9)
        for number, (text, status) in enumerate(
            [("Termin koordinieren", ActionItemStatus.OPEN), ("Alt", ActionItemStatus.DONE)], 1
        ):
            session.add(
                ActionItem(
                    group_id=group.id,
                    number=number,
                    text=text,
                    status=status.value,
                    meeting_id=previous.id,
                    created_at=BERLIN_9,
                    updated_at=BERLIN_9,
                )
            )
        await session.flush()
        following = await _meeting(session, group, BERLIN_9 + timedelta(days=14))
        await create_agenda_draft(session, following, language="de", now=BERLIN_9)
        await create_agenda_draft(session, following, language="de", now=BERLIN_9)  # no dupes
        items = await agenda.accepted_items(session, following.id)
        assert [(i.position, i.title) for i in items] == [
            (1, "Weiterbildungskonzept"),
            (2, "Wiedervorlage: A-1 Termin koordinieren"),
            (3, "Verschiedenes / nächste Termine"),
        ]
        assert items[0].carried_from_id == kept.id
        assert items[-1].kind == AgendaItemKind.MISC.value
        # a new item still goes before the last one
        await agenda.add_item(session, following, title="Neu", now=BERLIN_9)
        items = await agenda.accepted_items(session, following.id)
        assert [i.title for i in items][-2:] == ["Neu", "Verschiedenes / nächste Termine"]
        english = await _meeting(session, group, BERLIN_9 + timedelta(days=28))
        await create_agenda_draft(session, english, language="en", now=BERLIN_9)
        titles = [i.title for i in await agenda.accepted_items(session, english.id)]
        assert titles == ["Any other business / next dates"]
        rows = await session.scalars(select(Meeting).where(Meeting.group_id == group.id))
        assert len(list(rows)) == 3
