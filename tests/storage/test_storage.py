"""Storage on both backends: migrations from an empty database, UTC, constraints, claiming."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from bot.core.messages import Button, Document, OutgoingMessage, UserRef
from storage import outbox, people
from storage.db import DatabaseUrlError, create_engine, normalize_url, session_factory
from storage.migrate import current_revision, downgrade, upgrade_to_head
from storage.models import Base, Group, OutboxMessage

NOW = datetime(2021, 3, 28, 0, 30, tzinfo=UTC)  # the night Berlin switches to summer time


@pytest.fixture
async def engine(database_url: str):
    engine = create_engine(database_url)
    await upgrade_to_head(engine)
    yield engine
    await engine.dispose()


def test_normalize_url_picks_async_drivers() -> None:
    assert normalize_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
    assert normalize_url("postgres://u:p@h/db") == "postgresql+asyncpg://u:p@h/db"
    assert normalize_url("postgresql+psycopg://u@h/db") == "postgresql+asyncpg://u@h/db"
    with pytest.raises(DatabaseUrlError):
        normalize_url("mysql://u@h/db")
    with pytest.raises(DatabaseUrlError):
        normalize_url("not a url")


async def test_migrations_create_the_model_schema_on_an_empty_database(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert await current_revision(engine) is None
        await upgrade_to_head(engine)
        assert await current_revision(engine) is not None
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert set(Base.metadata.tables) <= tables
        await upgrade_to_head(engine)  # idempotent at start-up
        await downgrade(engine, "base")
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert not set(Base.metadata.tables) & tables
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


async def test_migrations_match_the_models(database_url: str) -> None:
    """Autogenerate finds nothing to do: the migration scripts and the models agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(database_url)
    try:
        await upgrade_to_head(engine)
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
            )
        assert diff == []
    finally:
        await engine.dispose()


async def test_timestamps_round_trip_as_aware_utc(engine) -> None:
    sessions = session_factory(engine)
    berlin_summer = datetime(2021, 6, 15, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    async with sessions.begin() as session:
        group = Group(
            name="AG", kind="ag", timezone="Europe/Berlin", language="de", created_at=berlin_summer
        )
        session.add(group)
    async with sessions() as session:
        stored = await session.scalar(select(Group))
        assert stored.created_at.tzinfo is not None
        assert stored.created_at.utcoffset() == timedelta(0)
        assert stored.created_at == datetime(2021, 6, 15, 7, 0, tzinfo=UTC)


async def test_naive_datetimes_are_refused(engine) -> None:
    async with session_factory(engine)() as session:
        session.add(
            Group(
                name="AG",
                kind="ag",
                timezone="Europe/Berlin",
                language="de",
                created_at=datetime(2021, 1, 1),
            )
        )
        with pytest.raises(Exception, match="naive"):
            await session.flush()


async def test_identity_is_unique_per_platform_user(engine) -> None:
    sessions = session_factory(engine)
    anna = UserRef("telegram", "42", "Anna", "anna")
    async with sessions.begin() as session:
        first = await people.upsert_identity(session, anna, NOW)
    async with sessions.begin() as session:
        renamed = UserRef("telegram", "42", "Anna Schmidt", "anna_s")
        second = await people.upsert_identity(session, renamed, NOW, private_chat_id="42")
        assert second.id == first.id and second.display_name == "Anna Schmidt"
        assert second.dm_chat_id == "42"
    async with sessions() as session:
        from storage.models import Identity

        session.add(
            Identity(
                user_id=first.user_id,
                platform="telegram",
                platform_user_id="42",
                display_name="dup",
                created_at=NOW,
                last_seen_at=NOW,
            )
        )
        with pytest.raises(IntegrityError):
            await session.flush()


async def test_enqueue_is_idempotent_per_key_and_keeps_payload(engine) -> None:
    sessions = session_factory(engine)
    message = OutgoingMessage(
        "Erinnerung",
        buttons=((Button("Ja", "/x yes"),),),
        document=Document("a.ics", b"BEGIN:VCALENDAR", "text/calendar"),
    )
    for _ in range(3):
        async with sessions.begin() as session:
            await outbox.enqueue(
                session,
                dedupe_key="r1:chat",
                purpose="reminder",
                platform="telegram",
                chat_id="7",
                message=message,
                now=NOW,
            )
    async with sessions.begin() as session:
        claimed = await outbox.claim_due(
            session, owner="w", now=NOW, lease=timedelta(minutes=1), limit=10
        )
    assert len(claimed) == 1
    assert claimed[0].message == message


async def test_claims_skip_rows_that_are_not_due_or_leased(engine) -> None:
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        for index in range(3):
            await outbox.enqueue(
                session,
                dedupe_key=f"k{index}",
                purpose="p",
                platform="telegram",
                chat_id="7",
                message=OutgoingMessage(str(index)),
                now=NOW,
                not_before=NOW + timedelta(hours=index),
            )
    lease = timedelta(minutes=5)
    async with sessions.begin() as session:
        first = await outbox.claim_due(session, owner="a", now=NOW, lease=lease, limit=10)
    async with sessions.begin() as session:
        again = await outbox.claim_due(session, owner="b", now=NOW, lease=lease, limit=10)
    assert [d.message.text for d in first] == ["0"] and again == []
    later = NOW + timedelta(hours=1, minutes=10)  # row 1 due, row 0's lease expired
    async with sessions.begin() as session:
        recovered = await outbox.claim_due(session, owner="b", now=later, lease=lease, limit=10)
    assert sorted(d.message.text for d in recovered) == ["0", "1"]
    async with sessions.begin() as session:
        # the first owner no longer holds it: it may not start sending it
        assert not await outbox.start_attempt(
            session, first[0].id, owner="a", now=later, lease=lease
        )


async def test_concurrent_claimers_never_share_a_row(engine) -> None:
    """Several bot processes on one database: each row goes to exactly one worker."""
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        for index in range(60):
            await outbox.enqueue(
                session,
                dedupe_key=f"c{index}",
                purpose="p",
                platform="telegram",
                chat_id=str(index % 7),
                message=OutgoingMessage("x"),
                now=NOW,
            )

    async def claimer(owner: str) -> list[int]:
        taken: list[int] = []
        for _ in range(20):
            async with sessions.begin() as session:
                batch = await outbox.claim_due(
                    session, owner=owner, now=NOW, lease=timedelta(minutes=5), limit=4
                )
            taken += [d.id for d in batch]
            await asyncio.sleep(0)
        return taken

    results = await asyncio.gather(*(claimer(f"w{i}") for i in range(4)))
    everything = [row for result in results for row in result]
    assert len(everything) == len(set(everything)) == 60
    async with sessions() as session:
        owners = {row.lease_owner for row in await session.scalars(select(OutboxMessage))}
    assert owners <= {"w0", "w1", "w2", "w3"}
