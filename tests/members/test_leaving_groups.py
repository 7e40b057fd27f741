"""Membership follows the chat (SQLite and PostgreSQL): who left a group's last chat gets
nothing of the group any more — no invitations, reminders, poll nudges, feed entries, queued
messages or admin rights — but stays in its history; writing in the chat again makes a
member again. The platform events arrive through the dispatcher as the adapters send them."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import icalendar
import pytest
from sqlalchemy import select

from bot.app import Core
from bot.core.clock import FixedClock
from bot.core.enums import OutboxStatus
from bot.feed_server import FeedServer
from handlers.polls.deadlines import run_poll_deadlines
from handlers.reminders.sweep import sweep_meeting_reminders
from storage.models import GroupChat, Membership
from tests.advisor_registry import ADD, ADMIN, registry_chat
from tests.feeds import feed_token_in
from tests.harness import GROUP, Conversation, dm, outbox_rows, person

anna, bernd, clara = person("anna"), person("bernd"), person("clara")
SECOND_CHAT = "-150"
MEETING = '/sitzung 15.06.2021 9-12 Uhr "AG-Sitzung" | https://meet.ex/geheim'


@pytest.fixture
async def chat(chat: Conversation) -> Conversation:
    """Bernd and Clara write in AG Transfer's chat (members) and opened their private chats."""
    for who in (bernd, clara):
        await chat.say(who, "/beitreten")
    for who in (anna, bernd, clara):
        await chat.say(who, "/start", dm(who))
    return chat


async def leaves(core: Core, who: object, chat_id: str = GROUP.chat_id) -> None:
    await core.dispatcher.member_left("test", chat_id, who.user_id)  # type: ignore[attr-defined]


async def recipients(core: Core, purpose: str) -> set[int | None]:
    return {row.user_id for row in await outbox_rows(core, purpose)}


async def person_id(core: Core, who: object) -> int:
    from storage import people

    async with core.services.sessions() as session:
        found = await people.user_id_of_identity(session, "test", who.user_id)  # type: ignore[attr-defined]
        assert found is not None
        return found


async def test_who_left_gets_no_invitation_and_stays_in_history(
    chat: Conversation, core: Core
) -> None:
    await leaves(core, bernd)
    await chat.say(anna, MEETING)
    assert await person_id(core, bernd) not in await recipients(core, "meeting_invitation")
    assert await person_id(core, clara) in await recipients(core, "meeting_invitation")
    assert "Bernd" not in await chat.text(anna, "/mitglieder")
    async with core.services.sessions() as session:
        ended = await session.scalar(
            select(Membership).where(Membership.user_id == await person_id(core, bernd))
        )
    assert ended is not None and ended.left_at == core.services.clock.now()


async def test_who_comes_back_is_a_member_again(chat: Conversation, core: Core) -> None:
    await leaves(core, bernd)
    await chat.say(bernd, "/hilfe")  # writes in the group's chat again
    await chat.say(anna, MEETING)
    assert await person_id(core, bernd) in await recipients(core, "meeting_invitation")


async def test_queued_messages_about_the_group_are_dropped_not_sent(
    chat: Conversation, core: Core
) -> None:
    await chat.say(anna, MEETING)  # invitations queued, not yet delivered
    await leaves(core, bernd)
    bernd_id = await person_id(core, bernd)
    rows = await outbox_rows(core, "meeting_invitation")
    [his] = [row for row in rows if row.user_id == bernd_id]
    assert his.status == OutboxStatus.DROPPED.value and "left" in (his.last_error or "")
    assert {row.status for row in rows if row.user_id != bernd_id} == {"pending"}


