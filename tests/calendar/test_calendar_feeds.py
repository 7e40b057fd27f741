"""Subscription feeds through the real HTTP server on 127.0.0.1, and invitations by DM
through the outbox (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import aiohttp
import icalendar
import ics
import pytest
from multidict import CIMultiDict
from sqlalchemy import select

from bot.feed_server import FeedServer
from storage.models import ActionItem, ActionItemAssignee, Meeting, OutboxMessage
from tests.feeds import add_jour_fixe_series, feed_token_in
from tests.harness import GROUP, OTHER_GROUP, Conversation, dm, outbox_rows, person

anna, bernd, clara = person("anna"), person("bernd"), person("clara")


@pytest.fixture
async def chat(chat: Conversation) -> Conversation:
    """Bernd is a member too; Anna, Bernd and Clara have opened their private chats."""
    await chat.say(bernd, "/beitreten")
    for who in (anna, bernd, clara):
        await chat.say(who, "/start", dm(who))  # opens the private chats
    return chat


@pytest.fixture
async def server(core) -> AsyncIterator[FeedServer]:
    feeds = FeedServer(core.services)
    await feeds.start("127.0.0.1", 0)
    yield feeds
    await feeds.stop()


async def get(
    http: aiohttp.ClientSession, server: FeedServer, token: str, **headers: str
) -> tuple[int, CIMultiDict[str], bytes]:
    url = f"http://127.0.0.1:{server.port}/calendar/{token}.ics"
    async with http.get(url, headers=headers) as response:
        return response.status, CIMultiDict(response.headers), await response.read()


def attachment(row: OutboxMessage) -> bytes:
    return base64.b64decode(row.payload["document"]["content_b64"])


async def test_personal_feed_200_304_rotation_and_revocation(
    chat: Conversation, core, server: FeedServer, http: aiohttp.ClientSession
) -> None:
    await chat.say(anna, '/sitzung 15.06.2021 9-12 Uhr "AG-Sitzung Juni" | https://meet.ex/ag')
    reply = await chat.text(bernd, "/kalender", dm(bernd))
    token = feed_token_in(reply)
    assert len(base64.urlsafe_b64decode(token + "==")) >= 16  # at least 128 bits

    status, headers, body = await get(http, server, token)
    assert status == 200
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert body.endswith(b"\r\n") and b"\n" not in body.replace(b"\r\n", b"")
    cal = icalendar.Calendar.from_ical(body)
    [vevent] = cal.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "AG Transfer: AG-Sitzung Juni"
    assert vevent["DTSTART"].dt == datetime(2021, 6, 15, 7, 0, tzinfo=UTC)
    assert vevent["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert "zusage 1" in str(vevent["DESCRIPTION"])  # German, bernd's language
    assert len(ics.Calendar(body.decode()).events) == 1
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in body and b"X-PUBLISHED-TTL:PT1H" in body

    # Conditional GETs: 304 from the validator, without building the feed again.
    rebuilds = server.builder.rebuilds
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert (await get(http, server, token, **{"If-None-Match": etag}))[0] == 304
    assert (await get(http, server, token, **{"If-Modified-Since": modified}))[0] == 304
    status, again, _ = await get(http, server, token, **{"If-None-Match": '"other"'})
    assert status == 200 and again["ETag"] == etag
    assert server.builder.rebuilds == rebuilds  # the 200 came from the cache

    # A change makes the old ETag stale; the new body says what changed.
    core.services.clock.advance(timedelta(minutes=5))
    await chat.say(anna, "/verschieben 1 22.06.2021 10-12 Uhr")
    status, changed, body = await get(http, server, token, **{"If-None-Match": etag})
    assert status == 200 and changed["ETag"] != etag
    assert server.builder.rebuilds == rebuilds + 1
    [vevent] = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert vevent["SEQUENCE"] == 1 and vevent["DTSTART"].dt.hour == 10

    # Asking again does not show the old URL (only its hash is stored) …
    assert "neu" in await chat.text(bernd, "/kalender", dm(bernd))
    # … rotating gives a new one and the old one is dead, looking like any unknown token.
    rotated = feed_token_in(await chat.text(bernd, "/kalender neu", dm(bernd)))
    gone = await get(http, server, token)
    unknown = await get(http, server, "x" * 43)
    assert gone[0] == unknown[0] == 404 and gone[2] == unknown[2]
    assert "ETag" not in gone[1]
    assert (await get(http, server, rotated))[0] == 200
    assert "ausgeschaltet" in await chat.text(bernd, "/kalender aus", dm(bernd))
    assert (await get(http, server, rotated))[0] == 404
    assert "kein" in (await chat.text(bernd, "/kalender aus", dm(bernd))).lower()


async def test_group_feed_goes_to_the_chair_privately_and_stays_in_its_group(
    chat: Conversation, core, server: FeedServer, http: aiohttp.ClientSession
) -> None:
    await chat.say(anna, "/sitzung 15.06.2021 9-12 Uhr Transfer-Sitzung")
    chat.platform.admins.add((OTHER_GROUP.chat_id, clara.user_id))
    await chat.say(clara, '/registrieren ag "AG Qualität"', OTHER_GROUP)
    await chat.say(clara, "/sitzung 16.06.2021 14 Uhr Qualitätsrunde", OTHER_GROUP)

    assert "nur" in (await chat.text(bernd, "/kalender")).lower()  # members: not the group's
    assert "privat" in await chat.text(anna, "/kalender")
    [row] = await outbox_rows(core, "calendar_feed_url")
    assert row.user_id is not None and row.chat_id == anna.user_id  # anna's private chat
    token = feed_token_in(row.payload["text"])
    assert token not in await chat.text(anna, "/sitzungen")

    status, _, body = await get(http, server, token)
    assert status == 200
    summaries = [str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(body).walk("VEVENT")]
    assert summaries == ["Transfer-Sitzung"]  # not the other group's meeting
    assert b"AG Transfer" in body

    # A person in both groups sees both in their own feed; cancelled ones marked.
    await chat.say(bernd, "/beitreten", OTHER_GROUP)
    await chat.say(clara, "/absagen 1", OTHER_GROUP)
    status, _, body = await get(
        http, server, feed_token_in(await chat.text(bernd, "/kalender", dm(bernd)))
    )
    events = {str(e["SUMMARY"]): e for e in icalendar.Calendar.from_ical(body).walk("VEVENT")}
    assert set(events) == {"AG Transfer: Transfer-Sitzung", "Abgesagt: AG Qualität: Qualitätsrunde"}
    assert events["Abgesagt: AG Qualität: Qualitätsrunde"]["STATUS"] == "CANCELLED"


async def test_personal_feed_has_due_dates_of_own_action_items(
    chat: Conversation, core, server: FeedServer, http: aiohttp.ClientSession
) -> None:
    await chat.say(anna, "/sitzung 15.06.2021 9-12 Uhr Sitzung")
    token = feed_token_in(await chat.text(bernd, "/kalender", dm(bernd)))
    _, headers, _ = await get(http, server, token)
    now = core.services.clock.now()
    async with core.services.sessions() as session, session.begin():
        meeting = await session.scalar(select(Meeting))
        bernd_id = await session.scalar(
            select(OutboxMessage.user_id).where(OutboxMessage.chat_id == bernd.user_id)
        )
        for number, (text, who) in enumerate(
            [("Bögen an Anna senden", bernd_id), ("Termin koordinieren", None)], start=1
        ):
            item = ActionItem(
                group_id=meeting.group_id,
                number=number,
                text=text,
                due_date=date(2021, 7, 15),
                meeting_id=meeting.id,
                created_at=now,
                updated_at=now,
            )
            session.add(item)
            await session.flush()
            session.add(ActionItemAssignee(action_item_id=item.id, user_id=who, name="X"))
    status, changed, body = await get(http, server, token, **{"If-None-Match": headers["ETag"]})
    assert status == 200 and changed["ETag"] != headers["ETag"]
    [due] = [
        e for e in icalendar.Calendar.from_ical(body).walk("VEVENT") if "A-1" in e["DESCRIPTION"]
    ]
    assert due["DTSTART"].dt == date(2021, 7, 15)
    assert "Bögen an Anna senden" in str(due["SUMMARY"])
    assert b"Termin koordinieren" not in body  # not assigned to bernd


async def test_invitations_by_dm_once_per_person_and_version(chat: Conversation, core) -> None:
    await chat.say(anna, '/sitzung 15.06.2021 9-12 Uhr "AG-Sitzung" | https://meet.ex/ag')
    first = await outbox_rows(core, "meeting_invitation")
    assert sorted(r.chat_id for r in first) == [anna.user_id, bernd.user_id]
    assert first[0].payload["document"]["filename"] == "sitzung-1.ics"
    assert first[0].payload["document"]["mime_type"] == "text/calendar"
    raw = attachment(first[0])
    cal = icalendar.Calendar.from_ical(raw)
    assert cal["METHOD"] == "REQUEST"
    [vevent] = cal.walk("VEVENT")
    uid = str(vevent["UID"])
    assert re.fullmatch(r"meeting-\d+@ag-[0-9a-f]{16}\.invalid", uid)  # the installation's
    assert vevent["SEQUENCE"] == 0
    assert sorted(a.params["CN"] for a in vevent["ATTENDEE"]) == ["Anna", "Bernd"]
    assert vevent.walk("VALARM") and cal.walk("VTIMEZONE")
    assert len(ics.Calendar(raw.decode()).events) == 1

    # A chair's resend reaches nobody twice; a newcomer gets the current version.
    assert "0 Mitglieder" in await chat.text(anna, "/einladung 1 alle")
    await chat.say(clara, "/beitreten")
    assert "1 Mitglied " in await chat.text(anna, "/einladung 1 alle")
    assert "nur" in (await chat.text(bernd, "/einladung 1 alle")).lower()
    # Anyone may ask for their own copy again.
    assert "privat" in await chat.text(bernd, "/einladung 1")
    rows = await outbox_rows(core, "meeting_invitation")
    assert [r.chat_id for r in rows[2:]] == [clara.user_id, bernd.user_id]

    await chat.say(anna, "/verschieben 1 22.06.2021 9-12 Uhr")
    moved = (await outbox_rows(core, "meeting_invitation"))[4:]
    assert sorted(r.chat_id for r in moved) == sorted([anna.user_id, bernd.user_id, clara.user_id])
    [update] = icalendar.Calendar.from_ical(attachment(moved[0])).walk("VEVENT")
    assert str(update["UID"]) == uid and update["SEQUENCE"] == 1
    assert "Geändert" in moved[0].payload["text"]

    await chat.say(anna, "/absagen 1")
    cancelled = (await outbox_rows(core, "meeting_invitation"))[7:]
    assert len(cancelled) == 3
    cal = icalendar.Calendar.from_ical(attachment(cancelled[0]))
    [vevent] = cal.walk("VEVENT")
    assert cal["METHOD"] == "CANCEL" and vevent["STATUS"] == "CANCELLED"
    assert str(vevent["UID"]) == uid and vevent["SEQUENCE"] == 2
    keys = [r.dedupe_key for r in await outbox_rows(core, "meeting_invitation")]
    assert len(keys) == len(set(keys)) == 10


async def test_english_reader_gets_english_invitation(chat: Conversation, core) -> None:
    await chat.say(bernd, "/language en", dm(bernd))
    await chat.say(anna, "/sitzung 15.06.2021 9 Uhr Sitzung")
    rows = await outbox_rows(core, "meeting_invitation")
    to_bernd = next(r for r in rows if r.chat_id == bernd.user_id)
    assert to_bernd.payload["document"]["filename"] == "meeting-1.ics"
    assert "Invitation: Sitzung" in to_bernd.payload["text"]
    assert b"/rsvp 1 yes|maybe|no" in attachment(to_bernd).replace(b"\r\n ", b"")


async def test_run_adapters_starts_and_stops_the_feed_server(sqlite_url: str, clock) -> None:
    import asyncio

    from bot.app import Core, run_adapters
    from bot.core.settings import load_settings

    settings = load_settings(database_url=sqlite_url, http_port=0, _env_file=None)
    core = await Core.create(settings, clock)
    stop = asyncio.Event()
    running = asyncio.create_task(run_adapters(core, [], stop, feeds=True))
    for _ in range(200):
        if core.feed_server is not None and core.feed_server.port:
            break
        await asyncio.sleep(0.01)
    server = core.feed_server
    assert server is not None and server.port
    base = f"http://127.0.0.1:{server.port}"
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/healthz") as response:
            assert response.status == 200
        async with http.get(base + "/calendar/nothing.ics") as response:
            assert response.status == 404
        stop.set()
        await asyncio.wait_for(running, timeout=10)
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(base + "/healthz")


async def test_a_taken_port_is_a_clear_startup_error(core) -> None:
    from bot.feed_server import FeedServerError

    first = FeedServer(core.services)
    await first.start("127.0.0.1", 0)
    try:
        with pytest.raises(FeedServerError, match="HTTP_PORT"):
            await FeedServer(core.services).start("127.0.0.1", first.port)
    finally:
        await first.stop()


def test_http_settings() -> None:
    from bot.core.settings import SettingsError, load_settings

    default = load_settings(_env_file=None)
    assert default.http_server_enabled(console=False)
    assert not default.http_server_enabled(console=True)  # trying it locally opens no port
    assert load_settings(http_server="on", _env_file=None).http_server_enabled(console=True)
    assert not load_settings(http_server="off", _env_file=None).http_server_enabled(False)
    assert default.feed_base_url == "http://127.0.0.1:8080"
    public = load_settings(public_base_url="https://bot.example.org/", _env_file=None)
    assert public.feed_base_url == "https://bot.example.org"
    assert public.configured_calendar_domain == "bot.example.org"
    assert default.configured_calendar_domain is None  # never the listen address
    with pytest.raises(SettingsError, match="PUBLIC_BASE_URL"):
        load_settings(public_base_url="bot.example.org", _env_file=None)


async def test_head_and_if_modified_since_after_a_change(
    chat: Conversation, core, server: FeedServer, http: aiohttp.ClientSession
) -> None:
    await chat.say(anna, "/sitzung 15.06.2021 9 Uhr Sitzung")
    token = feed_token_in(await chat.text(anna, "/kalender", dm(anna)))
    url = f"http://127.0.0.1:{server.port}/calendar/{token}.ics"
    async with http.head(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
        modified = response.headers["Last-Modified"]
    core.services.clock.advance(timedelta(hours=1))
    await chat.say(anna, "/sitzung 16.06.2021 9 Uhr Noch eine")
    status, headers, _ = await get(http, server, token, **{"If-Modified-Since": modified})
    assert status == 200 and headers["Last-Modified"] != modified


async def test_series_invitation_has_rrule_exdate_and_override(chat: Conversation, core) -> None:
    from bot.core.i18n import Translator
    from bot.core.messages import ChatKind, ChatRef, IncomingMessage
    from handlers.calendar import invitations
    from handlers.context import HandlerContext
    from storage.models import Group, Identity, MeetingSeries, Membership, User

    await add_jour_fixe_series(core)
    async with core.services.sessions() as session, session.begin():
        group = await session.scalar(select(Group))
        identity = await session.scalar(select(Identity).where(Identity.username == "anna"))
        user = await session.get(User, identity.user_id)
        member = await session.scalar(select(Membership).where(Membership.user_id == user.id))
        ctx = HandlerContext(
            services=core.services,
            session=session,
            message=IncomingMessage(ChatRef("test", GROUP.chat_id, ChatKind.GROUP), anna, ""),
            platform=chat.platform,
            t=Translator("de"),
            user=user,
            identity=identity,
            group=group,
            member=member,
        )
        series = await session.scalar(select(MeetingSeries))
        assert await invitations.series_changed(ctx, series) == 2
        assert await invitations.series_changed(ctx, series) == 0  # once per version
    rows = await outbox_rows(core, "meeting_invitation")
    assert rows[-1].payload["document"]["filename"] == "sitzungsreihe-1.ics"
    raw = attachment(rows[-1])
    cal = icalendar.Calendar.from_ical(raw)
    master, *overrides = cal.walk("VEVENT")
    assert cal["METHOD"] == "REQUEST"
    assert master["RRULE"]["FREQ"] == ["WEEKLY"] and master["RRULE"]["COUNT"] == [4]
    assert [d.dt.hour for d in master["EXDATE"].dts] == [9]  # 30.9., 9:00 local
    [moved] = overrides
    assert moved["UID"] == master["UID"]
    assert moved["RECURRENCE-ID"].dt.hour == 9 and moved["DTSTART"].dt.hour == 11
    assert len(ics.Calendar(raw.decode()).events) >= 1


async def test_agenda_in_the_feed_and_its_changes_change_the_etag(
    chat: Conversation, core, server: FeedServer, http: aiohttp.ClientSession
) -> None:
    from bot.core.enums import AgendaItemStatus
    from storage import agenda

    await chat.say(anna, "/sitzung 15.06.2021 9-12 Uhr Sitzung")
    token = feed_token_in(await chat.text(anna, "/kalender", dm(anna)))
    _, headers, body = await get(http, server, token)
    assert "TOP 1 | Verschiedenes" in str(
        icalendar.Calendar.from_ical(body).walk("VEVENT")[0]["DESCRIPTION"]
    )
    now = core.services.clock.now()
    async with core.services.sessions() as session, session.begin():
        meeting = await session.scalar(select(Meeting))
        await agenda.add_item(
            session,
            meeting,
            title="Begrüßung",
            now=now,
            presenter_name="Anna Muster (IHK)",
            planned_start=meeting.starts_at,
        )
        await agenda.add_item(
            session, meeting, title="Bericht", now=now, status=AgendaItemStatus.PROPOSED
        )
    status, headers, body = await get(http, server, token, **{"If-None-Match": headers["ETag"]})
    assert status == 200
    [vevent] = icalendar.Calendar.from_ical(body).walk("VEVENT")
    description = str(vevent["DESCRIPTION"])
    assert (
        "Tagesordnung:\nTOP 1 | 9:00 | Begrüßung | Anna Muster (IHK)\nTOP 2 | Versch" in description
    )
    assert "Bericht" not in description  # only proposed, not accepted yet
    async with core.services.sessions() as session, session.begin():
        meeting = await session.scalar(select(Meeting))
        proposed = next(
            i for i in await agenda.items_of(session, meeting.id) if i.title == "Bericht"
        )
        await agenda.accept_item(session, meeting, proposed)
    status, headers, body = await get(http, server, token, **{"If-None-Match": headers["ETag"]})
    assert status == 200 and b"TOP 2 | Bericht" in body.replace(b"\r\n ", b"")


async def test_another_feature_adds_its_deadlines_to_the_personal_feed(
    chat: Conversation, core, http: aiohttp.ClientSession
) -> None:
    """The extension point: a source with version() and events(), here authorization
    deadlines kept in a dict (as the advisors feature will keep them in its table)."""
    from handlers.calendar.events import due_date_event
    from handlers.calendar.feeds import PERSON_SOURCES, FeedBuilder, SourceVersion

    deadlines: dict[int, date] = {}

    class Deadlines:
        name = "authorization"

        async def version(self, session, scope) -> SourceVersion:
            return SourceVersion(str(deadlines.get(scope.user.id)), None)

        async def events(self, session, scope, style) -> list:
            due = deadlines.get(scope.user.id)
            if due is None:
                return []
            return [
                due_date_event(
                    kind="authorization",
                    key=scope.user.id,
                    summary="Autorisierung läuft ab",
                    due=due,
                    tzid="Europe/Berlin",
                    style=style,
                    stamp=core.services.clock.now(),
                )
            ]

    builder = FeedBuilder(core.services, person_sources=(*PERSON_SOURCES, Deadlines()))
    server = FeedServer(core.services, builder)
    await server.start("127.0.0.1", 0)
    try:
        await chat.say(anna, "/sitzung 15.06.2021 9 Uhr Sitzung")
        token = feed_token_in(await chat.text(bernd, "/kalender", dm(bernd)))
        _, headers, body = await get(http, server, token)
        assert b"Autorisierung" not in body
        async with core.services.sessions() as session:
            from storage.models import Identity

            bernd_id = await session.scalar(
                select(Identity.user_id).where(Identity.username == "bernd")
            )
        deadlines[bernd_id] = date(2022, 3, 31)
        status, _, body = await get(http, server, token, **{"If-None-Match": headers["ETag"]})
        assert status == 200
        events = icalendar.Calendar.from_ical(body).walk("VEVENT")
        [due] = [e for e in events if str(e["SUMMARY"]) == "Autorisierung läuft ab"]
        assert due["DTSTART"].dt == date(2022, 3, 31)
        assert str(due["UID"]).startswith(f"authorization-{bernd_id}@")
    finally:
        await server.stop()


async def test_my_data_lists_calendar_links_without_tokens(chat: Conversation) -> None:
    import json

    token = feed_token_in(await chat.text(bernd, "/kalender", dm(bernd)))
    await chat.say(bernd, "/kalender neu", dm(bernd))
    [reply] = await chat.say(bernd, "/meinedaten", dm(bernd))
    assert reply.document is not None
    data = json.loads(reply.document.content)
    assert [link["revoked_at"] is None for link in data["calendar_links"]] == [False, True]
    assert token not in reply.document.content.decode()


async def test_series_commands_send_rrule_overrides_and_cancellations(
    chat: Conversation, core
) -> None:
    """/serie, /verschieben and /absagen of one occurrence, /serieende: what calendars get."""
    await chat.say(anna, "/serie wöchentlich montags 9-10 Uhr Jour fixe")
    [created] = [
        r for r in await outbox_rows(core, "meeting_invitation") if r.chat_id == bernd.user_id
    ]
    assert created.payload["document"]["filename"].startswith("sitzungsreihe-")
    [master] = icalendar.Calendar.from_ical(attachment(created)).walk("VEVENT")
    uid = str(master["UID"])
    assert uid.startswith("series-") and master["SEQUENCE"] == 0
    assert master["RRULE"]["FREQ"] == ["WEEKLY"] and master["RRULE"]["BYDAY"] == ["MO"]
    assert master["DTSTART"].dt.isoformat() == "2021-06-14T09:00:00+02:00"
    assert master["DTEND"].dt.isoformat() == "2021-06-14T10:00:00+02:00"

    await chat.say(anna, "/verschieben 2 22.06.2021 14-15 Uhr")
    await chat.say(anna, "/absagen 3")
    rows = [r for r in await outbox_rows(core, "meeting_invitation") if r.chat_id == bernd.user_id]
    moved, cancelled = (icalendar.Calendar.from_ical(attachment(r)) for r in rows[1:3])
    [override] = moved.walk("VEVENT")
    assert moved["METHOD"] == "REQUEST" and str(override["UID"]) == uid
    assert override["RECURRENCE-ID"].dt.isoformat() == "2021-06-21T09:00:00+02:00"
    assert override["DTSTART"].dt.isoformat() == "2021-06-22T14:00:00+02:00"
    [gone] = cancelled.walk("VEVENT")
    assert cancelled["METHOD"] == "CANCEL" and str(gone["UID"]) == uid
    assert gone["RECURRENCE-ID"].dt.isoformat() == "2021-06-28T09:00:00+02:00"

    await chat.say(anna, "/serieende S1 05.07.2021")
    last = [r for r in await outbox_rows(core, "meeting_invitation") if r.chat_id == bernd.user_id]
    assert len(last) == 4
    ended = icalendar.Calendar.from_ical(attachment(last[-1]))
    master, *overrides = ended.walk("VEVENT")
    assert master["SEQUENCE"] == 1 and "UNTIL" in master["RRULE"]
    assert [d.dt.isoformat() for d in master["EXDATE"].dts] == ["2021-06-28T09:00:00+02:00"]
    assert [o["RECURRENCE-ID"].dt.isoformat() for o in overrides] == ["2021-06-21T09:00:00+02:00"]
    assert len(ics.Calendar(attachment(last[-1]).decode()).events) >= 1
