"""Date polls end to end: the real Telegram adapter against the fake Bot API, button presses
as callback queries, the poll message edited in place (editMessageText)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.clock import FixedClock
from handlers.polls.deadlines import run_poll_deadlines
from storage.models import Meeting
from tests.fake_telegram import FakeTelegram, SentMessage
from tests.telegram_bot import ANNA, BERND, CLARA, GROUP, TelegramBot, TelegramSetup, converse

POLL = '/terminabfrage "Juni-Sitzung" 15.06.2031 9-12 Uhr; 17.06.2031 14-16 Uhr notfalls'


@pytest.fixture
def telegram_setup() -> TelegramSetup:
    """The bot's clock stands on 01.06.2031, so the deadline sweep and the outbox worker agree
    on "now" when the test moves it; everyone uses Telegram in German."""
    return TelegramSetup(now=datetime(2031, 6, 1, 8, 0, tzinfo=UTC), clara_language="de")


def data_of(message: SentMessage, label_part: str) -> str:
    found = [b["callback_data"] for b in message.buttons if label_part in b["text"]]
    assert found, f"no button {label_part!r} in {message.buttons}"
    return found[0]


async def setup_group(telegram: FakeTelegram) -> SentMessage:
    await converse(telegram, GROUP, ANNA, '/registrieren ag "AG Transfer"')
    for user in (BERND, CLARA):
        await converse(telegram, user, user, "/start")
        await converse(telegram, GROUP, user, "/beitreten")
    [poll] = await converse(telegram, GROUP, ANNA, POLL + " bis 10.06.2031")
    return poll


async def test_poll_answered_by_buttons_is_edited_in_place_then_decided(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    poll = await setup_group(telegram)
    rows = poll.reply_markup["inline_keyboard"]
    assert [[b["text"] for b in row] for row in rows] == [
        ["1 ✅ ja", "1 🟡 notfalls", "1 ❌ nein"],
        ["2 ✅ ja", "2 🟡 notfalls", "2 ❌ nein"],
    ]
    edits = len(telegram.calls_of("editMessageText"))
    sent_before = len(telegram.sent)
    telegram.press_button(GROUP, poll.message_id, BERND, data_of(poll, "1 ✅"))
    await telegram.wait_until(
        lambda: "✅ Bernd" in (poll.text or ""), timeout=10, what="Bernd's yes"
    )
    telegram.press_button(GROUP, poll.message_id, CLARA, data_of(poll, "2 🟡"))
    await telegram.wait_until(lambda: "🟡 Clara" in (poll.text or ""), timeout=10, what="Clara")
    telegram.press_button(GROUP, poll.message_id, CLARA, data_of(poll, "1 ✅"))
    await telegram.wait_until(
        lambda: "✅ Bernd, Clara" in (poll.text or ""), timeout=10, what="Clara's second answer"
    )
    assert len(telegram.calls_of("editMessageText")) == edits + 3
    assert len(telegram.sent) == sent_before  # no new messages: the poll was edited in place
    assert poll.reply_markup["inline_keyboard"] == rows  # the buttons stay
    assert "1) So, 15.06.2031, 9:00–12:00 Uhr ⭐" in (poll.text or "")
    await telegram.wait_until(
        lambda: len(telegram.answered_callbacks) >= 3, timeout=10, what="toasts"
    )
    assert telegram.answered_callbacks[-1].text == "Gespeichert"

    # A typed answer gets its own reply, and the outbox edits the poll message too (the
    # way a Matrix room's answers reach the Telegram group).
    [typed] = await converse(telegram, GROUP, ANNA, "/abstimmen 2 nein")
    assert "❌ Anna" in (typed.text or "")
    await telegram.wait_until(
        lambda: "❌ Anna" in (poll.text or ""), timeout=10, what="the poll edited by the outbox"
    )
    assert poll.reply_markup["inline_keyboard"] == rows

    [closed] = await converse(telegram, GROUP, ANNA, "/abfrageende 1")
    await telegram.wait_until(lambda: not poll.buttons, timeout=10, what="the poll's buttons gone")
    assert "geschlossen" in (poll.text or "")
    assert "Vorschlag: So, 15.06.2031, 9:00–12:00 Uhr" in (closed.text or "")
    since = len(telegram.sent)
    telegram.press_button(GROUP, closed.message_id, ANNA, data_of(closed, "⭐"))
    [announced] = await telegram.wait_for_messages(GROUP, since=since, timeout=10)
    assert "steht fest: So, 15.06.2031, 9:00–12:00 Uhr (Sitzung #1)" in (announced.text or "")
    assert closed.edited and "📌" in (closed.text or "") and not closed.buttons
    for user in (BERND, CLARA):  # the people who answered get a direct message
        [note] = await telegram.wait_for_messages(user, since=since, timeout=10)
        assert "Juni-Sitzung" in (note.text or "")
    async with telegram_bot.core.services.sessions() as session:
        meeting = await session.scalar(select(Meeting))
    assert meeting.starts_at == datetime(2031, 6, 15, 7, 0, tzinfo=UTC)


async def test_deadline_closes_the_poll_in_the_group(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    await setup_group(telegram)
    clock = telegram_bot.core.services.clock
    assert isinstance(clock, FixedClock)
    since = len(telegram.sent)
    clock.set(datetime(2031, 6, 9, 22, 0, tzinfo=UTC))  # 24 h before the deadline
    await run_poll_deadlines(telegram_bot.core.services, clock.now())
    reminders = [
        await telegram.wait_for_messages(user, since=since, timeout=10) for user in (BERND, CLARA)
    ]
    assert all("Erinnerung" in (m[0].text or "") for m in reminders)
    since = len(telegram.sent)
    clock.advance(timedelta(days=1))
    await run_poll_deadlines(telegram_bot.core.services, clock.now())
    [result] = await telegram.wait_for_messages(GROUP, since=since, timeout=10)
    assert "Terminabfrage ist geschlossen" in (result.text or "")
    assert [b["callback_data"] for b in result.buttons] == ["/pickdate #1 1", "/pickdate #1 2"]
