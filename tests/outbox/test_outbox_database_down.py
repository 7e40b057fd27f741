"""The delivery worker while the database is down: a short log, not a traceback per poll."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.clock import FixedClock
from bot.core.messages import OutgoingMessage
from bot.outbox.ports import DeliveryLimits
from bot.outbox.worker import DeliveryWorker, WorkerPolicy
from storage import outbox
from storage.db import SessionFactory, create_engine, session_factory
from storage.migrate import upgrade_to_head
from storage.models import OutboxMessage
from tests.outbox.test_outbox import BatchingSender, ScriptedSender


class FlakySessions:
    """The real session factory, or "connection refused" while `down` is set."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions
        self.down = False
        self.attempts = 0
        self.asked = asyncio.Event()

    def _check(self) -> None:
        self.attempts += 1
        self.asked.set()
        if self.down:
            raise ConnectionRefusedError(111, "Connect call failed ('10.0.0.5', 5432)")

    def begin(self) -> Any:
        self._check()
        return self.sessions.begin()

    def __call__(self) -> Any:
        self._check()
        return self.sessions()


@pytest.fixture
async def flaky(sqlite_url: str) -> AsyncIterator[FlakySessions]:
    engine = create_engine(sqlite_url)
    await upgrade_to_head(engine)
    yield FlakySessions(session_factory(engine))
    await engine.dispose()


def worker_on(
    sessions: FlakySessions, sender: ScriptedSender, clock: FixedClock, **policy: Any
) -> DeliveryWorker:
    """A worker for the platform "test" that polls often, on sessions that may fail."""
    return DeliveryWorker(
        sessions,  # type: ignore[arg-type]  # a SessionFactory in all that the worker uses
        {"test": sender},
        clock,
        WorkerPolicy(poll_seconds=0.01, **policy),
    )


async def polls(flaky: FlakySessions, count: int) -> None:
    """Wait until the worker has asked the database `count` more times."""
    target = flaky.attempts + count
    async with asyncio.timeout(10):
        while flaky.attempts < target:
            flaky.asked.clear()
            await flaky.asked.wait()


async def test_a_database_outage_is_logged_once_then_summarised_then_its_end(
    flaky: FlakySessions, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    worker = worker_on(flaky, ScriptedSender(), clock)
    stop = asyncio.Event()
    caplog.set_level(logging.INFO, logger="bot.outbox.worker")
    running = asyncio.create_task(worker.run(stop))
    try:
        await polls(flaky, 2)
        flaky.down = True
        await polls(flaky, 20)  # twenty polls within the first minutes: one traceback
        clock.advance(timedelta(minutes=2))
        await polls(flaky, 5)
        clock.advance(timedelta(minutes=4))  # six minutes down: one summary line
        await polls(flaky, 5)
        flaky.down = False
        await polls(flaky, 2)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=10)
    worker_records = [r for r in caplog.records if r.name == "bot.outbox.worker"]
    errors = [r for r in worker_records if r.levelno >= logging.ERROR]
    assert len(errors) == 2
    assert errors[0].exc_info is not None and "database" in errors[0].getMessage()
    summary = errors[1].getMessage()
    assert errors[1].exc_info is None and "still unreachable" in summary
    assert "ConnectionRefusedError" in summary and "\n" not in summary
    assert any("database reachable again" in r.getMessage() for r in worker_records)


async def test_a_delivery_recorded_while_the_database_is_down_is_recorded_when_it_is_back(
    flaky: FlakySessions, clock: FixedClock
) -> None:
    """The database goes away while a message is on its way: the worker waits to record
    it as sent instead of leaving it to turn `uncertain` (or be sent again)."""

    class DatabaseGoesAway(ScriptedSender):
        async def deliver(self, chat_id: str, message: OutgoingMessage, *, key=None):
            flaky.down = True
            asyncio.get_running_loop().call_later(0.5, setattr, flaky, "down", False)
            return await super().deliver(chat_id, message, key=key)

    sender = DatabaseGoesAway()
    async with flaky.sessions.begin() as session:
        await outbox.enqueue(
            session,
            dedupe_key="m",
            purpose="test",
            platform="test",
            chat_id="7",
            message=OutgoingMessage("m"),
            now=clock.now(),
        )
    worker = worker_on(flaky, sender, clock)
    await asyncio.wait_for(worker.run_once(), timeout=10)
    async with flaky.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None and row.status == "sent"
    assert [text for _, text, _ in sender.sent] == ["m"]