async def test_who_left_gets_no_reminders_and_no_poll_nudges(
    chat: Conversation, core: Core
) -> None:
    clock = core.services.clock
    assert isinstance(clock, FixedClock)
    await chat.say(anna, MEETING)
    await chat.say(bernd, "/zusage 1 ja")
    await chat.say(clara, "/zusage 1 ja")
    await chat.say(anna, '/terminabfrage "Juli" 01.07. 9-12 Uhr; 02.07. 9 Uhr bis 14.06. 18 Uhr')
    await leaves(core, bernd)

    clock.set(datetime(2021, 6, 14, 7, 30, tzinfo=UTC))  # a day before the meeting
    await sweep_meeting_reminders(core.services, clock.now())
    await run_poll_deadlines(core.services, clock.now())
    bernd_id, clara_id = await person_id(core, bernd), await person_id(core, clara)
    assert clara_id in await recipients(core, "reminder_meeting")
    assert bernd_id not in await recipients(core, "reminder_meeting")
    assert clara_id in await recipients(core, "poll_reminder")
    assert bernd_id not in await recipients(core, "poll_reminder")


async def test_the_group_leaves_the_personal_feed(
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
        await leaves(core, bernd)
        async with http.get(url) as response:
            body = await response.read()
        assert icalendar.Calendar.from_ical(body).walk("VEVENT") == []
        assert b"geheim" not in body
    finally:
        await feeds.stop()


async def add_chat(core: Core, chat_id: str) -> None:
    """A second chat of AG Transfer (linked as /verknuepfen would)."""
    async with core.services.sessions.begin() as session:
        session.add(
            GroupChat(
                group_id=1, platform="test", chat_id=chat_id, created_at=core.services.clock.now()
            )
        )


async def test_only_leaving_the_groups_last_chat_ends_the_membership(
    chat: Conversation, core: Core
) -> None:
    await add_chat(core, SECOND_CHAT)
    await leaves(core, bernd)  # he may still be in the second chat
    await chat.say(anna, MEETING)
    assert await person_id(core, bernd) in await recipients(core, "meeting_invitation")
    await leaves(core, bernd, SECOND_CHAT)
    await chat.say(anna, "/verschieben 1 16.06.2021 9-12 Uhr")
    bernd_id = await person_id(core, bernd)
    rows = await outbox_rows(core, "meeting_invitation")
    # the first version was dropped when he left; the change is not sent to him at all
    assert [r.status for r in rows if r.user_id == bernd_id] == ["dropped"]
    assert len([r for r in rows if r.user_id == await person_id(core, clara)]) == 2


async def test_admin_rights_from_an_admin_chat_end_with_leaving(
    database_url: str, clock: FixedClock
) -> None:
    async with registry_chat(database_url, clock) as registry:
        await registry.say(ADMIN, ADD, GROUP)
        assert "berta@example.org" in await registry.text(ADMIN, "/berater 1", dm(ADMIN))
        await leaves(registry.core, ADMIN)
        answer = await registry.text(ADMIN, "/berater 1", dm(ADMIN))
        assert "berta@example.org" not in answer and "Berta" not in answer


async def test_bot_removed_from_the_groups_only_chat_tells_the_chair_privately(
    chat: Conversation, core: Core
) -> None:
    await core.dispatcher.bot_removed("test", GROUP.chat_id)
    await core.dispatcher.bot_removed("test", GROUP.chat_id)  # told once
    [note] = await outbox_rows(core, "bot_removed")
    assert note.user_id == await person_id(core, anna)
    assert "AG Transfer" in note.payload["text"]


async def test_bot_removed_from_one_chat_tells_the_groups_other_chats(
    chat: Conversation, core: Core
) -> None:
    await add_chat(core, SECOND_CHAT)
    await core.dispatcher.bot_removed("test", GROUP.chat_id)
    [note] = await outbox_rows(core, "bot_removed")
    assert note.chat_id == SECOND_CHAT and note.user_id is None
    await core.dispatcher.bot_removed("test", SECOND_CHAT)
    notes = await outbox_rows(core, "bot_removed")
    assert [n.user_id for n in notes[1:]] == [await person_id(core, anna)]
