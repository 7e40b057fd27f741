"""Feeds rebuilt from kept event texts: after any change the bytes equal a whole rebuild,
only what changed is written again, the cache stays within its bound, and a second process
changing the database never leaves a stale event (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import icalendar
from sqlalchemy import delete, select, update

from bot.app import Core
from bot.core.enums import FeedKind
from bot.feed_server import FeedServer
from handlers.calendar.feeds import FeedBuilder
from storage import agenda
from storage import calendar as calendar_store
from storage.models import CalendarFeed, Group, Identity, Meeting, MeetingSeries, User
from tests.feeds import feed_token_in
from tests.harness import Conversation, dm, person
from tests.ports import free_port

anna = person("anna")
BERLIN = ZoneInfo("Europe/Berlin")


async def rendered(core: Core, builder: FeedBuilder, feed_id: int) -> tuple[bytes, int]:
    """The feed from kept texts, checked byte for byte against a whole rebuild; and how
    many units (a meeting, or a whole series) had to be written."""
    async with core.services.sessions() as session:
        feed = await session.get(CalendarFeed, feed_id)
        assert feed is not None
        scope = await builder.scope(session, feed)
        assert scope is not None
        before = builder.fragments.misses
        body = await builder.render(session, scope)
        written = builder.fragments.misses - before
        whole = await builder.render_whole(session, scope)
    assert body == whole
    return body, written


def unfolded(body: bytes) -> str:
    return body.replace(b"\r\n ", b"").decode()


async def add_dst_series(core: Core, group_id: int) -> None:
    """Thursdays 9–10 Uhr Berlin from 21.10.2021, four times: two in summer time, two after
    the clocks went back on 31.10. (UTC 7:00, then 8:00)."""
    now = core.services.clock.now()
    first = datetime(2021, 10, 21, 9, 0, tzinfo=BERLIN)
    async with core.services.sessions() as session, session.begin():
        series = MeetingSeries(
            group_id=group_id,
            title="Jour fixe",
            rrule="FREQ=WEEKLY;COUNT=4",
            first_starts_at=first.astimezone(UTC),
            timezone="Europe/Berlin",
            duration_minutes=60,
            location=None,
            materialized_until=(first + timedelta(weeks=4)).astimezone(UTC),
            sequence=0,
            created_at=now,
            updated_at=now,
        )
        session.add(series)
        await session.flush()
        for index in range(4):
            local = first + timedelta(weeks=index)  # wall time: 9:00 each week
            start = local.astimezone(UTC)
            session.add(
                Meeting(
                    group_id=group_id,
                    number=20 + index,
                    title="Jour fixe",
                    starts_at=start,
                    ends_at=start + timedelta(hours=1),
                    series_id=series.id,
                    recurrence_id=start,
                    created_at=now,
                    updated_at=now,
                )
            )


async def feed_ids(core: Core) -> tuple[int, int, int]:
    """The group's feed and Anna's personal feed; and the group's id."""
    now = core.services.clock.now()
    async with core.services.sessions() as session, session.begin():
        group = await session.scalar(select(Group).where(Group.name == "AG Transfer"))
        assert group is not None
        user_ids = list(await session.scalars(select(User.id)))
        await calendar_store.issue(session, FeedKind.GROUP, group.id, now)
        for user_id in user_ids:
            await calendar_store.issue(session, FeedKind.PERSON, user_id, now)
        group_feed = await session.scalar(
            select(CalendarFeed.id).where(CalendarFeed.group_id == group.id)
        )
        person_feed = await session.scalar(
            select(CalendarFeed.id).where(CalendarFeed.user_id == user_ids[0])
        )
    assert group_feed is not None and person_feed is not None
    return group_feed, person_feed, group.id


