"""`/email` in the private chat: an address is confirmed by a code mailed to it (nothing
else goes there before), removed with `/email aus`, and erased with the person; per kind of
message a person chooses chat, e-mail or both."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.app import Core
from bot.core.enums import OutboxStatus
from storage.models import ChannelPreference, EmailAddress, EmailCode, OutboxMessage
from tests.harness import Conversation, dm, outbox_rows, person
from tests.smtp_server import SmtpServer, confirm_address, deliver_mail

anna, bernd = person("anna"), person("bernd")
ADDRESS = "Bernd.Beispiel@Example.org"


async def mail_rows(core: Core) -> list[OutboxMessage]:
    return [r for r in await outbox_rows(core) if r.platform == "email"]


async def test_the_code_is_the_only_mail_before_the_address_is_confirmed(
    chat: Conversation, smtp_server: SmtpServer
) -> None:
    await chat.say(bernd, "/beitreten")
    await chat.say(bernd, "/email einladungen email", dm(bernd))
    asked = await chat.text(bernd, f"/email {ADDRESS}", dm(bernd))
    assert "Code" in asked and "bernd.beispiel@example.org".lower() in asked.lower()
    await chat.say(anna, '/sitzung 17.06.2021 10-12 Uhr "Juni-Sitzung" | Videokonferenz')

    received = await deliver_mail(chat.core, smtp_server)
    assert len(received) == 1  # the code, not the invitation
    mail = received[0].message()
    assert received[0].rcpt_tos == [ADDRESS.split("@")[0] + "@example.org"]
    code = re.search(r"\b(\d{6})\b", mail["Subject"]).group(1)
    body = mail.get_body(("plain",)).get_content()
    assert f"/email {code}" in body
    assert "ignorieren" in body  # what to do if it was not you
    async with chat.core.services.sessions() as session:
        stored = await session.scalar(select(EmailCode))
        assert code not in stored.code_hash  # only a hash is kept
        assert (await session.scalar(select(EmailAddress))).confirmed_at is None
    # Bernd's invitation went to the chat instead.
    assert {r.platform for r in await outbox_rows(chat.core, "meeting_invitation")} == {"test"}


async def test_a_wrong_code_does_not_confirm_and_five_end_the_attempt(
    chat: Conversation, smtp_server: SmtpServer
) -> None:
    await chat.say(bernd, f"/email {ADDRESS}", dm(bernd))
    [mail] = await deliver_mail(chat.core, smtp_server)
    code = re.search(r"\b(\d{6})\b", mail.message()["Subject"]).group(1)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert "nicht richtig" in await chat.text(bernd, f"/email {wrong}", dm(bernd))
    for _ in range(4):
        last = await chat.text(bernd, f"/email {wrong}", dm(bernd))
    assert "Zu viele" in last
    assert "Keine Adresse" in await chat.text(bernd, f"/email {code}", dm(bernd))
    async with chat.core.services.sessions() as session:
        assert (await session.scalar(select(EmailAddress))).confirmed_at is None


async def test_confirmed_status_choice_and_removal(
    chat: Conversation, smtp_server: SmtpServer
) -> None:
    await confirm_address(chat, smtp_server, bernd, ADDRESS)
    status = await chat.text(bernd, "/email", dm(bernd))
    assert "Bernd.Beispiel@example.org" in status
    assert "• einladungen: Chat" in status  # linked: chat by default
    assert "Gespeichert" in await chat.text(bernd, "/email einladungen beides", dm(bernd))
    assert "• einladungen: Chat + E-Mail" in await chat.text(bernd, "/email", dm(bernd))
    async with chat.core.services.sessions() as session:
        choice = await session.scalar(select(ChannelPreference))
        assert (choice.kind, choice.channel) == ("invitations", "both")

    assert "gelöscht" in await chat.text(bernd, "/email aus", dm(bernd))
    async with chat.core.services.sessions() as session:
        assert await session.scalar(select(EmailAddress)) is None
    assert "• einladungen: Chat" in await chat.text(bernd, "/email", dm(bernd))


async def test_an_invalid_address_is_refused_in_the_persons_language(chat: Conversation) -> None:
    english = person("clara", "en")
    await chat.say(english, "/language en", dm(english))
    answer = await chat.text(english, "/email clara@@example", dm(english))
    assert "is not a valid e-mail address" in answer
    assert "keine gültige" in await chat.text(bernd, "/email bernd@example", dm(bernd))
    assert await mail_rows(chat.core) == []


async def test_an_address_the_bot_cannot_write_to_is_refused_an_umlaut_domain_is_not(
    chat: Conversation, smtp_server: SmtpServer
) -> None:
    """Umlauts before the @ need SMTPUTF8, which the bot does not use: refused when typed,
    instead of a code mail that can never arrive. A domain with umlauts goes out in its
    IDNA form, so the code arrives there."""
    answer = await chat.text(bernd, "/email jörg@example.org", dm(bernd))
    assert "Umlauten oder anderen Sonderzeichen vor dem @" in answer
    assert await mail_rows(chat.core) == []
    await chat.say(bernd, "/email bernd@bücher.de", dm(bernd))
    [code_mail] = await deliver_mail(chat.core, smtp_server)
    assert code_mail.rcpt_tos == ["bernd@xn--bcher-kva.de"]


async def test_someone_elses_address_cannot_be_taken(
    chat: Conversation, smtp_server: SmtpServer
) -> None:
    await confirm_address(chat, smtp_server, bernd, ADDRESS)
    answer = await chat.text(anna, f"/email {ADDRESS.lower()}", dm(anna))
    assert "gehört jemand anderem" in answer


async def test_the_address_goes_with_the_person_at_erasure(
    chat: Conversation, smtp_server: SmtpServer
) -> None:
    await confirm_address(chat, smtp_server, bernd, ADDRESS)
    await chat.say(bernd, "/email einladungen email", dm(bernd))
    await chat.say(bernd, "/datenloeschen ja", dm(bernd))
    async with chat.core.services.sessions() as session:
        assert await session.scalar(select(EmailAddress)) is None
        assert await session.scalar(select(ChannelPreference)) is None
        left = await session.scalars(select(OutboxMessage).where(OutboxMessage.platform == "email"))
        assert [r for r in left if r.status != OutboxStatus.SENT.value] == []


async def test_my_data_lists_the_address_and_the_choices(
    chat: Conversation, smtp_server: SmtpServer
) -> None:
    import json

    await confirm_address(chat, smtp_server, bernd, ADDRESS)
    await chat.say(bernd, "/email protokolle beides", dm(bernd))
    [reply] = await chat.say(bernd, "/meinedaten", dm(bernd))
    data = json.loads(reply.document.content)
    assert data["email"]["address"] == "Bernd.Beispiel@example.org"
    assert data["email"]["confirmed_at"] and not data["email"]["code_pending"]
    assert data["email"]["channels"] == {"minutes": "both"}
