"""A feed's ETag changes with every edit of every field the feed shows, whoever writes it
(bulk statements and raw SQL, not only the ORM): the validator reads per-group revisions
that database triggers raise (migration 0016_feedrev_calendar_revisions), not aggregates
that an edit of the same length or an id reused after a deletion would leave unchanged.
The fields walked are the ones the kept event texts are keyed by (storage/calendar_rows.py),
so a field the calendar starts to show is walked here too (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, DateTime, Integer, String, Text, delete, select, text, update
from sqlalchemy.orm import InstrumentedAttribute

from bot.app import Core
from bot.core.enums import AgendaItemStatus
from handlers.calendar.feeds import FeedBuilder
from storage import agenda
from storage.calendar_rows import AGENDA_FIELDS, MEETING_FIELDS, SERIES_FIELDS
from storage.models import (
    ActionItem,
    ActionItemAssignee,
    AgendaItem,
    CalendarFeed,
    Group,
    Meeting,
    MeetingSeries,
    UTCDateTime,
)
from tests.calendar.test_calendar_feed_fragments import add_dst_series, feed_ids
from tests.harness import Conversation, person

anna = person("anna")

# What a person's feed shows of an action item (handlers/calendar/events.action_item_event).
ACTION_ITEM_FIELDS = ("group_id", "number", "text", "due_date", "status", "updated_at")


async def etag(core: Core, feed_id: int) -> str:
    builder = FeedBuilder(core.services)
    async with core.services.sessions() as session:
        feed = await session.get(CalendarFeed, feed_id)
        assert feed is not None
        scope = await builder.scope(session, feed)
        assert scope is not None
        return (await builder.validator(session, scope)).etag


def other(column: InstrumentedAttribute[Any], value: object, choices: dict[str, object]) -> object:
    """A different value of the same kind; strings keep their length (what the old
    fingerprint, built from title lengths, could not see)."""
    if column.key in choices:
        return choices[column.key]
    kind = column.type
    if isinstance(value, str):
        return value[:-1] + ("a" if value[-1] != "a" else "b")
    if isinstance(value, datetime):
        return value + timedelta(minutes=1)
    if isinstance(value, date):
        return value + timedelta(days=1)
    if isinstance(value, int):
        return value + 1000
    assert value is None, (column.key, value)
    if isinstance(kind, String | Text):
        return "Neu"
    if isinstance(kind, DateTime | UTCDateTime):
        return datetime(2021, 6, 30, 9, 0, tzinfo=UTC)
    if isinstance(kind, Date):
        return date(2021, 7, 1)
    assert isinstance(kind, Integer), column.key
    return 45


async def test_every_field_a_feed_shows_changes_its_etag(chat: Conversation, core: Core) -> None:
    await chat.say(anna, "/sitzung 15.06.2021 9-12 Uhr Sitzung")
    await chat.say(anna, "/sitzung 22.06.2021 9-12 Uhr Zweite Sitzung")
    group_feed, person_feed, group_id = await feed_ids(core)
    await add_dst_series(core, group_id)
    now = core.services.clock.now()
    async with core.services.sessions() as session, session.begin():
        meetings = list(
            await session.scalars(
                select(Meeting).where(Meeting.series_id.is_(None)).order_by(Meeting.number)
            )
        )
        first, second = meetings[0], meetings[1]
        for title in ("Begrüßung", "Bericht der AG"):
            await agenda.add_item(
                session,
                first,
                title=title,
                now=now,
                presenter_name="Anna (IHK)",
                planned_start=first.starts_at,
            )
        other_group = Group(
            name="AG Qualität", kind="ag", timezone="Europe/Berlin", language="de", created_at=now
        )
        session.add(other_group)
        await session.flush()
        feed = await session.get(CalendarFeed, person_feed)
        assert feed is not None and feed.user_id is not None
        item = ActionItem(
            group_id=group_id,
            number=1,
            text="Termin koordinieren",
            due_date=date(2021, 7, 15),
            created_at=now,
            updated_at=now,
        )
        session.add(item)
        await session.flush()
        session.add(ActionItemAssignee(action_item_id=item.id, user_id=feed.user_id))
        series_id = await session.scalar(select(MeetingSeries.id))
        first_id, second_id, other_group_id = first.id, second.id, other_group.id
        item_id, user_id = item.id, feed.user_id

    async def edits(
        model: type, fields: tuple[str, ...], row_id: int, choices: dict[str, object], feed: int
    ) -> list[str]:
        unchanged = []
        # Moving the row to another group last: after that it is no longer in this feed.
        for field in sorted(fields, key=lambda name: name == "group_id"):
            if field == "id":
                continue
            column = getattr(model, field)
            async with core.services.sessions() as session:
                value = await session.scalar(select(column).where(model.id == row_id))
            before = await etag(core, feed)
            async with core.services.sessions() as session, session.begin():
                await session.execute(
                    update(model)
                    .where(model.id == row_id)
                    .values({field: other(column, value, choices)})
                )
            if await etag(core, feed) == before:
                unchanged.append(f"{model.__name__}.{field}")
        return unchanged

    unchanged = await edits(
        AgendaItem,
        AGENDA_FIELDS,
        await last_item(core, first_id),
        {"meeting_id": second_id, "status": AgendaItemStatus.PROPOSED.value, "kind": "break"},
        group_feed,
    )
    unchanged += await edits(
        Meeting,
        MEETING_FIELDS,
        first_id,
        {"group_id": other_group_id, "series_id": series_id, "status": "cancelled"},
        group_feed,
    )
    unchanged += await edits(
        MeetingSeries, SERIES_FIELDS, series_id, {"group_id": other_group_id}, group_feed
    )
    unchanged += await edits(
        ActionItem, ACTION_ITEM_FIELDS, item_id, {"group_id": other_group_id}, person_feed
    )
    assert not unchanged, "edits the ETag did not see: " + ", ".join(unchanged)

    # The assignment itself, taken back and made again.
    before = await etag(core, person_feed)
    async with core.services.sessions() as session, session.begin():
        await session.execute(
            delete(ActionItemAssignee).where(ActionItemAssignee.action_item_id == item_id)
        )
    taken_back = await etag(core, person_feed)
    async with core.services.sessions() as session, session.begin():
        session.add(ActionItemAssignee(action_item_id=item_id, user_id=user_id))
    assert len({before, taken_back, await etag(core, person_feed)}) == 3


async def last_item(core: Core, meeting_id: int) -> int:
    async with core.services.sessions() as session:
        found = await session.scalar(
            select(AgendaItem.id)
            .where(AgendaItem.meeting_id == meeting_id)
            .order_by(AgendaItem.id.desc())
        )
    assert found is not None
    return found


async def test_raw_sql_and_a_replaced_item_change_the_etag(chat: Conversation, core: Core) -> None:
    """The two edits the old aggregates missed: a title of the same length written by raw
    SQL, and the last agenda item deleted and another of the same title length added (SQLite
    may hand the new one the old id)."""
    await chat.say(anna, "/sitzung 15.06.2021 9-12 Uhr Sitzung")
    group_feed, _, _ = await feed_ids(core)
    now = core.services.clock.now()
    async with core.services.sessions() as session, session.begin():
        meeting = await session.scalar(select(Meeting))
        assert meeting is not None
        await agenda.add_item(session, meeting, title="Bericht", now=now)
        meeting_id = meeting.id
    item_id = await last_item(core, meeting_id)
    before = await etag(core, group_feed)
    async with core.services.sessions() as session, session.begin():
        await session.execute(
            text("UPDATE agenda_items SET title = 'Berichx' WHERE id = :id"), {"id": item_id}
        )
    retitled = await etag(core, group_feed)
    assert retitled != before
    async with core.services.sessions() as session, session.begin():
        await session.execute(delete(AgendaItem).where(AgendaItem.id == item_id))
        meeting = await session.get(Meeting, meeting_id)
        assert meeting is not None
        await agenda.add_item(session, meeting, title="Haushalt", now=now)
    assert await etag(core, group_feed) not in (before, retitled)
