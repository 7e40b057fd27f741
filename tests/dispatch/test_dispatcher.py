"""The dispatcher itself, through real storage (SQLite and PostgreSQL): bad input, unexpected
errors, plain text, other bots, private commands, the first command opening the DM."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import Core
from bot.core.messages import OutgoingMessage, Reply
from storage import outbox
from storage.models import Identity, OutboxMessage
from tests.harness import OTHER_GROUP, Conversation, dm, person, registered

pytestmark = pytest.mark.unregistered  # the tests register AG Transfer themselves, in English

anna, bernd, clara = person("anna"), person("bernd"), person("clara", language="en")


async def test_group_commands_need_registration_and_a_group(chat: Conversation) -> None:
    # an unregistered chat speaks the default language, German
    assert "nicht als Arbeitsgruppe registriert" in await chat.text(bernd, "/mitglieder")
    assert "group chat" in await chat.text(clara, "/members", dm(clara))


async def test_bad_input_gets_polite_usage(chat: Conversation) -> None:
    await registered(chat)
    unknown = await chat.text(anna, "/memebrs")
    assert "memebrs" in unknown and "/members" in unknown  # did you mean …
    bad_kind = await chat.text(anna, "/register verein X", OTHER_GROUP)  # German: unregistered
    assert "„verein“ ist als Art nicht gültig" in bad_kind
    assert "Aufruf: /registrieren <ag|fachgruppe|netzwerk|adhoc> <Name>" in bad_kind
    missing = await chat.text(anna, "/role")
    assert "missing" in missing and "Usage: /role" in missing
    quotes = await chat.text(anna, '/register ag "AG Transfer')
    assert "quotation mark" in quotes
    too_long = await chat.text(anna, "/date " + "x" * 5000)
    assert "too long" in too_long
    extra = await chat.text(anna, "/members now please")
    assert "extra words" in extra


async def test_plain_text_is_ignored_in_groups_and_answered_in_dm(chat: Conversation) -> None:
    assert await chat.say(anna, "Guten Morgen zusammen") == []
    assert "/help" in await chat.text(clara, "hello?", dm(clara))


async def test_commands_for_other_bots_are_ignored(chat: Conversation) -> None:
    assert await chat.say(anna, "/help@some_other_bot") == []
    assert await chat.say(anna, "/help@ag_test_bot")


async def test_private_commands_point_to_the_dm(chat: Conversation) -> None:
    await registered(chat)
    reply = await chat.text(bernd, "/mydata")
    assert "private chat" in reply and "https://t.me/ag_test_bot" in reply


async def test_unexpected_error_is_logged_and_apologised(
    chat: Conversation, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(ctx: object) -> Reply:
        raise RuntimeError("boom")

    command = chat.core.services.router.get("privacy")
    original = command.handler
    object.__setattr__(command, "handler", broken)  # Command is frozen; restore below
    try:
        reply = await chat.text(anna, "/privacy")
    finally:
        object.__setattr__(command, "handler", original)
    assert "Sorry" in reply or "Entschuldigung" in reply
    assert "boom" in caplog.text and "Traceback" in caplog.text


async def bernd_joined_with_a_dm_queued(chat: Conversation, core: Core) -> None:
    """Bernd joins AG Transfer, and a message to him in private waits in the outbox before he has
    ever written to the bot there."""
    await registered(chat)
    await chat.say(bernd, "/join")
    async with core.services.sessions.begin() as session:
        user_id = await session.scalar(select(Identity.user_id).where(Identity.username == "bernd"))
        await outbox.enqueue(
            session,
            dedupe_key="hello:bernd",
            purpose="hello",
            platform="test",
            message=OutgoingMessage("Hallo"),
            now=core.services.clock.now(),
            user_id=user_id,
        )


async def test_dm_to_person_without_private_chat_waits(chat: Conversation, core) -> None:
    """Telegram bots cannot write first: the message waits until the person opens the DM."""
    await bernd_joined_with_a_dm_queued(chat, core)
    async with core.services.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row.status == "waiting_for_dm" and row.chat_id is None
    await chat.say(bernd, "/start", dm(bernd))
    async with core.services.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row.status == "pending" and row.chat_id == bernd.user_id


async def test_a_failing_first_command_still_opens_the_private_chat(
    chat: Conversation, core
) -> None:
    """The handler's changes roll back, what we learned about the person does not."""
    await bernd_joined_with_a_dm_queued(chat, core)
    reply = await chat.text(bernd, "/datum 31.02.2021", dm(bernd))  # fails: no such date
    assert "Kalender" in reply
    async with core.services.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row.status == "pending" and row.chat_id == bernd.user_id
        assert (
            await session.scalar(select(Identity.dm_chat_id).where(Identity.username == "bernd"))
            == bernd.user_id
        )


async def test_a_refused_change_is_not_saved(chat: Conversation) -> None:
    await registered(chat)
    assert "only chair" in await chat.text(anna, "/role member @anna")
    assert "Anna (@anna) – chair" in await chat.text(anna, "/members")
