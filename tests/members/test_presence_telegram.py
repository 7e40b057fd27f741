"""Telegram without admin rights, end to end on the fake Bot API: Telegram tells such a bot
nothing when members leave, so before a group's private data goes to a member the bot asks
getChatMember (cached for a minute on its clock); a member reported left, kicked or gone
while restricted is treated like a leave update. It checks its own rights at /registrieren
and at every start, and tells the chat once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.core.enums import OutboxStatus
from bot.core.platform import Standing
from tests.fake_telegram import FakeTelegram
from tests.harness import outbox_rows
from tests.members.test_leaving_telegram import MEETING, documents_to, registered
from tests.telegram_bot import (
    ANNA,
    BERND,
    CLARA,
    GROUP,
    TelegramBot,
    TelegramSetup,
    converse,
    settings_for,
    start_telegram_bot,
    stop_telegram_bot,
)

ADMIN_ASK = "zum Admin"


@pytest.fixture
def telegram_setup() -> TelegramSetup:
    """The bot's clock stands still, so the test decides when cached answers expire."""
    return TelegramSetup(now=datetime(2031, 6, 1, 8, 0, tzinfo=UTC))


def asked_about(telegram: FakeTelegram, user: int) -> int:
    return len([c for c in telegram.calls_of("getChatMember") if int(c["user_id"]) == user])


def texts_in(telegram: FakeTelegram, chat_id: int, part: str) -> list[str]:
    return [m.text or "" for m in telegram.sent if m.chat_id == chat_id and part in (m.text or "")]


async def outbox_drained(bot: TelegramBot) -> None:
    """Nothing left for the worker to send: what was not sent by now never will be."""
    for _ in range(150):
        rows = await outbox_rows(bot.core)
        if not [r for r in rows if r.status in (OutboxStatus.PENDING, OutboxStatus.SENDING)]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the outbox still has work: {[(r.id, r.status) for r in rows]}")


async def invitations_settled(bot: TelegramBot, *, anna_has: int) -> None:
    """Anna holds `anna_has` invitations, and the worker sent everything else too."""
    telegram = bot.fake
    await telegram.wait_until(
        lambda: len(documents_to(telegram, ANNA)) == anna_has, timeout=15, what="invitations"
    )
    await outbox_drained(bot)


