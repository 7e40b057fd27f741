"""Advisor letters by e-mail: an advisor in no chat gets the letter at the registry's
address, with the exchange dates as an .ics attachment and why it came; the step counts
as sent, not as unreachable."""

from __future__ import annotations

from datetime import UTC, date, datetime

import icalendar
import ics
from sqlalchemy import select

from bot.core.clock import FixedClock
from handlers.advisors.escalation import run_advisor_escalation
from storage.models import AdvisorStep, ExperienceExchange
from tests.advisor_registry import ADD, ADMIN, registry_chat
from tests.smtp_server import SmtpServer, deliver_mail


async def test_an_advisor_without_chat_gets_the_letter_by_e_mail(
    database_url: str, clock: FixedClock, smtp_server: SmtpServer
) -> None:
    async with registry_chat(database_url, clock) as chat:
        core = chat.core
        await chat.say(ADMIN, ADD)
        async with core.services.sessions.begin() as session:
            session.add(
                ExperienceExchange(
                    starts_at=datetime(2021, 7, 1, 7, 0, tzinfo=UTC),
                    ends_at=datetime(2021, 7, 1, 10, 0, tzinfo=UTC),
                    provider="IHK Köln",
                    place="Köln, Unter Sachsenhausen 10–26",
                    capacity=30,
                    created_at=clock.now(),
                )
            )
        report = await run_advisor_escalation(core.services, date(2021, 6, 10))
        assert (report.sent, report.unreachable) == (1, 0)
        async with core.services.sessions() as session:
            steps = list(await session.scalars(select(AdvisorStep)))
        [sent] = [s for s in steps if s.outcome == "sent"]
        assert sent.outbox_key and not [s for s in steps if s.outcome == "unreachable"]

        [received] = await deliver_mail(core, smtp_server)
        # Run again: the letter is not sent a second time.
        await run_advisor_escalation(core.services, date(2021, 6, 11))
        assert await deliver_mail(core, smtp_server) == []

    assert received.rcpt_tos == ["berta@example.org"]
    mail = received.message()
    assert mail["Subject"].startswith("Ihre Autorisierung als Berater")
    text = mail.get_body(("plain",)).get_content()
    assert "Berta Beispiel" in text and "IHK Köln" in text
    assert "als autorisierte Beraterin" in text  # why it came
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename().endswith(".ics")
    raw = attachment.get_content()
    raw = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    calendar = icalendar.Calendar.from_ical(raw)
    assert calendar["METHOD"] == "PUBLISH"
    assert [str(e["LOCATION"]) for e in calendar.walk("VEVENT")] == [
        "Köln, Unter Sachsenhausen 10–26"
    ]
    assert len(ics.Calendar(raw).events) == 1
