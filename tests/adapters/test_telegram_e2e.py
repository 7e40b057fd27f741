"""The real bot (PTB Application, dispatcher, SQLite) against the fake Telegram Bot API."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlalchemy import select

from bot.app import Core
from bot.core.messages import OutgoingMessage
from storage import outbox
from storage.models import Identity, OutboxMessage
from tests.fake_telegram import FakeTelegram
from tests.ports import free_port
from tests.telegram_bot import (
    ANNA,
    BERND,
    CLARA,
    GROUP,
    TelegramBot,
    converse,
    settings_for,
    start_telegram_bot,
    stop_telegram_bot,
)


async def test_start_help_and_command_menu(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    [reply] = await converse(telegram, ANNA, ANNA, "/start")
    assert "Hallo Anna" in reply.text
    [help_text] = await converse(telegram, GROUP, BERND, "/hilfe@ag_test_bot")
    assert "/registrieren" in help_text.text
    [english] = await converse(telegram, CLARA, CLARA, "/help")  # app language en
    assert "/register" in english.text and "What I can do" in english.text
    menus = {
        call.get("language_code"): {c["command"] for c in call["commands"]}
        for call in telegram.calls_of("setMyCommands")
    }
    assert "registrieren" in menus["de"] and "register" in menus["en"]
    assert menus[None] == menus["de"]  # other app languages see the default language


async def test_commands_for_another_bot_are_ignored(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    since = len(telegram.sent)
    telegram.send_text(GROUP, BERND, "/help@other_bot")
    telegram.send_text(GROUP, BERND, "Guten Morgen!")
    [reply] = await converse(telegram, GROUP, BERND, "/hilfe")
    assert len(telegram.sent[since:]) == 1 and "/registrieren" in reply.text


async def test_register_roles_and_members(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    [refused] = await converse(telegram, GROUP, BERND, '/registrieren ag "AG Transfer"')
    assert "Admin" in refused.text
    [done] = await converse(telegram, GROUP, ANNA, '/registrieren ag "AG Transfer"')
    assert "AG Transfer" in done.text and "Vorsitz" in done.text
    await converse(telegram, GROUP, BERND, "/beitreten")
    [granted] = await converse(telegram, GROUP, ANNA, "/rolle protokoll @bernd")
    assert "Bernd (@bernd)" in granted.text
    [members] = await converse(telegram, GROUP, CLARA, "/mitglieder")
    assert "Anna (@anna)" in members.text and "Protokoll" in members.text


async def test_delete_my_data_with_buttons(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    [question] = await converse(telegram, BERND, BERND, "/datenloeschen")
    labels = [button["text"] for row in question.reply_markup["inline_keyboard"] for button in row]
    assert len(labels) == 2
    data = question.reply_markup["inline_keyboard"][0][0]["callback_data"]
    telegram.press_button(BERND, question.message_id, BERND, data)
    await telegram.wait_until(lambda: question.edited, timeout=10, what="the question to be edited")
    assert "gelöscht" in question.text
    assert telegram.answered_callbacks, "the button press was answered"
    async with telegram_bot.core.services.sessions() as session:
        assert await session.scalar(select(Identity).where(Identity.username == "bernd")) is None


async def test_my_data_arrives_as_a_json_document(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    [reply] = await converse(telegram, ANNA, ANNA, "/meinedaten")
    assert reply.document is not None and reply.document.filename == "my-data.json"
    data = json.loads(reply.document.data)
    assert data["identities"][0]["platform_user_id"] == str(ANNA)


async def test_bad_input_gets_a_german_explanation(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    [unknown] = await converse(telegram, ANNA, ANNA, "/protokol")
    assert "„protokol“ kenne ich nicht" in unknown.text and "/hilfe" in unknown.text
    [bad_date] = await converse(telegram, ANNA, ANNA, "/datum 30.02.2021")
    assert "30.02.2021" in bad_date.text and "Kalender" in bad_date.text


async def enqueue_dm(core: Core, user_id: int, key: str, text: str) -> None:
    async with core.services.sessions.begin() as session:
        user = await session.scalar(
            select(Identity.user_id).where(Identity.platform_user_id == str(user_id))
        )
        await outbox.enqueue(
            session,
            dedupe_key=key,
            purpose="test",
            platform="telegram",
            message=OutgoingMessage(text),
            now=core.services.clock.now(),
            user_id=user,
        )
    core.services.wake_outbox()


async def test_outbox_delivers_dms_and_parks_blocked_people(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    for user in (ANNA, BERND, CLARA):
        await converse(telegram, user, user, "/start")
    telegram.block_bot(BERND)
    for user in (ANNA, BERND, CLARA):
        await enqueue_dm(telegram_bot.core, user, f"hello:{user}", f"Erinnerung {user}")
    await telegram.wait_for_messages(ANNA, predicate=lambda m: m.text == f"Erinnerung {ANNA}")
    await telegram.wait_for_messages(CLARA, predicate=lambda m: m.text == f"Erinnerung {CLARA}")

    async def status() -> str:
        async with telegram_bot.core.services.sessions() as session:
            return (
                await session.scalar(
                    select(OutboxMessage.status).where(OutboxMessage.dedupe_key == f"hello:{BERND}")
                )
            ) or ""

    for _ in range(50):
        if await status() == "waiting_for_dm":
            break
        await asyncio.sleep(0.1)
    assert await status() == "waiting_for_dm"
    # Bernd unblocks the bot and writes to it: the waiting reminder is delivered then
    await converse(telegram, BERND, BERND, "/start")
    await telegram.wait_for_messages(BERND, predicate=lambda m: m.text == f"Erinnerung {BERND}")


async def test_outbox_honours_429_retry_after(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    await converse(telegram, ANNA, ANNA, "/start")
    telegram.fail_next("sendMessage", status_code=429, count=1)
    enqueued_at = asyncio.get_running_loop().time()
    await enqueue_dm(telegram_bot.core, ANNA, "k1", "nach der Pause")
    [message] = await telegram.wait_for_messages(
        ANNA, predicate=lambda m: m.text == "nach der Pause", timeout=10
    )
    assert [e.status for e in telegram.errors] == [429]
    assert message.at - enqueued_at >= 0.9  # waited retry_after (1 s) before the retry


async def test_long_deliveries_are_split_at_the_length_limit(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    await converse(telegram, ANNA, ANNA, "/start")
    paragraph = "Tagesordnungspunkt mit viel Text. " * 40
    await enqueue_dm(telegram_bot.core, ANNA, "long", "\n\n".join([paragraph] * 8))
    parts = await telegram.wait_for_messages(
        ANNA, count=3, predicate=lambda m: m.text.startswith("Tagesordnungspunkt"), timeout=10
    )
    assert all(len(part.text) <= 4096 for part in parts)


async def test_direct_replies_do_not_wait_for_a_long_delivery_run(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    """30 announcements to one group take 90 s at 20/min; a command is answered meanwhile."""
    telegram.rate_limits(enabled=True)
    async with telegram_bot.core.services.sessions.begin() as session:
        for index in range(30):
            await outbox.enqueue(
                session,
                dedupe_key=f"a{index}",
                purpose="announce",
                platform="telegram",
                chat_id=str(GROUP),
                message=OutgoingMessage(f"Ankündigung {index}"),
                now=telegram_bot.core.services.clock.now(),
            )
    telegram_bot.core.services.wake_outbox()
    await telegram.wait_for_messages(GROUP, predicate=lambda m: m.text.startswith("Ankündigung"))
    started = asyncio.get_running_loop().time()
    [reply] = await converse(telegram, CLARA, CLARA, "/help")
    assert asyncio.get_running_loop().time() - started < 3
    assert "What I can do" in reply.text
    assert telegram.count_429 == 0


async def test_reply_honours_429_from_telegram(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    telegram.fail_next("sendMessage", status_code=429, count=1)
    [reply] = await converse(telegram, ANNA, ANNA, "/start")
    assert "Hallo" in reply.text and telegram.count_429 == 1


async def test_webhook_mode(telegram: FakeTelegram, tmp_path: Path) -> None:
    port = free_port()
    settings = settings_for(
        telegram,
        tmp_path,
        telegram_mode="webhook",
        telegram_webhook_port=port,
        telegram_webhook_url=f"http://127.0.0.1:{port}/telegram-hook",
        telegram_webhook_secret="s3cret",
    )
    running = await start_telegram_bot(telegram, settings)
    try:
        await telegram.wait_until(
            lambda: telegram.webhook_url is not None, timeout=10, what="setWebhook"
        )
        assert telegram.webhook_secret == "s3cret"
        [reply] = await converse(telegram, ANNA, ANNA, "/start")
        assert "Hallo Anna" in reply.text
    finally:
        await stop_telegram_bot(running)


async def test_group_upgraded_to_supergroup_keeps_its_registration(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    await converse(telegram, GROUP, ANNA, '/registrieren ag "AG Transfer"')
    supergroup = -1009999999999
    telegram.add_group(supergroup, "AG Transfer", admins=[ANNA], members=[BERND])
    telegram.send_update(
        {
            "message": {
                "message_id": 999,
                "date": 1_700_000_000,
                "chat": {"id": GROUP, "type": "group", "title": "AG Transfer"},
                "from": {"id": ANNA, "is_bot": False, "first_name": "Anna"},
                "migrate_to_chat_id": supergroup,
            }
        }
    )
    for _ in range(50):
        [reply] = await converse(telegram, supergroup, BERND, "/einstellungen")
        if "AG Transfer" in reply.text:
            break
        await asyncio.sleep(0.1)
    assert "Arbeitsgruppe „AG Transfer“" in reply.text


async def test_a_file_with_a_long_text_loses_nothing(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    from bot.core.messages import Document

    await converse(telegram, ANNA, ANNA, "/start")
    text = "Protokoll der Sitzung. " * 100  # longer than a caption may be (1024)
    async with telegram_bot.core.services.sessions.begin() as session:
        user = await session.scalar(
            select(Identity.user_id).where(Identity.platform_user_id == str(ANNA))
        )
        await outbox.enqueue(
            session,
            dedupe_key="minutes",
            purpose="test",
            platform="telegram",
            message=OutgoingMessage(text, document=Document("protokoll.md", b"# Protokoll")),
            now=telegram_bot.core.services.clock.now(),
            user_id=user,
        )
    telegram_bot.core.services.wake_outbox()
    [document] = await telegram.wait_for_messages(ANNA, predicate=lambda m: m.document is not None)
    [body] = [m for m in telegram.messages_in(ANNA) if (m.text or "").startswith("Protokoll der")]
    assert body.text == text.strip() and document.document.filename == "protokoll.md"


async def test_meeting_rsvp_with_telegram_buttons(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    await converse(telegram, GROUP, ANNA, '/registrieren ag "AG Transfer"')
    [meeting] = await converse(telegram, GROUP, ANNA, "/sitzung 15.06.2031 9-12 Uhr Juni-Sitzung")
    assert "Juni-Sitzung" in meeting.text
    yes = meeting.reply_markup["inline_keyboard"][0][0]["callback_data"]
    since = len(telegram.sent)
    telegram.press_button(GROUP, meeting.message_id, BERND, yes)
    [answer] = await telegram.wait_for_messages(GROUP, since=since, timeout=10)
    assert "Bernd: Ich komme für #1" in answer.text
    await telegram.wait_until(lambda: telegram.answered_callbacks, timeout=10, what="the answer")
    assert "Ich komme" in (telegram.answered_callbacks[-1].text or "")
