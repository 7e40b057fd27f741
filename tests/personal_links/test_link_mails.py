"""Personal links by e-mail as a real SMTP server receives them: a guest's poll link, a
guest's meeting invitation with Zusage / Vielleicht / Absage, and a member's invitation
mail (iMIP) carrying their own answer links; sending an invitation again keeps the link in
the mail a person already has working."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import select

from bot.feed_server import FeedServer
from storage.models import Guest, PersonalLink, Rsvp
from tests.harness import Conversation, dm, person
from tests.smtp_server import SmtpServer, confirm_address, deliver_mail
from tests.web.answer_links import csrf_of

anna, bernd = person("anna"), person("bernd")
LINK = re.compile(r"https?://\S+/(?:poll|rsvp)/[A-Za-z0-9_-]+(?:/(?:yes|maybe|no))?")


def text_of(mail) -> str:
    message = mail.message()
    part = message.get_body(("plain",))
    return part.get_content()


async def test_a_guest_gets_the_poll_link_and_only_their_own_name_and_address(
    chat: Conversation, smtp_server: SmtpServer
) -> None:
    await chat.say(anna, '/terminabfrage "Juni-Sitzung" 15.06. 9-12 Uhr; 17.06. 14 Uhr bis 14.06.')
    await chat.say(anna, "/abfragegast 1 Erika Muster erika@example.org")
    await chat.say(anna, "/abfragegast 1 Otto Normal otto@example.org")
    received = await deliver_mail(chat.core, smtp_server)
    mails = {r.rcpt_tos[0]: r for r in received}
    assert set(mails) == {"erika@example.org", "otto@example.org"}
    erika = text_of(mails["erika@example.org"])
    assert mails["erika@example.org"].message()["Subject"] == "Terminabfrage #1: Juni-Sitzung"
    assert erika.startswith("Hallo Erika Muster,")
    assert "Anna bittet Sie um Ihre Antwort" in erika and "Antworten bis Mo, 14.06.2021" in erika
    assert "weil Anna, Vorsitz der Arbeitsgruppe „AG Transfer“" in erika
    assert "Otto" not in erika and "otto@" not in erika
    [erikas] = LINK.findall(erika)
    [ottos] = LINK.findall(text_of(mails["otto@example.org"]))
    assert erikas != ottos


async def test_a_members_invitation_mail_carries_answer_links_that_survive_a_resend(
    chat: Conversation, smtp_server: SmtpServer, web_server: FeedServer, http
) -> None:
    await chat.say(bernd, "/beitreten")
    await confirm_address(chat, smtp_server, bernd, "bernd@example.org")
    await chat.say(bernd, "/email einladungen email", dm(bernd))
    await chat.say(anna, '/sitzung 17.06.2021 10-12 Uhr "Juli-Sitzung"')
    [mail] = await deliver_mail(chat.core, smtp_server)
    text = text_of(mail)
    assert "Bitte antworten Sie mit einem dieser Links" in text
    links = {url.rsplit("/", 1)[1]: urlsplit(url).path for url in LINK.findall(text)}
    assert set(links) == {"yes", "maybe", "no"}

    await chat.say(anna, "/einladung 1 alle")  # nobody new: the link in Bernd's mail still works
    assert await deliver_mail(chat.core, smtp_server) == []
    base = f"http://127.0.0.1:{web_server.port}"
    async with http.get(base + links["maybe"]) as page:
        assert page.status == 200
        body = await page.text()
    assert "Sie antworten als Bernd." in body
    async with http.post(
        base + links["maybe"],
        data={"csrf": csrf_of(body)},
        headers={"Sec-Fetch-Site": "same-origin"},
        allow_redirects=False,
    ) as response:
        assert response.status == 303
    async with chat.core.services.sessions() as session:
        [rsvp] = list(await session.scalars(select(Rsvp)))
        [link] = list(await session.scalars(select(PersonalLink)))
    assert rsvp.answer == "maybe" and rsvp.user_id == link.user_id and not link.outside
    assert "Antworten: 0 ja, 1 vielleicht, 0 nein" in await chat.text(anna, "/sitzungen")


async def test_a_meeting_guest_gets_zusage_vielleicht_absage(
    chat: Conversation, smtp_server: SmtpServer, http: aiohttp.ClientSession
) -> None:
    await chat.say(anna, '/sitzung 17.06.2021 10-12 Uhr "Juli-Sitzung" | Köln')
    await deliver_mail(chat.core, smtp_server)
    await chat.say(anna, "/sitzungsgast 1 Erika Muster erika@example.org")
    [mail] = await deliver_mail(chat.core, smtp_server)
    assert mail.rcpt_tos == ["erika@example.org"]
    text = text_of(mail)
    assert mail.message()["Subject"] == "Einladung: Juli-Sitzung"
    assert "Anna lädt Sie ein: Juli-Sitzung" in text and "Ort: Köln" in text
    lines = [line for line in text.splitlines() if LINK.search(line)]
    assert [line.split(":", 1)[0] for line in lines] == ["Zusage", "Vielleicht", "Absage"]


async def test_a_meeting_guest_hears_of_a_change_with_new_links_and_of_a_cancellation(
    chat: Conversation, smtp_server: SmtpServer, web_server: FeedServer, http
) -> None:
    await chat.say(anna, '/sitzung 17.06.2021 10-12 Uhr "Juli-Sitzung"')
    await chat.say(anna, "/sitzungsgast 1 Erika Muster erika@example.org")
    [invitation] = await deliver_mail(chat.core, smtp_server)
    first = urlsplit(LINK.findall(text_of(invitation))[0]).path
    base = f"http://127.0.0.1:{web_server.port}"

    await chat.say(anna, "/verschieben 1 18.06.2021 14 Uhr")
    [changed] = await deliver_mail(chat.core, smtp_server)
    assert changed.rcpt_tos == ["erika@example.org"]
    assert changed.message()["Subject"] == "Geändert: Juli-Sitzung"
    text = text_of(changed)
    assert "Fr, 18.06.2021, 14:00 Uhr" in text and "funktionieren weiterhin" in text
    new_yes = urlsplit(LINK.findall(text)[0]).path
    assert new_yes != first
    async with http.get(base + first) as page:
        assert page.status == 200  # last week's invitation still opens the meeting
        assert "18.06.2021" in await page.text()  # as it is now
    async with http.get(base + new_yes) as page:
        assert page.status == 200

    await chat.say(anna, "/absagen 1")
    [cancelled] = await deliver_mail(chat.core, smtp_server)
    assert cancelled.message()["Subject"] == "Abgesagt: Juli-Sitzung"
    assert LINK.findall(text_of(cancelled)) == []
    async with http.get(base + new_yes) as page:
        body = await page.text()
    assert "Sitzung #1 wurde abgesagt." in body and "bestätigen" not in body


async def test_a_guest_who_has_not_answered_gets_one_reminder_and_both_links_work(
    chat: Conversation, smtp_server: SmtpServer, clock, web_server: FeedServer, http
) -> None:
    from datetime import timedelta

    from handlers.polls.deadlines import run_poll_deadlines
    from storage import polls as poll_store

    await chat.say(anna, '/terminabfrage "Juni-Sitzung" 15.06. 9-12 Uhr; 17.06. 14 Uhr bis 14.06.')
    await chat.say(anna, "/abfragegast 1 Erika Muster erika@example.org")
    await chat.say(anna, "/abfragegast 1 Otto Normal otto@example.org")
    first = {m.rcpt_tos[0]: m for m in await deliver_mail(chat.core, smtp_server)}
    async with chat.core.services.sessions.begin() as session:  # Otto answered already
        [poll] = await poll_store.polls_of_group(session, 1, open_only=False)
        otto = await session.scalar(
            select(Guest.user_id).where(Guest.address_key == "otto@example.org")
        )
        await poll_store.set_answers(session, poll, otto, {1: "yes"}, clock.now())

    clock.advance(timedelta(days=3, hours=20))  # within POLL_REMINDER_HOURS of the deadline
    await run_poll_deadlines(chat.core.services, clock.now())
    await run_poll_deadlines(chat.core.services, clock.now())  # once only
    [reminder] = await deliver_mail(chat.core, smtp_server)
    assert reminder.rcpt_tos == ["erika@example.org"]
    assert reminder.message()["Subject"] == "Erinnerung: Terminabfrage #1: Juni-Sitzung"
    text = text_of(reminder)
    assert "bis Mo, 14.06.2021, 23:59 Uhr" in text
    [fresh] = LINK.findall(text)
    [old] = LINK.findall(text_of(first["erika@example.org"]))
    assert fresh != old and "Der Link in der früheren E-Mail funktioniert weiterhin." in text
    base = f"http://127.0.0.1:{web_server.port}"
    for url in (old, fresh):  # the invitation's link does not break with the reminder
        async with http.get(base + urlsplit(url).path) as page:
            assert page.status == 200 and "Sie antworten als Erika Muster" in await page.text()
