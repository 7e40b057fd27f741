"""Invitations end to end: the real bot on the fake Telegram Bot API sends each member the
.ics as a document in their private chat, through the outbox and its delivery worker."""

from __future__ import annotations

import icalendar
import ics

from tests.fake_telegram import FakeTelegram
from tests.telegram_bot import ANNA, BERND, GROUP, TelegramBot, converse


def ics_documents(telegram: FakeTelegram, chat_id: int) -> list[icalendar.Calendar]:
    return [
        icalendar.Calendar.from_ical(message.document.data)
        for message in telegram.sent
        if message.chat_id == chat_id and message.document is not None
    ]


async def test_members_get_the_invitation_and_its_update_as_ics_documents(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    await converse(telegram, ANNA, ANNA, "/start")
    await converse(telegram, BERND, BERND, "/start")
    await converse(telegram, GROUP, ANNA, '/registrieren ag "AG Transfer"')
    await converse(telegram, GROUP, BERND, "/beitreten")
    # the real clock runs here: a date far ahead
    await converse(
        telegram, GROUP, ANNA, '/sitzung 15.06.2037 9-12 Uhr "AG-Sitzung" | https://m.ex'
    )
    await telegram.wait_until(
        lambda: (
            len(ics_documents(telegram, ANNA)) == 1 and len(ics_documents(telegram, BERND)) == 1
        ),
        timeout=15,
        what="an invitation in both private chats",
    )
    sent = next(m for m in telegram.sent if m.chat_id == BERND and m.document is not None)
    assert sent.document.filename == "sitzung-1.ics"
    assert sent.document.mime_type == "text/calendar"
    assert "Einladung: AG-Sitzung" in (sent.text or "")
    [invitation] = ics_documents(telegram, BERND)
    assert invitation["METHOD"] == "REQUEST"
    [event] = invitation.walk("VEVENT")
    assert event["DTSTART"].dt.hour == 9 and event["SEQUENCE"] == 0
    assert len(ics.Calendar(sent.document.data.decode()).events) == 1

    await converse(telegram, GROUP, ANNA, "/verschieben 1 16.06.2037 10-12 Uhr")
    await telegram.wait_until(
        lambda: len(ics_documents(telegram, BERND)) == 2, timeout=15, what="the update"
    )
    [update] = ics_documents(telegram, BERND)[1].walk("VEVENT")
    assert update["UID"] == event["UID"] and update["SEQUENCE"] == 1
    assert update["DTSTART"].dt.hour == 10
    assert not [m for m in telegram.sent if m.chat_id == GROUP and m.document is not None]
