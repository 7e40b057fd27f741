"""Advisor letters by e-mail: an advisor in no chat gets the letter at the registry's
address, with the exchange dates as an .ics attachment and why it came; the step counts
as sent, not as unreachable."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import icalendar
import ics
from sqlalchemy import select

from bot.app import Core
from bot.core.clock import FixedClock
from bot.core.i18n import Translator
from bot.core.messages import OutgoingMessage
from handlers.advisors.escalation import run_advisor_escalation
from handlers.advisors.letters import ReportLine, admin_report
from handlers.advisors.policy import Step
from handlers.email.failures import failure_report, report_failed_mail
from handlers.email.unreachable import Owners, describe_owners
from storage import mail as mail_store
from storage.models import Advisor, AdvisorStep, ExperienceExchange, OutboxMessage
from tests.advisor_registry import ADD, ADMIN, ADMIN_CHAT, LISTED_ADMIN, registry_chat
from tests.harness import dm, outbox_rows
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


async def admin_reports(core: Core, purpose: str) -> list[str]:
    """The texts queued for the admin working group's chat with this purpose."""
    return [
        row.payload["text"]
        for row in await outbox_rows(core, purpose)
        if row.chat_id == ADMIN_CHAT.chat_id
    ]


async def test_a_refused_advisor_address_gets_no_more_letters_until_it_is_changed(
    database_url: str, clock: FixedClock, smtp_server: SmtpServer
) -> None:
    """SMTP 550 to an advisor's letter: the registry entry is marked and the admins are told
    whose address it was; the next daily run writes no mail there and the admins' report
    lists the advisor as unreachable, with the reason; a new address gets the next letter."""
    async with registry_chat(database_url, clock) as chat:
        core = chat.core
        await chat.say(ADMIN, ADD)
        async with core.services.sessions.begin() as session:
            session.add(  # the delisting after the last call does not wait for one
                ExperienceExchange(
                    starts_at=datetime(2021, 7, 1, 7, 0, tzinfo=UTC),
                    provider="IHK Köln",
                    place="Köln",
                    created_at=clock.now(),
                )
            )
        smtp_server.handler.refused.add("berta@example.org")
        report = await run_advisor_escalation(core.services, date(2021, 6, 10))
        assert (report.sent, report.unreachable) == (1, 0)
        assert await deliver_mail(core, smtp_server) == []  # refused at RCPT TO
        assert await report_failed_mail(core.services, clock.now()) == 1
        [failed] = await admin_reports(core, "mail_failed")
        [berta] = await advisors(core)
        assert "→ berta@example.org (advisor_escalation): mailbox refused: 550" in failed
        assert (
            f"(Adresse als unerreichbar markiert) – Berater*in #{berta.id} Berta Beispiel"
        ) in failed
        assert berta.email_unreachable_at == clock.now()
        assert "550 5.1.1 No such user here" in (berta.email_unreachable_reason or "")
        shown = await chat.text(LISTED_ADMIN, f"/advisors {berta.id}", dm(LISTED_ADMIN))
        assert "E-mail undeliverable since" in shown and "No such user here" in shown

        # The next step: no mail to the dead address; the admins hear why.
        assert berta.next_step_on is not None
        next_day = berta.next_step_on
        clock.set(datetime.combine(next_day, time(8), UTC))
        before = len(await outbox_rows(core, "advisor_escalation"))
        reports_before = len(await admin_reports(core, "advisor_admin_report"))
        report = await run_advisor_escalation(core.services, next_day)
        assert (report.sent, report.unreachable, report.delisted) == (0, 1, 1)
        assert len(await outbox_rows(core, "advisor_escalation")) == before
        assert await deliver_mail(core, smtp_server) == []
        [summary] = (await admin_reports(core, "advisor_admin_report"))[reports_before:]
        assert "Konnte nicht erreicht werden: 1" in summary
        assert (
            f"#{berta.id} Berta Beispiel <berta@example.org>, RKW Nord: " in summary
            and "E-Mail-Adresse unzustellbar seit 10.06.2021 (mailbox refused: 550" in summary
        )

        # An admin corrects the address: the mark goes; the renewal's relisting letter
        # (the next letter) goes to the new address.
        await chat.say(ADMIN, f"/berateraendern {berta.id} email=berta.neu@example.org")
        [berta] = await advisors(core)
        assert berta.email_unreachable_at is None and berta.email_unreachable_reason is None
        day = next_day.strftime("%d.%m.%Y")
        await chat.say(ADMIN, f"/berateraendern {berta.id} autorisiert={day}")
        [received] = await deliver_mail(core, smtp_server)
    assert received.rcpt_tos == ["berta.neu@example.org"]


async def test_a_refused_address_of_nobody_is_reported_but_not_called_marked(
    database_url: str, clock: FixedClock, smtp_server: SmtpServer
) -> None:
    async with registry_chat(database_url, clock) as chat:
        core = chat.core
        async with core.services.sessions.begin() as session:
            await mail_store.enqueue_mail(
                session,
                address="stranger@example.org",
                dedupe_key="stranger",
                purpose="note",
                message=OutgoingMessage("Hallo"),
                now=clock.now(),
            )
        smtp_server.handler.refused.add("stranger@example.org")
        assert await deliver_mail(core, smtp_server) == []
        assert await report_failed_mail(core.services, clock.now()) == 1
        [failed] = await admin_reports(core, "mail_failed")
    assert "stranger@example.org (note): mailbox refused: 550" in failed
    assert "markiert" not in failed


async def advisors(core: Core) -> list[Advisor]:
    async with core.services.sessions() as session:
        return list(await session.scalars(select(Advisor).order_by(Advisor.id)))


def test_the_notices_name_the_advisor_in_english() -> None:
    t = Translator("en")
    found = Owners(member="Bernd", advisors=((3, "Berta Beispiel"),))
    assert describe_owners(t, found) == "Bernd; advisor #3 Berta Beispiel"
    row = OutboxMessage(
        id=7,
        chat_id="berta@example.org",
        purpose="advisor_escalation",
        last_error="mailbox refused: 550 5.1.1 No such user here",
    )
    assert failure_report(t, [row], {7: found}).endswith(
        "No such user here (address marked unreachable) – Bernd; advisor #3 Berta Beispiel"
    )
    assert "marked" not in failure_report(t, [row])
    line = ReportLine(
        advisor_id=3,
        name="Berta Beispiel",
        email="berta@example.org",
        institution="RKW Nord",
        step=Step.DELISTING,
        outcome="unreachable",
        due_on=date(2021, 8, 15),
        email_unreachable_on=date(2021, 6, 10),
        email_unreachable_reason="mailbox refused: 550 5.1.1 No such user here",
    )
    report = admin_report(t, [], [line], date(2021, 8, 15))
    assert report is not None
    assert "e-mail address unreachable since" in report
    assert report.endswith("(mailbox refused: 550 5.1.1 No such user here)")
