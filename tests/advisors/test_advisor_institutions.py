"""Training institutions receive the summary of their own advisors themselves (a chat of
their own, and an address kept for e-mail) instead of an admin forwarding it."""

from __future__ import annotations

from datetime import date

from bot.core.messages import ChatKind, ChatRef
from handlers.advisors.escalation import run_advisor_escalation
from storage.outbox import decode_message
from tests.advisor_registry import ADD, ADMIN, CHAIR, SUMMARY_CHAT
from tests.harness import OTHER_GROUP, Conversation, dm, outbox_rows
from tests.smtp_server import SmtpServer, deliver_mail

RKW_CHAT = ChatRef("test", "-400", ChatKind.GROUP, "RKW Nord Beratung")


async def test_an_institution_gets_its_own_summary_in_its_chat(chat: Conversation) -> None:
    await chat.say(ADMIN, ADD, dm(ADMIN))
    await chat.say(
        ADMIN,
        "/beraterneu Max Muster | max@example.org | BIFA | Export | 01.04.2019",
        dm(ADMIN),
    )
    assert "Noch keine Ausbildungsinstitution" in await chat.text(ADMIN, "/institut", dm(ADMIN))
    text = await chat.text(ADMIN, "/institut rkw nord | hier", RKW_CHAT)
    assert text == "RKW Nord erhält eine eigene Übersicht: Chat test:-400"
    text = await chat.text(ADMIN, "/institut RKW Nord | info@rkw.example", dm(ADMIN))
    assert "Adresse info@rkw.example" in text
    assert "Chat test:-400" in text
    # Nobody else may point an institution's summary anywhere.
    assert "Nur Admins" in await chat.text(CHAIR, "/institut RKW Nord | hier", OTHER_GROUP)
    assert "keine Berater*in" in await chat.text(ADMIN, "/institut Nirgendwo | hier", RKW_CHAT)

    await run_advisor_escalation(chat.core.services, date(2021, 1, 1))
    summaries = await outbox_rows(chat.core, "advisor_summary")
    own = [row for row in summaries if row.chat_id == RKW_CHAT.chat_id]
    assert len(own) == 1
    text = decode_message(own[0].payload).text
    assert text.startswith("Erinnerungen an Berater*innen von RKW Nord (01.01.2021):")
    assert "Berta Beispiel: erste Erinnerung" in text and "Max Muster" not in text
    # The overall summary chat still gets every institution.
    assert {
        decode_message(r.payload).text.split(" (")[0]
        for r in summaries
        if r.chat_id == SUMMARY_CHAT
    } == {
        "Erinnerungen an Berater*innen von BIFA",
        "Erinnerungen an Berater*innen von RKW Nord",
    }

    text = await chat.text(ADMIN, "/institut RKW Nord | aus", dm(ADMIN))
    assert text == "RKW Nord erhält keine eigene Übersicht mehr."
    assert "Noch keine" in await chat.text(ADMIN, "/institut", dm(ADMIN))


async def test_an_institution_gets_its_own_summary_by_e_mail(
    chat: Conversation, smtp_server: SmtpServer
) -> None:
    await chat.say(ADMIN, ADD, dm(ADMIN))
    await chat.say(ADMIN, "/institut RKW Nord | info@rkw.example", dm(ADMIN))

    await run_advisor_escalation(chat.core.services, date(2021, 1, 1))
    sent = await deliver_mail(chat.core, smtp_server)  # Berta's own letter goes too
    [received] = [mail for mail in sent if mail.rcpt_tos == ["info@rkw.example"]]
    mail = received.message()
    assert mail["Subject"] == "Erinnerungen an Berater*innen von RKW Nord (01.01.2021):"
    body = mail.get_body(("plain",)).get_content()
    assert "Berta Beispiel: erste Erinnerung" in body
    assert "für die Übersichten von RKW Nord eingetragen" in body  # why it came, who stops it
    # the same run again sends nothing twice
    await run_advisor_escalation(chat.core.services, date(2021, 1, 1))
    assert await deliver_mail(chat.core, smtp_server) == []
