"""Erasure looks for a person's name in others' messages batch by batch, never the whole
outbox at once (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event, select

from bot.app import Core
from bot.core.enums import OutboxStatus
from bot.core.messages import OutgoingMessage
from storage import outbox
from storage.models import OutboxMessage


async def test_erasure_scans_others_messages_in_bounded_batches(core: Core) -> None:
    now = core.services.clock.now()
    async with core.services.sessions.begin() as session:
        for n in range(7):
            await outbox.enqueue(
                session,
                dedupe_key=f"note:{n}",
                purpose="note",
                platform="test",
                chat_id="-100",
                message=OutgoingMessage(f"Bernd Beispiel presents TOP {n}"),
                now=now,
            )
        await outbox.enqueue(
            session,
            dedupe_key="other",
            purpose="note",
            platform="test",
            chat_id="-100",
            message=OutgoingMessage("Clara presents"),
            now=now,
        )
        first = await session.scalar(select(OutboxMessage).order_by(OutboxMessage.id))
        assert first is not None
        first.status = OutboxStatus.SENT.value

    scans: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if re.search(r"FROM outbox\b", statement) and statement.startswith("SELECT"):
            scans.append(statement)

    sync_engine = core.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", seen)
    try:
        async with core.services.sessions.begin() as session:
            changed = await outbox.scrub_person(
                session,
                user_id=999,
                names=["Bernd Beispiel"],
                label="ehemaliges Mitglied",
                now=now,
                batch=3,
            )
    finally:
        event.remove(sync_engine, "before_cursor_execute", seen)
    assert changed == 7
    assert len(scans) == 3 and all("LIMIT" in s for s in scans), scans
    async with core.services.sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert rows[0].payload == {"text": ""} and rows[0].payload_purged_at is not None
    texts = [r.payload["text"] for r in rows[1:]]
    assert all("Bernd" not in t for t in texts)
    assert texts[0] == "ehemaliges Mitglied presents TOP 1" and texts[-1] == "Clara presents"
