"""`/datenloeschen` is honest: what the groups rely on stays, without the name; what the
person owns goes; what only an admin may erase is named, and the admins are told."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.app import Core
from bot.core.clock import FixedClock
from bot.core.enums import OutboxStatus
from storage.email_addresses import mark_unreachable
from storage.models import Advisor, Identity, OutboxMessage
from tests.harness import Conversation, dm, outbox_rows, person, registered_ag_transfer

anna, bernd, clara = person("anna"), person("bernd"), person("clara")
ADMIN_CHAT = "-999"


@pytest.fixture
async def core(database_url: str, clock: FixedClock) -> AsyncIterator[Core]:
    """The usual bot, with an admin chat to tell about what only admins may erase."""
    from bot.core.settings import load_settings

    settings = load_settings(
        database_url=database_url, admin_chats=f"test:{ADMIN_CHAT}", _env_file=None
    )
    core = await Core.create(settings, clock)
    yield core
    await core.close()


@pytest.fixture
async def chat(core: Core) -> Conversation:
    """Today's meeting #1 (invitations sent): Bernd presents TOP 1, attended, holds task A-1,
    answered poll #1 and objected to the draft minutes; he is also advisor #1 in the
    registry. Clara attended and voted too. Everything queued so far was delivered, except
    what is still waiting for Clara."""
    chat = await registered_ag_transfer(core)
    for who in (bernd, clara):
        await chat.say(who, "/beitreten")
    for who in (anna, bernd, clara):
        await chat.say(who, "/start", dm(who))
    await chat.say(anna, '/sitzung 10.06.2021 10:30-12 Uhr "AG-Sitzung" | https://meet.ex/ag')
    await chat.say(anna, "/tophinzu 1 Bericht der Fachgruppe | @bernd")
    await chat.say(anna, "/anwesend @bernd @clara")
    await chat.say(anna, "/aufgabe @bernd: Bögen senden bis 30.06.")
    await chat.say(anna, '/terminabfrage "Juli" 01.07. 9-12 Uhr; 08.07. 14-16 Uhr')
    await chat.say(bernd, "/abstimmen 1 ja 2 nein")
    await chat.say(clara, "/abstimmen 1 ja")
    core.services.clock.advance(timedelta(minutes=30))  # drafts wait for the start
    await chat.say(anna, "/protokollentwurf 1")
    await chat.say(bernd, "/einspruch 1 Mein Bericht fehlt.")
    async with core.services.sessions.begin() as session:
        bernds = await session.scalar(
            select(Identity.user_id).where(Identity.platform_user_id == bernd.user_id)
        )
        session.add(
            Advisor(
                name="Bernd Berater",
                email="bernd@example.org",
                institution="IHK Köln",
                language="de",
                user_id=bernds,
                created_at=core.services.clock.now(),
                updated_at=core.services.clock.now(),
            )
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.chat_id != clara.user_id)
            .values(status=OutboxStatus.SENT.value, sent_at=core.services.clock.now())
        )
    return chat


def everything_in(row: OutboxMessage) -> str:
    """Text, buttons and attached file of a queued message, iCalendar folding undone."""
    payload = row.payload
    parts = [str(payload.get("text", "")), str(payload.get("buttons", ""))]
    if doc := payload.get("document"):
        parts.append(base64.b64decode(doc["content_b64"]).decode().replace("\r\n ", ""))
    return "\n".join(parts)


async def test_erasure_keeps_the_record_without_the_name(chat: Conversation, core) -> None:
    minutes_before = await chat.text(anna, "/protokoll 1")
    poll_before = await chat.text(anna, "/abfragen")
    assert "Bernd" in minutes_before and "Teilnehmende (2)" in minutes_before
    assert any("Bernd" in everything_in(row) for row in await outbox_rows(core))

    reply = await chat.text(bernd, "/datenloeschen ja", dm(bernd))

    assert "alle Daten über Sie gelöscht" not in reply  # no longer claims what is untrue
    assert "Ich habe gelöscht: Ihre Konten" in reply
    assert "als „ehemaliges Mitglied“" in reply
    assert "Berater*innen-Register" in reply and "ein Admin muss ihn löschen" in reply
    minutes = await chat.text(anna, "/protokoll 1")
    assert "Bernd" not in minutes
    assert "Teilnehmende (2)" in minutes and "ehemaliges Mitglied" in minutes
    assert "Bericht der Fachgruppe" in minutes
    tasks = await chat.text(anna, "/aufgaben")
    assert "A-1 ehemaliges Mitglied: Bögen senden" in tasks
    agenda = await chat.text(anna, "/tagesordnung 1")
    assert "ehemaliges Mitglied" in agenda and "Bernd" not in agenda
    attendance = await chat.text(anna, "/anwesenheit 1")
    assert "• ehemaliges Mitglied" in attendance and "Bernd" not in attendance
    # the poll still counts his answers, without his name
    assert await chat.text(anna, "/abfragen") == poll_before.replace("Bernd", "?")
    # no message in the outbox names him any more; Clara's invitation still goes out
    rows = await outbox_rows(core)
    assert [row.id for row in rows if "Bernd" in everything_in(row)] == []
    waiting = [row for row in rows if row.chat_id == clara.user_id]
    assert waiting and all(row.status == OutboxStatus.PENDING.value for row in waiting)
    assert any("ehemaliges Mitglied" in everything_in(row) for row in waiting)
    # the admins are told to erase the registry entry, by number only
    [notice] = await outbox_rows(core, "erasure_advisor")
    assert notice.chat_id == ADMIN_CHAT
    assert "Eintrag #1 im Berater*innen-Register" in notice.payload["text"]


async def test_a_member_who_never_took_part_leaves_no_trace(chat: Conversation, core) -> None:
    dora = person("dora")
    await chat.say(dora, "/beitreten")
    await chat.say(dora, "/start", dm(dora))
    reply = await chat.text(dora, "/datenloeschen ja", dm(dora))
    assert "Ich habe gelöscht: Ihre Konten" in reply
    assert "ehemaliges Mitglied" not in reply and "Berater" not in reply
    assert "Dora" not in await chat.text(anna, "/mitglieder")


async def test_privacy_notice_says_what_erasure_keeps_and_the_retention(
    chat: Conversation,
) -> None:
    german = await chat.text(anna, "/datenschutz")
    assert "als „ehemaliges Mitglied“" in german and "Berater*innen-Register bleibt" in german
    assert "Text und Dateien 30 Tage" in german
    await chat.say(anna, "/language en")
    english = await chat.text(anna, "/privacy")
    assert "as “former member”" in english and "advisor registry stays" in english
    assert "text and files for 30 days" in english


async def test_erasure_drops_the_reason_a_registry_address_was_unreachable(
    chat: Conversation, core
) -> None:
    """A mail server's diagnostic may quote the person; the kept registry entry keeps only
    that its address is unreachable (so no letter goes there), not the server's words."""
    now = core.services.clock.now()
    reason = "5.1.1 smtp; 550 5.1.1 <bernd@example.org> Bernd Berater: User unknown"
    async with core.services.sessions.begin() as session:
        await mark_unreachable(session, "bernd@example.org", reason, now)
    [exported] = json.loads((await chat.say(bernd, "/meinedaten", dm(bernd)))[0].document.content)[
        "advisor_registry"
    ]
    assert exported["email_unreachable_reason"] == reason
    assert exported["email_unreachable_at"] == now.isoformat()

    await chat.say(bernd, "/datenloeschen ja", dm(bernd))
    async with core.services.sessions() as session:
        entry = await session.scalar(select(Advisor))
    assert entry is not None and entry.user_id is None
    assert entry.email_unreachable_reason is None
    assert entry.email_unreachable_at == now
