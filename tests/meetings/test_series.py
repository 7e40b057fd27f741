"""Meeting series through chat commands (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

from sqlalchemy import select

from storage.models import AgendaItem, Meeting, MeetingSeries
from tests.harness import OTHER_GROUP, Conversation, person

anna, bernd, clara = person("anna"), person("bernd"), person("clara")


async def _meetings(core) -> list[Meeting]:
    async with core.services.sessions() as session:
        return list(await session.scalars(select(Meeting).order_by(Meeting.number)))


async def test_series_creates_occurrences_with_agenda_and_extends_lazily(
    chat: Conversation, core
) -> None:
    # the clock stands at Thu 10.06.2021 10:00 Berlin: today's 2nd Thursday has begun
    created = await chat.text(
        anna, '/serie jeden 2. Donnerstag im Monat 9-10 Uhr "AG Transfer" | https://meet.x/ag'
    )
    assert "S1 AG Transfer – jeden 2. Donnerstag im Monat, 9:00–10:00 Uhr" in created
    assert "#1 AG Transfer – Do, 08.07.2021, 9:00–10:00 Uhr" in created
    assert "#2 AG Transfer – Do, 12.08.2021" in created
    meetings = await _meetings(core)
    assert [m.starts_at.isoformat() for m in meetings] == [
        "2021-07-08T07:00:00+00:00",
        "2021-08-12T07:00:00+00:00",
        "2021-09-09T07:00:00+00:00",
    ]
    assert all(m.recurrence_id == m.starts_at and m.series_id for m in meetings)
    assert all(m.location == "https://meet.x/ag" for m in meetings)
    async with core.services.sessions() as session:
        misc = await session.scalars(select(AgendaItem.title).where(AgendaItem.kind == "misc"))
        assert list(misc) == ["Verschiedenes / nächste Termine"] * 3
    core.services.clock.advance(timedelta(days=40))
    listed = await chat.text(bernd, "/sitzungen")
    assert "#4 AG Transfer – Do, 14.10.2021" in listed
    assert len(await _meetings(core)) == 4
    assert "S1 AG Transfer" in await chat.text(bernd, "/serien")


async def test_single_occurrences_move_or_cancel_and_the_series_follows_edits(
    chat: Conversation, core
) -> None:
    await chat.say(anna, "/serie wöchentlich montags 9-10 Uhr Jour fixe")
    before = {m.number: m for m in await _meetings(core)}
    moved = await chat.text(anna, "/verschieben 2 22.06.2021 14-15 Uhr")
    assert "#2 Jour fixe – Di, 22.06.2021, 14:00–15:00 Uhr" in moved
    await chat.say(anna, "/absagen 3")
    after = {m.number: m for m in await _meetings(core)}
    assert after[2].recurrence_id == before[2].recurrence_id  # the original start stays
    assert after[2].sequence == 1 and after[3].sequence == 1 and after[1].sequence == 0
    assert after[3].status == "cancelled"
    changed = await chat.text(anna, "/serieaendern S1 zeit 10-11:30 Uhr")
    assert "jeden Montag, 10:00–11:30 Uhr" in changed
    edited = {m.number: m for m in await _meetings(core)}
    assert edited[1].starts_at.isoformat() == "2021-06-14T08:00:00+00:00"  # 10:00 Berlin
    assert edited[1].ends_at.isoformat() == "2021-06-14T09:30:00+00:00"
    assert edited[1].sequence == 1
    assert edited[2].starts_at == after[2].starts_at  # moved on its own: keeps its date
    assert edited[2].recurrence_id.isoformat() == "2021-06-21T08:00:00+00:00"
    renamed = await chat.text(anna, "/serieaendern S1 titel Wochenrunde")
    assert "S1 Wochenrunde" in renamed
    assert "#4 Wochenrunde" in await chat.text(bernd, "/sitzungen")
    ended = await chat.text(anna, "/serieende S1 05.07.2021")
    assert "endet am 05.07.2021" in ended
    listed = await chat.text(bernd, "/sitzungen")
    assert "05.07.2021" in listed and "12.07.2021" not in listed
    core.services.clock.advance(timedelta(days=60))
    await chat.say(bernd, "/sitzungen")  # no new occurrences after the end
    assert max(m.starts_at for m in await _meetings(core) if m.status == "scheduled").date() <= (
        edited[1].starts_at.date() + timedelta(days=21)
    )


async def test_nine_oclock_local_across_the_autumn_clock_change(chat: Conversation, core) -> None:
    core.services.clock.advance(timedelta(days=120))  # 08.10.2021
    await chat.say(anna, "/serie montags 9 Uhr Frührunde")
    starts = [m.starts_at for m in await _meetings(core)][:4]
    assert [s.isoformat() for s in starts] == [
        "2021-10-11T07:00:00+00:00",
        "2021-10-18T07:00:00+00:00",
        "2021-10-25T07:00:00+00:00",
        "2021-11-01T08:00:00+00:00",  # winter time: still 9:00 in Berlin
    ]
    assert "Mo, 01.11.2021, 9:00 Uhr" in await chat.text(bernd, "/sitzungen")


async def test_bad_series_input_and_permissions(chat: Conversation) -> None:
    assert "nur Vorsitzende" in await chat.text(bernd, "/serie montags 9 Uhr Test")
    assert "Wiederholung" in await chat.text(anna, "/serie nächste Woche 9 Uhr Test")
    assert "Uhrzeit" in await chat.text(anna, "/serie jeden Montag Test")
    assert "Titel" in await chat.text(anna, "/serie jeden Montag 9 Uhr")
    assert "keine Serie S4" in await chat.text(anna, "/serieende S4")
    assert "Beispiel" in await chat.text(anna, "/serie alle 99 Wochen montags 9 Uhr X")


async def test_another_group_cannot_see_or_change_our_series(chat: Conversation, core) -> None:
    await chat.say(anna, "/serie montags 9 Uhr Intern")
    chat.platform.admins.add((OTHER_GROUP.chat_id, clara.user_id))
    await chat.say(clara, '/registrieren ag "AG Qualität"', OTHER_GROUP)
    assert "Intern" not in await chat.text(clara, "/serien", OTHER_GROUP)
    assert "keine Serie S1" in await chat.text(clara, "/serieende S1", OTHER_GROUP)
    assert "keine Serie S1" in await chat.text(clara, "/serieaendern S1 titel X", OTHER_GROUP)
    async with core.services.sessions() as session:
        series = await session.scalar(select(MeetingSeries))
    assert series.title == "Intern" and series.ended_at is None


async def test_an_earlier_time_neither_loses_nor_doubles_occurrences(
    chat: Conversation, core
) -> None:
    from datetime import time
    from zoneinfo import ZoneInfo

    await chat.say(anna, "/serie montags 10 Uhr Runde")
    async with core.services.sessions() as session:
        series = await session.scalar(select(MeetingSeries))
    # the horizon ends at a local midnight, so no occurrence straddles it after a time change
    assert series.materialized_until.astimezone(ZoneInfo("Europe/Berlin")).time() == time(0)
    await chat.say(anna, "/serieaendern S1 zeit 9 Uhr")
    for _ in range(6):
        core.services.clock.advance(timedelta(days=5, hours=7))
        await chat.say(bernd, "/sitzungen")
    starts = [m.starts_at for m in await _meetings(core)]
    assert starts == sorted(starts) and len(starts) > 15
    days = [s.astimezone(ZoneInfo("Europe/Berlin")).date() for s in starts]
    assert {b - a for a, b in pairwise(days)} == {timedelta(days=7)}
    assert {s.astimezone(ZoneInfo("Europe/Berlin")).time() for s in starts} == {time(9)}


async def test_english_series(chat: Conversation) -> None:
    await chat.say(anna, "/language en")
    created = await chat.text(anna, "/series every 2nd Thursday 9-10am Check-in | Room 1")
    assert "S1 Check-in – the 2nd Thursday of every month, 09:00–10:00" in created
    assert "#1 Check-in – Thu 2021-07-08, 09:00–10:00" in created
    ended = await chat.text(anna, "/endseries S1 2021-08-31")
    assert "Series S1 ends on 2021-08-31; 1 later meeting was cancelled." in ended
    assert "no series S2" in await chat.text(anna, "/editseries S2 title X")
