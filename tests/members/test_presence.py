"""Where a platform does not report departures, the bot asks before a group's private data
goes to a person directly (SQLite and PostgreSQL, through the dialogue harness, whose
FakePlatform answers `unreported_standing` like a Telegram group without the bot as admin).
A person reported gone is treated exactly like a leave update."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime

import aiohttp
import icalendar
import pytest

from bot.app import Core
from bot.core.clock import FixedClock
from bot.core.enums import OutboxStatus
from bot.core.platform import Standing
from bot.feed_server import FeedServer
from handlers.polls.deadlines import run_poll_deadlines
from handlers.reminders.sweep import (
    sweep_action_item_reminders,
    sweep_digests,
    sweep_meeting_reminders,
)
from tests.advisor_registry import ADD, ADMIN, registry_chat
from tests.feeds import feed_token_in
from tests.harness import GROUP, Conversation, dm, outbox_rows, person
from tests.members.test_leaving_groups import MEETING, SECOND_CHAT, add_chat, person_id, recipients
from tests.reminders.test_action_item_reminders import add_item

anna, bernd, clara, dora = person("anna"), person("bernd"), person("clara"), person("dora")


@pytest.fixture
async def chat(chat: Conversation) -> Conversation:
    """Bernd and Clara write in AG Transfer's chat (members) and opened their private chats."""
    for who in (bernd, clara):
        await chat.say(who, "/beitreten")
    for who in (anna, bernd, clara):
        await chat.say(who, "/start", dm(who))
    return chat


def gone_unseen(chat: Conversation, who: object, chat_id: str = GROUP.chat_id) -> None:
    """`who` left the chat and the platform said nothing; asked, it says so."""
    chat.platform.standings[(chat_id, who.user_id)] = Standing.GONE  # type: ignore[attr-defined]


def ics_of(row: object) -> str:
    document = row.payload["document"]  # type: ignore[attr-defined]
    return base64.b64decode(document["content_b64"]).decode()


async def test_who_left_unseen_is_not_invited_listed_or_a_member(
    chat: Conversation, core: Core
) -> None:
    gone_unseen(chat, bernd)
    await chat.say(anna, MEETING)
    bernd_id, clara_id = await person_id(core, bernd), await person_id(core, clara)
    assert (GROUP.chat_id, "bernd") in chat.platform.asked
    rows = await outbox_rows(core, "meeting_invitation")
    assert bernd_id not in {r.user_id for r in rows}
    [claras] = [r for r in rows if r.user_id == clara_id]
    assert "Clara" in ics_of(claras) and "Bernd" not in ics_of(claras)  # not an attendee
    assert "Bernd" not in await chat.text(anna, "/mitglieder")


async def test_what_was_queued_for_them_is_dropped_and_recorded(
    chat: Conversation, core: Core
) -> None:
    await chat.say(anna, MEETING)  # Bernd's invitation is queued
    gone_unseen(chat, bernd)
    await chat.say(anna, '/sitzung 16.06.2021 9-12 Uhr "Zweite"')
    bernd_id = await person_id(core, bernd)
    his = [r for r in await outbox_rows(core, "meeting_invitation") if r.user_id == bernd_id]
    assert [r.status for r in his] == [OutboxStatus.DROPPED.value]
    assert "left" in (his[0].last_error or "")


async def test_no_meeting_or_task_reminders_poll_nudges_or_digest(
    chat: Conversation, core: Core
) -> None:
    clock = core.services.clock
    assert isinstance(clock, FixedClock)
    await chat.say(anna, MEETING)
    await chat.say(bernd, "/zusage 1 ja")
    await chat.say(clara, "/zusage 1 ja")
    await chat.say(anna, '/terminabfrage "Juli" 01.07. 9-12 Uhr; 02.07. 9 Uhr bis 14.06. 18 Uhr')
    await add_item(core, 1, "Bögen senden", date(2021, 6, 15), ["bernd", "clara"])
    gone_unseen(chat, bernd)

    clock.set(datetime(2021, 6, 14, 7, 0, tzinfo=UTC))  # a Monday, a day before
    await sweep_meeting_reminders(core.services, clock.now())
    await run_poll_deadlines(core.services, clock.now())
    await sweep_action_item_reminders(core.services, clock.now())
    await sweep_digests(core.services, clock.now())
    bernd_id, clara_id = await person_id(core, bernd), await person_id(core, clara)
    for purpose in ("reminder_meeting", "poll_reminder", "reminder_action_item"):
        assert clara_id in await recipients(core, purpose), purpose
        assert bernd_id not in await recipients(core, purpose), purpose
    assert await recipients(core, "reminder_digest") == {clara_id}