async def test_members_who_left_unseen_get_no_invitation_and_are_members_no_more(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    await registered(telegram)  # the bot is no admin: Telegram reports no departures
    telegram.leave_group(GROUP, BERND)
    telegram.remove_member(GROUP, CLARA, by=ANNA, ban=True)
    assert not telegram.pending_updates
    await converse(telegram, GROUP, ANNA, MEETING)
    await invitations_settled(telegram_bot, anna_has=1)
    assert documents_to(telegram, BERND) == [] and documents_to(telegram, CLARA) == []
    assert asked_about(telegram, BERND) >= 1 and asked_about(telegram, CLARA) >= 1
    [members] = await converse(telegram, GROUP, ANNA, "/mitglieder")
    assert "Bernd" not in (members.text or "") and "Clara" not in (members.text or "")


async def test_a_restricted_member_is_invited_until_they_leave(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    await registered(telegram)
    telegram.restrict_member(GROUP, BERND, by=ANNA)  # may not write, still in the chat
    telegram.restrict_member(GROUP, CLARA, by=ANNA)
    telegram.leave_group(GROUP, CLARA)  # "restricted", is_member false
    await converse(telegram, GROUP, ANNA, MEETING)
    await invitations_settled(telegram_bot, anna_has=1)
    await telegram.wait_until(
        lambda: documents_to(telegram, BERND) == ["sitzung-1.ics"], timeout=15, what="Bernd's"
    )
    assert documents_to(telegram, CLARA) == []


async def test_the_answer_is_asked_again_only_after_a_minute(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    clock = telegram_bot.core.services.clock
    assert isinstance(clock, FixedClock)
    await registered(telegram)
    await converse(telegram, GROUP, ANNA, MEETING)
    await converse(telegram, GROUP, ANNA, '/sitzung 16.06.2037 9-12 Uhr "Zweite"')
    assert asked_about(telegram, BERND) == 1  # the second meeting used the cached answer
    await telegram.wait_until(
        lambda: len(documents_to(telegram, BERND)) == 2, timeout=15, what="Bernd's two"
    )
    telegram.leave_group(GROUP, BERND)
    clock.advance(timedelta(seconds=61))
    await converse(telegram, GROUP, ANNA, '/sitzung 17.06.2037 9-12 Uhr "Dritte"')
    assert asked_about(telegram, BERND) == 2
    await invitations_settled(telegram_bot, anna_has=3)
    assert documents_to(telegram, BERND) == ["sitzung-1.ics", "sitzung-2.ics"]


async def test_with_the_bot_as_admin_nobody_is_asked(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    telegram.set_bot_admin(GROUP, True, by=ANNA)
    await registered(telegram)
    await converse(telegram, GROUP, ANNA, MEETING)
    await invitations_settled(telegram_bot, anna_has=1)
    assert asked_about(telegram, BERND) == 0 and asked_about(telegram, CLARA) == 0
    assert not texts_in(telegram, GROUP, ADMIN_ASK)


async def test_a_message_waiting_for_the_private_chat_is_dropped_if_they_left_meanwhile(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    await converse(telegram, ANNA, ANNA, "/start")
    await converse(telegram, GROUP, ANNA, '/registrieren ag "AG Transfer"')
    await converse(telegram, GROUP, BERND, "/beitreten")  # never opened the private chat
    await converse(telegram, GROUP, ANNA, MEETING)  # his invitation waits for it
    telegram.leave_group(GROUP, BERND)
    clock = telegram_bot.core.services.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(seconds=61))  # what the bot knew about him is too old now
    await converse(telegram, BERND, BERND, "/start")
    await outbox_drained(telegram_bot)
    assert documents_to(telegram, BERND) == []


async def test_registration_says_once_that_the_bot_should_be_admin(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    [reply] = await converse(telegram, GROUP, ANNA, '/registrieren ag "AG Transfer"')
    assert "registriert" in (reply.text or "") and ADMIN_ASK in (reply.text or "")
    assert "Mitgliederliste" in (reply.text or "")  # what is lost until then
    telegram.set_bot_admin(GROUP, True, by=ANNA)
    telegram.set_bot_admin(GROUP, False, by=ANNA)
    await converse(telegram, GROUP, ANNA, "/hilfe")
    assert len(texts_in(telegram, GROUP, ADMIN_ASK)) == 1


async def test_start_up_checks_the_bots_rights_in_every_registered_chat_once(
    telegram_bot: TelegramBot, telegram: FakeTelegram, tmp_path: Path
) -> None:
    telegram.set_bot_admin(GROUP, True, by=ANNA)
    await registered(telegram)
    await stop_telegram_bot(telegram_bot)
    telegram.set_bot_admin(GROUP, False, by=ANNA)  # while the bot was down …
    assert telegram.expire_updates() == 1  # … for longer than Telegram keeps updates
    settings = settings_for(telegram, tmp_path)
    clock = FixedClock(datetime(2031, 6, 1, 8, 0, tzinfo=UTC))
    for _ in range(2):
        restarted = await start_telegram_bot(telegram, settings, clock)
        await telegram.wait_until(
            lambda: len(texts_in(telegram, GROUP, ADMIN_ASK)) == 1,
            timeout=15,
            what="the request to make the bot an admin",
        )
        await converse(telegram, GROUP, ANNA, "/hilfe")
        await stop_telegram_bot(restarted)
    assert len(texts_in(telegram, GROUP, ADMIN_ASK)) == 1


async def test_start_up_notices_the_bot_was_removed_while_down(
    telegram_bot: TelegramBot, telegram: FakeTelegram, tmp_path: Path
) -> None:
    await registered(telegram)
    await stop_telegram_bot(telegram_bot)
    telegram.kick_bot(GROUP, by=BERND)
    telegram.expire_updates()
    clock = FixedClock(datetime(2031, 6, 1, 8, 0, tzinfo=UTC))
    restarted = await start_telegram_bot(telegram, settings_for(telegram, tmp_path), clock)
    try:
        await telegram.wait_until(
            lambda: bool(texts_in(telegram, ANNA, "entfernt")),
            timeout=15,
            what="the chair's note that the bot was removed",
        )
    finally:
        await stop_telegram_bot(restarted)


async def test_with_the_bot_as_admin_a_demotion_ends_the_chair_role_at_once(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    telegram.set_bot_admin(GROUP, True, by=ANNA)
    await registered(telegram)
    telegram.promote(GROUP, BERND, by=ANNA)
    [cancelled] = await converse(telegram, GROUP, BERND, MEETING)  # a chair now
    assert "Sitzung angelegt" in (cancelled.text or "")
    [members] = await converse(telegram, GROUP, ANNA, "/mitglieder")
    assert "Bernd (@bernd) – Vorsitz" in (members.text or "")
    telegram.demote(GROUP, BERND, by=ANNA)  # a chat_member update: no need to wait
    await telegram.wait_until(lambda: not telegram.pending_updates, timeout=10, what="update")
    [members] = await converse(telegram, GROUP, ANNA, "/mitglieder")
    assert "Bernd (@bernd) – Mitglied" in (members.text or "")


async def test_unknown_accounts_count_as_gone_and_a_failed_question_drops_nobody(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    adapter = telegram_bot.adapter
    assert await adapter.unreported_standing(str(GROUP), "999999") is Standing.GONE
    assert await adapter.unreported_standing(str(GROUP), str(BERND)) is Standing.MEMBER
    assert await adapter.unreported_standing(str(ANNA), str(ANNA)) is None  # private chat
    telegram.fail_next("getChatMember", 502)
    assert await adapter.unreported_standing(str(GROUP), str(CLARA)) is None
    assert await adapter.unreported_standing(str(GROUP), str(CLARA)) is Standing.MEMBER