async def test_each_change_writes_only_its_event_and_the_bytes_of_a_whole_rebuild(
    chat: Conversation, core: Core
) -> None:
    for day in (15, 22, 29):
        await chat.say(anna, f"/sitzung {day}.06.2021 9-12 Uhr Sitzung am {day}.")
    group_feed, person_feed, group_id = await feed_ids(core)
    await add_dst_series(core, group_id)
    builder = FeedBuilder(core.services)
    body, written = await rendered(core, builder, group_feed)
    assert written == 4  # three meetings and one series
    assert (await rendered(core, builder, person_feed))[1] == 4  # another style: own texts
    assert (await rendered(core, builder, group_feed))[1] == 0
    vtimezone = body.split(b"BEGIN:VTIMEZONE")[1]
    assert b"TZOFFSETTO:+0100" in vtimezone and b"TZOFFSETTO:+0200" in vtimezone

    async def change(statement: object) -> None:
        async with core.services.sessions() as session, session.begin():
            await session.execute(statement)  # type: ignore[call-overload]

    # What no calendar shows (the TOP under discussion) writes nothing again.
    await change(update(Meeting).where(Meeting.number == 1).values(current_agenda_item_id=7))
    assert (await rendered(core, builder, group_feed))[1] == 0

    # An edit that leaves updated_at and SEQUENCE alone (same clock tick): still written.
    await change(update(Meeting).where(Meeting.number == 1).values(title="Neuer Titel"))
    body, written = await rendered(core, builder, group_feed)
    assert written == 1 and "SUMMARY:Neuer Titel" in unfolded(body)
    assert (await rendered(core, builder, person_feed))[1] == 1

    await chat.say(anna, "/absagen 2")
    body, written = await rendered(core, builder, group_feed)
    assert written == 1 and unfolded(body).count("STATUS:CANCELLED") == 1

    await chat.say(anna, "/sitzung 06.07.2021 9-12 Uhr Juli-Sitzung")
    body, written = await rendered(core, builder, group_feed)
    assert written == 1 and "Juli-Sitzung" in unfolded(body)

    await change(delete(Meeting).where(Meeting.number == 3))
    body, written = await rendered(core, builder, group_feed)
    assert written == 0 and "am 29." not in unfolded(body)

    # The series across the clock change: one date moved to 11:00 (an override).
    moved = datetime(2021, 11, 4, 11, 0, tzinfo=BERLIN).astimezone(UTC)
    await change(
        update(Meeting)
        .where(Meeting.number == 22)
        .values(starts_at=moved, ends_at=moved + timedelta(hours=1), sequence=1)
    )
    body, written = await rendered(core, builder, group_feed)
    assert written == 1  # the series, as one unit
    text = unfolded(body)
    assert "RECURRENCE-ID;TZID=Europe/Berlin:20211104T090000" in text
    assert "DTSTART;TZID=Europe/Berlin:20211104T110000" in text

    # An agenda item's presenter renamed (same length, no timestamp on agenda items).
    async with core.services.sessions() as session, session.begin():
        meeting = await session.scalar(select(Meeting).where(Meeting.number == 1))
        assert meeting is not None
        item = await agenda.add_item(
            session, meeting, title="Bericht", now=core.services.clock.now(), presenter_name="Ina"
        )
    assert (await rendered(core, builder, group_feed))[1] == 1
    await change(update(type(item)).where(type(item).id == item.id).values(presenter_name="Ida"))
    body, written = await rendered(core, builder, group_feed)
    assert written == 1 and "Bericht | Ida" in unfolded(body)

    # The reader's language: every text of that feed again, in English.
    await change(update(User).values(language="en"))
    body, written = await rendered(core, builder, person_feed)
    assert written == 4 and "Reply in the group chat" in unfolded(body)
    # The group's name is in every event: renamed, all are written again.
    await change(update(Group).where(Group.id == group_id).values(name="AG Transfer Nord"))
    body, written = await rendered(core, builder, group_feed)
    text = unfolded(body)
    assert written == 4 and "DESCRIPTION:AG Transfer\\, " not in text
    assert text.count("DESCRIPTION:AG Transfer Nord\\, ") == 5  # with the series' override
    assert (await rendered(core, builder, group_feed))[1] == 0


async def bulk_meetings(core: Core, group_id: int, count: int) -> None:
    now = core.services.clock.now()
    async with core.services.sessions() as session, session.begin():
        for number in range(1, count + 1):
            start = now + timedelta(days=number)
            session.add(
                Meeting(
                    group_id=group_id,
                    number=100 + number,
                    title=f"Sitzung {number}",
                    starts_at=start,
                    ends_at=start + timedelta(hours=2),
                    created_at=now,
                    updated_at=now,
                )
            )


async def test_the_kept_texts_stay_within_their_bound(chat: Conversation, core: Core) -> None:
    group_feed, _, group_id = await feed_ids(core)
    await bulk_meetings(core, group_id, 60)
    bound = 40_000
    builder = FeedBuilder(core.services, fragment_bytes=bound)
    for _ in range(3):
        body, _ = await rendered(core, builder, group_feed)
        assert body.count(b"BEGIN:VEVENT") == 60
        assert 0 < builder.fragments.bytes <= bound
        assert 0 < len(builder.fragments) < 60  # least recently used went out
    # One text larger than the whole bound is written but not kept.
    tiny = FeedBuilder(core.services, fragment_bytes=100)
    await rendered(core, tiny, group_feed)
    assert len(tiny.fragments) == 0 and tiny.fragments.bytes == 0


