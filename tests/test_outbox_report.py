"""Messages a crash left uncertain: admins are told once, with numbers, and may resend one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from bot.app import Core
from bot.core.clock import FixedClock
from bot.core.messages import OutgoingMessage
from handlers.outbox_report import report_uncertain
from storage import outbox, repositories
from storage.models import OutboxMessage
from storage.outbox import decode_message
from tests.harness import GROUP, Conversation, dm, person
from tests.test_advisor_escalation import advisor_settings

ADMIN = person("alma")  # member of the admin working group (GROUP)
LISTED_ADMIN = person("olaf", "en")  # listed in ADMIN_USERS
BERTA = person("berta")
MEMBER = person("max")


@pytest.fixture
async def chat(database_url: str, clock: FixedClock) -> AsyncIterator[Conversation]:
    clock.set(datetime(2021, 6, 10, 8, 0, tzinfo=UTC))
    core = await Core.create(
        advisor_settings(database_url, admin_users=f"test:{LISTED_ADMIN.user_id}"), clock
    )
    conversation = Conversation(core)
    conversation.platform.admins.add((GROUP.chat_id, ADMIN.user_id))
    await conversation.say(ADMIN, '/registrieren ag "Admins"', GROUP)
    for who in (LISTED_ADMIN, BERTA, MEMBER):
        await conversation.say(who, "/start", dm(who))
    await conversation.say(LISTED_ADMIN, "/language en", dm(LISTED_ADMIN))
    yield conversation
    await core.close()


async def uncertain_message_to(chat: Conversation, who, text: str) -> int:  # type: ignore[no-untyped-def]
    services = chat.core.services
    async with services.sessions.begin() as session:
        identity = await repositories.find_identity_by_username(session, "test", who.user_id)
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
    async with chat.core.services.sessions() as session:
        return list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.purpose == "outbox_uncertain")
                .order_by(OutboxMessage.id)
            )
        )


async def test_admins_are_told_once_which_messages_may_be_missing(chat: Conversation) -> None:
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


async def test_an_admin_sends_one_again_and_nobody_else_may(chat: Conversation) -> None:
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
