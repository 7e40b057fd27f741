"""Recomputed `next_step_on` values reach the database in one statement, not one per advisor:
after a policy change the daily run recomputes all of them (10,000 took 20-45 s before)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event, insert, select

from storage.advisors import set_next_steps
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_to_head
from storage.models import Advisor

NOW = datetime(2024, 6, 3, 4, 0, tzinfo=UTC)


async def test_next_steps_of_many_advisors_are_one_executemany(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade_to_head(engine)
        sessions = session_factory(engine)
        async with sessions.begin() as session:
            await session.execute(
                insert(Advisor),
                [
                    {
                        "name": f"Berater {i}",
                        "email": f"b{i}@example.org",
                        "institution": "Institut",
                        "language": "de",
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                    for i in range(50)
                ],
            )
        updates: list[bool] = []

        def count(_conn, _cursor, statement: str, _params, _context, executemany: bool) -> None:
            if statement.lstrip().upper().startswith("UPDATE"):
                updates.append(executemany)

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        async with sessions.begin() as session:
            ids = list(await session.scalars(select(Advisor.id).order_by(Advisor.id)))
            wanted = {i: date(2024, 7, 1) + timedelta(days=n) for n, i in enumerate(ids)}
            wanted[ids[0]] = None
            await set_next_steps(session, wanted)
        event.remove(engine.sync_engine, "before_cursor_execute", count)

        assert updates == [True], "one executemany for all advisors"
        async with sessions() as session:
            stored = dict((await session.execute(select(Advisor.id, Advisor.next_step_on))).all())
        assert stored == wanted
    finally:
        await engine.dispose()
