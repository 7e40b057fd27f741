"""Picking a poll's date with the button sends every member the calendar invitation, as
/sitzung does: the real Telegram adapter against the fake Bot API."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar
import pytest

from tests.fake_telegram import FakeTelegram
from tests.polls.test_polls_telegram_e2e import data_of, setup_group
from tests.telegram_bot import ANNA, BERND, CLARA, GROUP, TelegramBot, TelegramSetup, converse


@pytest.fixture
def telegram_setup() -> TelegramSetup:
    return TelegramSetup(now=datetime(2031, 6, 1, 8, 0, tzinfo=UTC), clara_language="de")


async def test_the_pick_button_sends_the_first_invitation(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    await setup_group(telegram)
    await converse(telegram, ANNA, ANNA, "/start")
    [closed] = await converse(telegram, GROUP, ANNA, "/abfrageende 1")
    since = len(telegram.sent)
    telegram.press_button(GROUP, closed.message_id, ANNA, data_of(closed, "1"))
    for user in (ANNA, BERND, CLARA):
        [sent] = await telegram.wait_for_messages(
            user, since=since, timeout=15, predicate=lambda m: m.document is not None
        )
        assert sent.document.filename == "sitzung-1.ics"
        assert "Einladung: Juni-Sitzung" in (sent.text or "")
        [event] = icalendar.Calendar.from_ical(sent.document.data).walk("VEVENT")
        assert event["SEQUENCE"] == 0
        assert event.decoded("DTSTART") == datetime(2031, 6, 15, 7, 0, tzinfo=UTC)