async def test_a_second_process_changing_the_database_leaves_nothing_stale(
    chat: Conversation, core: Core, http: aiohttp.ClientSession
) -> None:
    """Two bot processes on one database, each with its own cache and feed server: what
    one changes, the other's feed shows at once, byte for byte as a whole rebuild."""
    await chat.say(anna, "/sitzung 15.06.2021 9-12 Uhr Sitzung Juni")
    await chat.say(anna, "/sitzung 22.06.2021 9-12 Uhr Zweite Sitzung")
    token = feed_token_in(await chat.text(anna, "/kalender", dm(anna)))
    other = await Core.create(core.services.settings, core.services.clock)
    first, second = FeedServer(core.services), FeedServer(other.services)
    await first.start("127.0.0.1", 0)
    await second.start("127.0.0.1", 0)
    try:

        async def fetch(server: FeedServer) -> bytes:
            url = f"http://127.0.0.1:{server.port}/calendar/{token}.ics"
            async with http.get(url) as response:
                assert response.status == 200
                return await response.read()

        async def whole(server: FeedServer) -> bytes:
            async with server.services.sessions() as session:
                feed = await calendar_store.feed_for_token(session, token)
                assert feed is not None
                scope = await server.builder.scope(session, feed)
                assert scope is not None
                return await server.builder.render_whole(session, scope)

        assert await fetch(first) == await fetch(second)  # both caches warm
        for round_, server in enumerate((second, first, second)):
            # A change through the other process's database connection, in the same clock
            # tick: updated_at stays, SEQUENCE goes up (as a calendar-visible change does).
            async with server.services.sessions() as session, session.begin():
                await session.execute(
                    update(Meeting)
                    .where(Meeting.number == 1)
                    .values(title=f"Runde {round_}", sequence=Meeting.sequence + 1)
                )
            reader = first if server is second else second
            body = await fetch(reader)
            assert f"Runde {round_}" in unfolded(body)
            assert body == await whole(reader) == await fetch(server)
        await chat.say(anna, "/absagen 2")
        for server in (first, second):
            body = await fetch(server)
            [cancelled] = [
                e
                for e in icalendar.Calendar.from_ical(body).walk("VEVENT")
                if e["STATUS"] == "CANCELLED"
            ]
            assert "Zweite Sitzung" in str(cancelled["SUMMARY"])
            assert body == await whole(server)
        assert first.builder.fragments.hits > 0 and second.builder.fragments.hits > 0
    finally:
        await first.stop()
        await second.stop()
        await other.close()


async def test_a_real_second_bot_process_never_serves_a_stale_event(
    chat: Conversation, core: Core, http: aiohttp.ClientSession, database_url: str, tmp_path: Path
) -> None:
    """`python -m bot` as a second process on the same database serves the feed from its
    own kept texts; every change made here shows there at once, byte for byte as a whole
    rebuild here."""
    await chat.say(anna, "/sitzung 15.06.2021 9-12 Uhr Sitzung Juni")
    await chat.say(anna, "/sitzung 22.06.2021 9-12 Uhr Zweite Sitzung")
    token = feed_token_in(await chat.text(anna, "/kalender", dm(anna)))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATRIX_"))}
    env.update(DATABASE_URL=database_url, HTTP_SERVER="on", HTTP_PORT=str(port))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--console",
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.2)

        async def served() -> bytes:
            async with http.get(f"{base}/calendar/{token}.ics") as response:
                assert response.status == 200
                return await response.read()

        async def whole() -> bytes:
            builder = FeedBuilder(core.services)
            async with core.services.sessions() as session:
                feed = await calendar_store.feed_for_token(session, token)
                assert feed is not None
                scope = await builder.scope(session, feed)
                assert scope is not None
                return await builder.render_whole(session, scope)

        assert await served() == await whole()
        for round_ in range(3):
            async with core.services.sessions() as session, session.begin():
                await session.execute(
                    update(Meeting)
                    .where(Meeting.number == 1)
                    .values(title=f"Runde {round_}", sequence=Meeting.sequence + 1)
                )
            body = await served()
            assert f"Runde {round_}" in unfolded(body)
            assert body == await whole()
        await chat.say(anna, "/absagen 2")
        body = await served()
        assert unfolded(body).count("STATUS:CANCELLED") == 1 and body == await whole()
    finally:
        _, errors = await asyncio.wait_for(process.communicate(b":quit\n"), 60)
    assert process.returncode == 0, errors.decode()


