"""Sent messages keep their text only for OUTBOX_RETENTION_DAYS; the row stays, so a message
is still never queued twice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.core.enums import OutboxStatus
from bot.core.messages import OutgoingMessage
from handlers.delivery.retention import compact_outbox, purge_old_payloads
from storage import outbox
from storage.models import OutboxMessage
from tests.harness import Conversation, dm, outbox_rows, person

anna, bernd = person("anna"), person("bernd")


async def test_retention_empties_old_payloads_and_keeps_the_rows(chat: Conversation, core) -> None:
    await chat.say(bernd, "/beitreten")
    for who in (anna, bernd):
        await chat.say(who, "/start", dm(who))
    await chat.say(anna, '/sitzung 10.06.2021 10:30-12 Uhr "AG-Sitzung" | https://meet.ex/ag')
    clock = core.services.clock
    async with core.services.sessions.begin() as session:  # delivered, but not yet to Bernd
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.chat_id != bernd.user_id)
            .values(status=OutboxStatus.SENT.value, sent_at=clock.now())
        )
    clock.advance(timedelta(days=20))
    await chat.say(anna, '/sitzung 15.07.2021 10-12 Uhr "Juli-Sitzung"')  # new rows, pending
    async with core.services.sessions.begin() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.created_at == clock.now())
            .values(status=OutboxStatus.SENT.value, sent_at=clock.now())
        )
    before = {row.id: row for row in await outbox_rows(core)}
    clock.advance(timedelta(days=11))  # the first rows are 31 days old, the new ones 11

    purged = await purge_old_payloads(core.services, clock.now())

    after = {row.id: row for row in await outbox_rows(core)}
    assert after.keys() == before.keys()  # rows stay: dedupe keys keep exactly-once
    old = [
        i
        for i, row in before.items()
        if row.sent_at and row.sent_at < clock.now() - timedelta(days=30)
    ]
    new = [i for i in before if i not in old]  # sent 11 days ago, or not delivered yet
    assert any(before[i].status == OutboxStatus.PENDING.value for i in new)
    assert old and new and purged == len(old)
    for i in old:
        assert after[i].payload == {"text": ""} and after[i].payload_purged_at == clock.now()
        assert (after[i].status, after[i].dedupe_key) == (before[i].status, before[i].dedupe_key)
    for i in new:
        assert after[i].payload == before[i].payload and after[i].payload_purged_at is None
    assert await purge_old_payloads(core.services, clock.now()) == 0  # twice changes nothing
    async with core.services.sessions.begin() as session:  # the same message is not queued again
        again = await outbox.enqueue(
            session,
            dedupe_key=before[old[0]].dedupe_key,
            purpose="again",
            platform="test",
            chat_id=before[old[0]].chat_id,
            message=OutgoingMessage("again"),
            now=clock.now(),
        )
    assert again is False


async def test_compaction_deletes_old_purged_rows_and_keeps_the_rest(core) -> None:
    """After OUTBOX_COMPACT_DAYS a delivered, purged row goes; younger, unpurged, uncertain
    and undelivered rows stay."""
    clock = core.services.clock
    states = {
        "old": (OutboxStatus.SENT, True),
        "unpurged": (OutboxStatus.SENT, False),
        "uncertain": (OutboxStatus.UNCERTAIN, True),
        "pending": (OutboxStatus.PENDING, False),
    }
    async with core.services.sessions.begin() as session:
        for key, (status, purged) in states.items():
            await outbox.enqueue(
                session,
                dedupe_key=key,
                purpose="test",
                platform="test",
                chat_id="7",
                message=OutgoingMessage(key),
                now=clock.now(),
            )
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.dedupe_key == key)
                .values(
                    status=status.value,
                    sent_at=clock.now(),
                    payload_purged_at=clock.now() if purged else None,
                )
            )
        await outbox.enqueue(
            session,
            dedupe_key="young",
            purpose="test",
            platform="test",
            chat_id="7",
            message=OutgoingMessage("young"),
            now=clock.now(),
        )
        await session.execute(  # delivered 100 days later: too young to go
            update(OutboxMessage)
            .where(OutboxMessage.dedupe_key == "young")
            .values(
                status=OutboxStatus.SENT.value,
                sent_at=clock.now() + timedelta(days=100),
                payload_purged_at=clock.now() + timedelta(days=100),
            )
        )
    clock.advance(timedelta(days=core.settings.outbox_compact_days + 1))
    assert await compact_outbox(core.services, clock.now()) == 1
    assert {row.dedupe_key for row in await outbox_rows(core)} == {
        "unpurged",
        "uncertain",
        "pending",
        "young",
    }
