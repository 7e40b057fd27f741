"""Meeting and task reminders and approved minutes by e-mail, for members who chose it;
who did not gets them in the chat as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.app import Core
from bot.core.clock import FixedClock
from handlers.reminders.sweep import sweep_action_item_reminders, sweep_meeting_reminders
from tests.harness import Conversation, dm, outbox_rows, person
from tests.smtp_server import SmtpServer, confirm_address, deliver_mail

anna, bernd, clara = person("anna"), person("bernd"), person("clara")


async def test_meeting_and_task_reminders_by_e_mail(
    chat: Conversation, core: Core, clock: FixedClock, smtp_server: SmtpServer
) -> None:
    for who in (bernd, clara):
        await chat.say(who, "/beitreten")
        await chat.say(who, "/start", dm(who))
    await confirm_address(chat, smtp_server, bernd, "bernd@example.org")
    await chat.say(bernd, "/email erinnerungen email", dm(bernd))
    await chat.say(anna, '/sitzung 15.06.2021 9-12 Uhr "AG-Sitzung" | https://meet.example.org/ag')
    await chat.say(bernd, "/zusage 1 ja")
    await chat.say(clara, "/zusage 1 ja")
    assert "A-1" in await chat.text(anna, "/aufgabe #1 @bernd: Bögen einsammeln bis 16.06.")

    clock.set(datetime(2021, 6, 14, 7, 0, tzinfo=UTC))
    await sweep_meeting_reminders(core.services, clock.now())
    clock.set(datetime(2021, 6, 15, 7, 0, tzinfo=UTC))
    await sweep_action_item_reminders(core.services, clock.now())
    rows = await outbox_rows(core, "reminder_meeting")
    assert sorted((r.platform, r.chat_id) for r in rows) == [
        ("email", "bernd@example.org"),
        ("test", "clara"),
    ]
    received = await deliver_mail(core, smtp_server)
    subjects = sorted(r.message()["Subject"] for r in received)
    assert subjects[0].startswith("Erinnerung: AG-Sitzung – Di, 15.06.2021")
    assert subjects[1].startswith("Erinnerung: Aufgabe A-1")
    body = received[0].message().get_body(("plain",)).get_content()
    assert "Mitglied der Arbeitsgruppe „AG Transfer“" in body
    assert "/email erinnerungen chat" in body


async def test_approved_minutes_by_e_mail_with_the_files(
    chat: Conversation, core: Core, smtp_server: SmtpServer
) -> None:
    for who in (bernd, clara):
        await chat.say(who, "/beitreten")
    await confirm_address(chat, smtp_server, clara, "clara@example.org")
    await chat.say(clara, "/email protokolle beides", dm(clara))
    await chat.say(anna, "/sitzung 10.06.2021 10:30-12 Uhr Juni-Sitzung | Zoom")
    await chat.say(anna, "/beschluss einstimmig Der Leitfaden wird beschlossen.")
    chat.core.services.clock.advance(timedelta(minutes=30))  # drafts wait for the start
    await chat.say(anna, "/protokollentwurf 1 14")
    assert await deliver_mail(core, smtp_server) == []  # the draft: chats only
    assert "genehmigt" in await chat.text(anna, "/protokollgenehmigen 1 sofort")

    [received] = await deliver_mail(core, smtp_server)
    assert received.rcpt_tos == ["clara@example.org"]
    mail = received.message()
    assert mail["Subject"] == "Protokoll: Juni-Sitzung"
    assert mail.get_content_type() == "multipart/mixed"
    assert "Der Leitfaden wird beschlossen." in mail.get_body(("plain",)).get_content()
    assert "<h1" in mail.get_body(("html",)).get_content()
    names = sorted(a.get_filename() for a in mail.iter_attachments())
    assert [n.rsplit(".", 1)[1] for n in names] == ["docx", "html", "md"]
    # The chats still get the announcement.
    assert await outbox_rows(core, "minutes_approved")
