"""Conversations through the real dispatcher and storage (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.core.messages import Reply
from storage.models import Identity, Membership, OutboxMessage, User
from tests.harness import GROUP, OTHER_GROUP, Conversation, dm, person

anna, bernd, clara = person("anna"), person("bernd"), person("clara", language="en")


@pytest.fixture
async def chat(core) -> Conversation:
    """Anna is GROUP's chat admin, and nothing is registered yet: the tests register in
    English (`registered`)."""
    return Conversation(core, admins=[(GROUP, anna)])


async def registered(chat: Conversation, language: str = "en") -> None:
    await chat.say(anna, '/register ag "AG Transfer"')
    await chat.say(anna, f"/language {language}")


async def test_register_needs_chat_admin_and_makes_chair(chat: Conversation) -> None:
    refused = await chat.text(bernd, '/register ag "AG Transfer"')
    assert "admin" in refused.lower() or "Admin" in refused
    await registered(chat)
    settings = await chat.text(bernd, "/settings")
    assert "AG Transfer" in settings and "Europe/Berlin" in settings
    members = await chat.text(anna, "/members")
    assert "Anna (@anna) – chair" in members
    assert "Bernd (@bernd) – member" in members
    again = await chat.text(anna, "/register fachgruppe Other")
    assert "already registered" in again


async def test_register_with_german_command_and_quotes(chat: Conversation) -> None:
    await chat.say(anna, "/registrieren fachgruppe „Fachgruppe Handwerk“")
    await chat.say(anna, "/sprache en")
    assert "Fachgruppe Handwerk" in await chat.text(anna, "/einstellungen")
    assert "expert group" in await chat.text(anna, "/settings")


async def test_roles_are_granted_by_chairs_only(chat: Conversation) -> None:
    await registered(chat)
    await chat.say(bernd, "/join")
    denied = await chat.text(bernd, "/role chair @bernd")
    assert "Only chairs may do that" in denied
    granted = await chat.text(anna, "/role minute-taker @bernd")
    assert "Bernd (@bernd) is now minute-taker" in granted
    by_reply = await chat.text(anna, "/role chair", reply_to=bernd)
    assert "is now chair" in by_reply
    members = await chat.text(anna, "/members")
    assert "Bernd (@bernd) – chair" in members


async def test_last_chair_cannot_step_down(chat: Conversation) -> None:
    await registered(chat)
    reply = await chat.text(anna, "/role member @anna")
    assert "only chair" in reply


async def test_chat_admin_becomes_chair_on_demand(chat: Conversation) -> None:
    await registered(chat)
    await chat.say(clara, "/join")
    chat.platform.admins.add((GROUP.chat_id, clara.user_id))
    assert "is now minute-taker" in await chat.text(clara, "/role minute-taker @anna")


async def test_explicit_role_beats_chat_admin_default(chat: Conversation) -> None:
    await registered(chat)
    chat.platform.admins.add((GROUP.chat_id, bernd.user_id))
    await chat.say(anna, "/role chair @bernd")
    await chat.say(bernd, "/role member @bernd")  # bernd steps down explicitly
    assert "Only chairs" in await chat.text(bernd, "/role chair @bernd")


async def test_unknown_person_and_missing_target(chat: Conversation) -> None:
    await registered(chat)
    assert "don't know @zoe" in await chat.text(anna, "/role member @zoe")
    assert "Whom do you mean" in await chat.text(anna, "/role member")


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


async def test_impossible_date_is_explained(chat: Conversation) -> None:
    await registered(chat)
    reply = await chat.text(anna, "/date 31.02.2021")
    assert "not a date in the calendar" in reply and "15.06.2021" in reply
    good = await chat.text(anna, "/date Di 15.6.2021 14:00")
    assert "15.06.2021" in good or "2021-06-15" in good


async def test_plain_text_is_ignored_in_groups_and_answered_in_dm(chat: Conversation) -> None:
    assert await chat.say(anna, "Guten Morgen zusammen") == []
    assert "/help" in await chat.text(clara, "hello?", dm(clara))


async def test_commands_for_other_bots_are_ignored(chat: Conversation) -> None:
    assert await chat.say(anna, "/help@some_other_bot") == []
    assert await chat.say(anna, "/help@ag_test_bot")


async def test_language_follows_group_and_user_settings(chat: Conversation) -> None:
    await chat.say(anna, '/register ag "AG Transfer"')
    german = await chat.text(bernd, "/help")
    english_dm = await chat.text(clara, "/help", dm(clara))  # Telegram app language en
    assert "/hilfe" in german and "/help" in english_dm
    await chat.say(clara, "/language de", dm(clara))
    assert "/hilfe" in await chat.text(clara, "/help", dm(clara))
    await chat.say(anna, "/language en")
    assert "/help –" in await chat.text(bernd, "/hilfe")


async def test_help_for_one_command(chat: Conversation) -> None:
    await registered(chat)
    text = await chat.text(anna, "/help role")
    assert "Usage: /role <chair|minute-taker|member> [@person]" in text
    assert "Who may: chairs" in text
    assert "don't know the command" in await chat.text(anna, "/help nothing")


async def test_user_settings_in_dm(chat: Conversation) -> None:
    await chat.say(clara, "/start", dm(clara))
    assert "London" in await chat.text(clara, "/timezone london", dm(clara))
    assert "don't know the time zone" in await chat.text(clara, "/timezone Mars/Base", dm(clara))
    assert "Europe/London" in await chat.text(clara, "/settings", dm(clara))


async def test_group_settings_need_chair(chat: Conversation) -> None:
    await registered(chat)
    assert "Only chairs" in await chat.text(bernd, "/timezone Europe/Vienna")
    assert "Europe/Vienna" in await chat.text(anna, "/timezone europe/vienna")


async def test_private_commands_point_to_the_dm(chat: Conversation) -> None:
    await registered(chat)
    reply = await chat.text(bernd, "/mydata")
    assert "private chat" in reply and "https://t.me/ag_test_bot" in reply


async def test_my_data_export_and_delete(chat: Conversation, core) -> None:
    await registered(chat)
    await chat.say(bernd, "/join")
    await chat.say(bernd, "/start", dm(bernd))
    [export] = await chat.say(bernd, "/mydata", dm(bernd))
    assert export.document is not None and export.document.filename == "my-data.json"
    data = json.loads(export.document.content)
    assert data["identities"][0]["username"] == "bernd"
    assert data["memberships"][0]["group"] == "AG Transfer"
    [question] = await chat.say(bernd, "/deletemydata", dm(bernd))
    assert question.buttons and question.buttons[0][0].data.endswith("yes")
    [kept] = await chat.say(bernd, "", dm(bernd), callback=question.buttons[0][1].data)
    assert kept.edit
    [done] = await chat.say(bernd, "", dm(bernd), callback=question.buttons[0][0].data)
    assert done.edit
    async with core.services.sessions() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(Identity).where(Identity.username == "bernd")
            )
            == 0
        )
        assert await session.scalar(select(func.count()).select_from(Membership)) == 1
        assert await session.scalar(select(func.count()).select_from(User)) == 1


async def test_groups_are_isolated(chat: Conversation) -> None:
    await registered(chat)
    chat.platform.admins.add((OTHER_GROUP.chat_id, clara.user_id))
    await chat.say(clara, '/register ag "AG Qualität"', OTHER_GROUP)
    other = await chat.text(clara, "/members", OTHER_GROUP)
    assert "Anna" not in other and "Clara" in other
    # a chair of one group has no power in the other (which speaks German)
    assert "nur Vorsitzende" in await chat.text(anna, "/role chair @anna", OTHER_GROUP)


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


async def test_dm_to_person_without_private_chat_waits(chat: Conversation, core) -> None:
    """Telegram bots cannot write first: the message waits until the person opens the DM."""
    from bot.core.messages import OutgoingMessage
    from storage import outbox

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
    from bot.core.messages import OutgoingMessage
    from storage import outbox

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


async def test_a_chair_cannot_pull_in_members_of_another_group(chat: Conversation) -> None:
    await registered(chat)
    chat.platform.admins.add((OTHER_GROUP.chat_id, clara.user_id))
    await chat.say(clara, '/register ag "AG Qualität"', OTHER_GROUP)
    await chat.say(bernd, "/join", OTHER_GROUP)  # bernd is known, but only in the other group
    reply = await chat.text(anna, "/role member @bernd")
    assert "don't know @bernd" in reply
    assert "Bernd" not in await chat.text(anna, "/members")
