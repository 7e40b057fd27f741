"""Roles follow Telegram: a chat admin chairs on demand, and a demoted one stops chairing
once the bot's admin cache (60 s, on the bot's clock) has expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.clock import FixedClock
from tests.fake_telegram import FakeTelegram
from tests.telegram_bot import ANNA, BERND, CLARA, GROUP, TelegramBot, TelegramSetup, converse


@pytest.fixture
def telegram_setup() -> TelegramSetup:
    """The bot's clock stands still, so the test decides when the admin cache expires."""
    return TelegramSetup(now=datetime(2031, 6, 1, 8, 0, tzinfo=UTC), clara_language="de")


async def test_a_demoted_admin_cannot_cancel_meetings_after_a_minute(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    clock = telegram_bot.core.services.clock
    assert isinstance(clock, FixedClock)
    await converse(telegram, GROUP, ANNA, '/registrieren ag "AG Transfer"')
    await converse(telegram, GROUP, CLARA, "/beitreten")
    await converse(telegram, GROUP, ANNA, "/rolle vorsitz @clara")  # a chair Anna granted
    await converse(telegram, GROUP, ANNA, "/sitzung 15.06.2031 9-12 Uhr Juni")
    await converse(telegram, GROUP, ANNA, "/sitzung 17.06.2031 9-12 Uhr Juli")
    telegram.promote(GROUP, BERND, by=ANNA)
    [cancelled] = await converse(telegram, GROUP, BERND, "/absagen 1")
    assert "abgesagt" in (cancelled.text or "")
    telegram.demote(GROUP, BERND, by=ANNA)
    telegram.demote(GROUP, CLARA, by=ANNA)
    clock.advance(timedelta(seconds=61))
    [refused] = await converse(telegram, GROUP, BERND, "/absagen 2")
    assert "nur Vorsitzende" in (refused.text or "")
    [members] = await converse(telegram, GROUP, ANNA, "/mitglieder")
    assert "Bernd (@bernd) – Mitglied" in (members.text or "")
    assert "Clara (@clara) – Vorsitz" in (members.text or "")  # granted: untouched


async def test_replying_to_the_bot_with_a_role_gives_the_bot_none(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    [registered] = await converse(telegram, GROUP, ANNA, '/registrieren ag "AG Transfer"')
    since = len(telegram.sent)
    telegram.send_text(GROUP, ANNA, "/rolle vorsitz", reply_to_message_id=registered.message_id)
    [refused] = await telegram.wait_for_messages(GROUP, count=1, since=since, timeout=10)
    assert "Bots können keine Rolle" in (refused.text or "")
    [members] = await converse(telegram, GROUP, ANNA, "/mitglieder")
    assert "hat 1 Mitglied" in (members.text or "")
    assert telegram.bot_username not in (members.text or "")