async def test_the_personal_calendar_link_checks_the_groups_first(
    chat: Conversation, core: Core
) -> None:
    gone_unseen(chat, bernd)
    await chat.say(bernd, "/kalender", dm(bernd))
    assert (GROUP.chat_id, "bernd") in chat.platform.asked
    assert "Bernd" not in await chat.text(anna, "/mitglieder")


async def test_a_message_waiting_for_the_private_chat_is_dropped_if_they_left(
    chat: Conversation, core: Core
) -> None:
    await chat.say(dora, "/beitreten")  # never opened the private chat
    await chat.say(anna, MEETING)
    dora_id = await person_id(core, dora)
    [waiting] = [r for r in await outbox_rows(core, "meeting_invitation") if r.user_id == dora_id]
    assert waiting.status == OutboxStatus.WAITING_FOR_DM.value
    gone_unseen(chat, dora)
    await chat.say(dora, "/start", dm(dora))
    [dropped] = [r for r in await outbox_rows(core, "meeting_invitation") if r.user_id == dora_id]
    assert dropped.status == OutboxStatus.DROPPED.value


async def test_who_is_still_in_another_chat_of_the_group_stays_a_member(
    chat: Conversation, core: Core
) -> None:
    await add_chat(core, SECOND_CHAT)
    gone_unseen(chat, bernd)  # gone from the first chat; the second does not say
    await chat.say(anna, MEETING)
    assert await person_id(core, bernd) in await recipients(core, "meeting_invitation")
    gone_unseen(chat, bernd, SECOND_CHAT)
    await chat.say(anna, '/sitzung 16.06.2021 9-12 Uhr "Zweite"')
    bernd_id = await person_id(core, bernd)
    his = [r for r in await outbox_rows(core, "meeting_invitation") if r.user_id == bernd_id]
    assert [r.status for r in his] == [OutboxStatus.DROPPED.value]


async def test_admin_rights_from_an_admin_chat_end_when_she_left_unseen(
    database_url: str, clock: FixedClock
) -> None:
    async with registry_chat(database_url, clock) as registry:
        await registry.say(ADMIN, ADD, GROUP)
        assert "berta@example.org" in await registry.text(ADMIN, "/berater 1", dm(ADMIN))
        gone_unseen(registry, ADMIN)  # left the admin chat; the platform said nothing
        answer = await registry.text(ADMIN, "/berater 1", dm(ADMIN))
        assert "berta@example.org" not in answer and "Berta" not in answer


async def test_the_personal_feed_asks_before_it_shows_a_groups_meetings(
    chat: Conversation, core: Core, http: aiohttp.ClientSession
) -> None:
    await chat.say(anna, MEETING)
    token = feed_token_in(await chat.text(bernd, "/kalender", dm(bernd)))
    feeds = FeedServer(core.services)
    await feeds.start("127.0.0.1", 0)
    try:
        url = f"http://127.0.0.1:{feeds.port}/calendar/{token}.ics"
        async with http.get(url) as response:
            assert len(icalendar.Calendar.from_ical(await response.read()).walk("VEVENT")) == 1
        gone_unseen(chat, bernd)  # left; the platform said nothing, his calendar app polls
        async with http.get(url) as response:
            body = await response.read()
        assert icalendar.Calendar.from_ical(body).walk("VEVENT") == []
        assert b"geheim" not in body
    finally:
        await feeds.stop()
    assert "Bernd" not in await chat.text(anna, "/mitglieder")