async def test_an_erased_presenter_leaves_no_feed_unchanged(
    chat: Conversation, core: Core, http: aiohttp.ClientSession
) -> None:
    """Erasure renames a TOP's presenter to "ehemaliges Mitglied" without touching the
    meeting: the validator must change, or a calendar holding the old ETag gets 304 and a
    cached body keeps the name."""
    bernd = person("bernd")
    await chat.say(bernd, "/beitreten")
    await chat.say(bernd, "/start", dm(bernd))
    await chat.say(anna, "/sitzung 15.06.2021 9-12 Uhr Sitzung Juni")
    token = feed_token_in(await chat.text(anna, "/kalender", dm(anna)))
    async with core.services.sessions() as session, session.begin():
        meeting = await session.scalar(select(Meeting))
        bernd_id = await session.scalar(
            select(Identity.user_id).where(Identity.platform_user_id == bernd.user_id)
        )
        assert meeting is not None and bernd_id is not None
        await agenda.add_item(
            session,
            meeting,
            title="Bericht",
            now=core.services.clock.now(),
            presenter_user_id=bernd_id,
            presenter_name="Bernd Beispiel, HWK",  # as long as "ehemaliges Mitglied"
        )
    server = FeedServer(core.services)
    await server.start("127.0.0.1", 0)
    try:
        url = f"http://127.0.0.1:{server.port}/calendar/{token}.ics"
        async with http.get(url) as response:
            etag = response.headers["ETag"]
            assert "Bernd Beispiel" in unfolded(await response.read())
        await chat.say(bernd, "/datenloeschen ja", dm(bernd))
        async with http.get(url, headers={"If-None-Match": etag}) as response:
            assert response.status == 200
            body = await response.read()
        assert "Bernd Beispiel" not in unfolded(body)
        assert "Bericht | ehemaliges Mitglied" in unfolded(body)
    finally:
        await server.stop()


def test_assembled_texts_are_the_bytes_icalendar_writes_for_the_whole_calendar() -> None:
    """Pure: two zones (both VTIMEZONEs, A…Z, spanning every year used), an all-day event,
    a series with EXDATE and UNTIL, an unknown property, umlauts and long folded lines;
    fragments given in any order."""
    from handlers.calendar.ics import (
        CalendarEvent,
        Party,
        assemble_feed,
        feed_fragment,
        render_feed,
    )

    stamp = datetime(2021, 1, 1, tzinfo=UTC)
    events = [
        CalendarEvent(
            uid=f"meeting-{day}@x.example",
            summary="Sitzung „Qualität“ – 9–12 Uhr, ß " * 4,
            start=datetime(2021, 3, day, 8, tzinfo=UTC),
            end=datetime(2021, 3, day, 11, tzinfo=UTC),
            tzid="Europe/Berlin",
            stamp=stamp,
            description="TOP 1 | Begrüßung\n" * 30,
            location="Videokonferenz – https://meet.example/ag",
            url="https://meet.example/ag",
            organizer=Party("AG Transfer", "mailto:noreply@x.example"),
            last_modified=stamp,
            cancelled=day == 28,
        )
        for day in (26, 27, 28, 29)  # across the clock change on 28.03.2021
    ]
    events.append(
        CalendarEvent(
            uid="series-1@x.example",
            summary="Jour fixe",
            start=datetime(2022, 11, 1, 13, tzinfo=UTC),
            end=datetime(2022, 11, 1, 14, tzinfo=UTC),
            tzid="America/New_York",
            stamp=stamp,
            rrule="FREQ=WEEKLY;COUNT=6",
            until=datetime(2022, 12, 1, tzinfo=UTC),
            exdates=(datetime(2022, 11, 8, 14, tzinfo=UTC),),
        )
    )
    events.append(
        CalendarEvent(
            uid="action-1@x.example",
            summary="Fällig: Bericht",
            start=datetime(2021, 3, 27, tzinfo=BERLIN),
            tzid="Europe/Berlin",
            stamp=stamp,
            all_day=True,
            extra={"x-ag-kind": "action"},
        )
    )
    events.sort(key=lambda event: (event.start, event.uid))
    whole = render_feed(events, name="AG", refresh=timedelta(hours=1), description="Alles")
    texts = [feed_fragment(event) for event in reversed(events)]
    assert assemble_feed(texts, name="AG", refresh=timedelta(hours=1), description="Alles") == whole
    assert whole.count(b"BEGIN:VTIMEZONE") == 2