class LostCommitAck(FlakySessions):
    """The second transaction (the first claims, the second marks the attempt) commits, then
    the connection drops: the worker gets an error although the commit landed."""

    def __init__(self, sessions: SessionFactory) -> None:
        super().__init__(sessions)
        self.transactions = 0
        self.dropped = False

    def begin(self) -> Any:
        inner = self.sessions.begin()
        self.transactions += 1
        drop = self.transactions == 2
        outer = self

        class Dropping:
            async def __aenter__(self) -> Any:
                return await inner.__aenter__()

            async def __aexit__(self, *exc_info: Any) -> Any:
                result = await inner.__aexit__(*exc_info)
                if drop and exc_info[0] is None:
                    outer.dropped = True
                    raise ConnectionResetError(104, "Connection reset by peer")
                return result

        return Dropping()


async def test_an_attempt_whose_commit_was_not_acknowledged_is_sent_once_later(
    sqlite_url: str, clock: FixedClock
) -> None:
    """Nothing was sent, but the attempt may be recorded: the row is handed back when the
    database answers, and goes out once – it does not turn `uncertain`."""
    engine = create_engine(sqlite_url)
    await upgrade_to_head(engine)
    flaky = LostCommitAck(session_factory(engine))
    sender = ScriptedSender()
    async with flaky.sessions.begin() as session:
        await outbox.enqueue(
            session,
            dedupe_key="m",
            purpose="test",
            platform="test",
            chat_id="7",
            message=OutgoingMessage("m"),
            now=clock.now(),
        )
    worker = worker_on(flaky, sender, clock, lease=timedelta(seconds=30))
    await worker.run_once()
    assert flaky.dropped and sender.sent == []
    clock.advance(timedelta(minutes=5))  # long after the lease
    await worker.run_once()
    async with flaky.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
    await engine.dispose()
    assert row is not None and row.status == "sent"
    assert [text for _, text, _ in sender.sent] == ["m"]


async def test_a_chunks_sent_rows_are_kept_when_the_next_chunks_commit_fails(
    flaky: FlakySessions, clock: FixedClock
) -> None:
    """A chunk's sent rows are recorded in the commit that starts the next chunk. The
    database goes away just as the first chunk is answered, so that commit fails: the
    sent rows are recorded once it is back (not left to turn `uncertain`), and the next
    chunk, never started, goes out later – every row exactly once."""

    class GoneAfterTheFirstChunk(BatchingSender):
        chunks = 0

        async def deliver_many(
            self, items: list[tuple[str, OutgoingMessage, str]]
        ) -> list[str | Exception]:
            results = await super().deliver_many(items)
            self.chunks += 1
            if self.chunks == 1:
                flaky.down = True
                asyncio.get_running_loop().call_later(0.3, setattr, flaky, "down", False)
            return results

    sender = GoneAfterTheFirstChunk(DeliveryLimits(400, 1000, 60000))  # chunks of 20
    sender.go.set()
    async with flaky.sessions.begin() as session:
        for index in range(60):
            await outbox.enqueue(
                session,
                dedupe_key=f"m{index:02}",
                purpose="test",
                platform="test",
                chat_id=str(1000 + index),
                message=OutgoingMessage(f"m{index:02}"),
                now=clock.now(),
            )
    worker = worker_on(flaky, sender, clock)
    await asyncio.wait_for(worker.run_once(), timeout=10)
    first = [text for _, text, _ in sender.sent]
    async with flaky.sessions() as session:
        rows = {r.dedupe_key: r.status for r in await session.scalars(select(OutboxMessage))}
    assert first[:20] == [f"m{index:02}" for index in range(20)]
    assert {rows[text] for text in first} == {"sent"}  # the first chunk's, recorded late
    assert "uncertain" not in rows.values()
    await asyncio.wait_for(worker.run_once(), timeout=10)
    texts = [text for _, text, _ in sender.sent]
    assert sorted(texts) == [f"m{index:02}" for index in range(60)]  # each exactly once
    async with flaky.sessions() as session:
        assert {r.status for r in await session.scalars(select(OutboxMessage))} == {"sent"}
