"""Messages a crash left uncertain: admins are told once, with numbers, and may resend one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, update

from bot.core.clock import FixedClock
from bot.core.messages import OutgoingMessage, UserRef
from handlers.delivery.uncertain import report_uncertain
from storage import outbox
from storage import people as people_store
from storage.models import OutboxMessage
from storage.outbox import decode_message
from tests.advisor_registry import ADMIN, ADVISOR, CHAIR, LISTED_ADMIN, registry_chat
from tests.harness import GROUP, Conversation, dm, outbox_rows

BERTA = ADVISOR
MEMBER = CHAIR  # a chair of another working group: not an admin


@pytest.fixture
async def people(database_url: str, clock: FixedClock) -> AsyncIterator[Conversation]:
    """The advisor-registry chat, with private chats open and the listed admin in English."""
    async with registry_chat(database_url, clock) as chat:
        for who in (LISTED_ADMIN, BERTA, MEMBER):
            await chat.say(who, "/start", dm(who))
        await chat.say(LISTED_ADMIN, "/language en", dm(LISTED_ADMIN))
        yield chat


async def uncertain_message_to(chat: Conversation, who: UserRef, text: str) -> int:
    services = chat.core.services
    async with services.sessions.begin() as session:
        identity = await people_store.find_identity_by_username(session, "test", who.user_id)
        await outbox.enqueue_to_person(
            session,
            user_id=identity.user_id,
            dedupe_key=f"letter:{who.user_id}",
            purpose="advisor_escalation",
            message=OutgoingMessage(text),
            now=services.clock.now(),
        )
        row = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == f"letter:{who.user_id}")
        )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id)
            .values(status="uncertain", attempted_at=services.clock.now())
        )
        return row.id


async def reports(chat: Conversation) -> list[OutboxMessage]:
    """The admins' reports of messages whose delivery is uncertain."""
    return await outbox_rows(chat.core, "outbox_uncertain")


async def test_admins_are_told_once_which_messages_may_be_missing(people: Conversation) -> None:
    chat = people
    number = await uncertain_message_to(chat, BERTA, "Guten Tag Berta,\nIhre Autorisierung …")
    services = chat.core.services
    assert await report_uncertain(services, services.clock.now()) == 1
    sent = await reports(chat)
    assert {(r.chat_id, r.user_id is not None) for r in sent} == {
        (GROUP.chat_id, False),  # the admin group, in German
        (LISTED_ADMIN.user_id, True),  # the listed admin, in English
    }
    german = decode_message(next(r for r in sent if r.chat_id == GROUP.chat_id).payload).text
    assert german.startswith("Beim Senden von 1 Nachricht wurde ich angehalten")
    assert f"• #{number} 10.06.2021 10:00 → Berta: „Guten Tag Berta, Ihre Autorisierung …“" in (
        german
    )
    assert f"/nachsenden {number}" in german
    english = decode_message(next(r for r in sent if r.user_id is not None).payload).text
    assert f"/resend {number}" in english
    assert await report_uncertain(services, services.clock.now()) == 0  # told once
    assert len(await reports(chat)) == 2


async def test_an_admin_sends_one_again_and_nobody_else_may(people: Conversation) -> None:
    chat = people
    number = await uncertain_message_to(chat, BERTA, "Erinnerung")
    refused = await chat.text(MEMBER, f"/nachsenden {number}", dm(MEMBER))
    assert refused == "Das dürfen nur Admins."
    assert "Nachricht #" not in await chat.text(MEMBER, "/hilfe", dm(MEMBER))
    text = await chat.text(ADMIN, f"/nachsenden #{number}", dm(ADMIN))
    assert text == f"Nachricht #{number} wird erneut gesendet."
    async with chat.core.services.sessions() as session:
        row = await session.get(OutboxMessage, number)
        assert (row.status, row.attempted_at) == ("pending", None)
    again = await chat.text(ADMIN, f"/nachsenden {number}", dm(ADMIN))
    assert again.startswith(f"Es gibt keine Nachricht #{number}, deren Zustellung unsicher ist")
    assert "keine Nachricht #abc" in await chat.text(ADMIN, "/nachsenden abc", dm(ADMIN))
