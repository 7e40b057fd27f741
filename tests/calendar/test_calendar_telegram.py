"""Invitations end to end: the real bot on the fake Telegram Bot API sends each member the
.ics as a document in their private chat, through the outbox and its delivery worker."""

from __future__ import annotations

import icalendar
import ics

from tests.adapters.test_telegram_e2e import (  # noqa: F401  (fixtures)
    ANNA,
    BERND,
    GROUP,
    Running,
    bot,
    converse,
    fake,
)
from tests.fake_telegram import FakeTelegram


def ics_documents(telegram: FakeTelegram, chat_id: int) -> list[icalendar.Calendar]:
    return [
        icalendar.Calendar.from_ical(message.document.data)
        for message in telegram.sent
        if message.chat_id == chat_id and message.document is not None
    ]


async def test_members_get_the_invitation_and_its_update_as_ics_documents(
    bot: Running,  # noqa: F811
    fake: FakeTelegram,  # noqa: F811
) -> None:
    await converse(fake, ANNA, ANNA, "/start")
    await converse(fake, BERND, BERND, "/start")
    await converse(fake, GROUP, ANNA, '/registrieren ag "AG Transfer"')
    await converse(fake, GROUP, BERND, "/beitreten")
    # the real clock runs here: a date far ahead
    await converse(fake, GROUP, ANNA, '/sitzung 15.06.2037 9-12 Uhr "AG-Sitzung" | https://m.ex')
    await fake.wait_until(
        lambda: len(ics_documents(fake, ANNA)) == 1 and len(ics_documents(fake, BERND)) == 1,
        timeout=15,
        what="an invitation in both private chats",
    )
    sent = next(m for m in fake.sent if m.chat_id == BERND and m.document is not None)
    assert sent.document.filename == "sitzung-1.ics"
    assert sent.document.mime_type == "text/calendar"
    assert "Einladung: AG-Sitzung" in (sent.text or "")
    [invitation] = ics_documents(fake, BERND)
    assert invitation["METHOD"] == "REQUEST"
    [event] = invitation.walk("VEVENT")
    assert event["DTSTART"].dt.hour == 9 and event["SEQUENCE"] == 0
    assert len(ics.Calendar(sent.document.data.decode()).events) == 1

    await converse(fake, GROUP, ANNA, "/verschieben 1 16.06.2037 10-12 Uhr")
    await fake.wait_until(
        lambda: len(ics_documents(fake, BERND)) == 2, timeout=15, what="the update"
    )
    [update] = ics_documents(fake, BERND)[1].walk("VEVENT")
    assert update["UID"] == event["UID"] and update["SEQUENCE"] == 1
    assert update["DTSTART"].dt.hour == 10
    assert not [m for m in fake.sent if m.chat_id == GROUP and m.document is not None]
