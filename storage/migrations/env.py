"""Alembic environment: migrations always run on a connection handed in by storage.migrate.

For the `alembic` command line (autogenerate while developing), set DATABASE_URL and run
`alembic -c storage/alembic.ini revision --autogenerate -m "..."`.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from storage.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_from_settings() -> None:
    from bot.core.settings import load_settings
    from storage.db import create_engine

    async def go() -> None:
        engine = create_engine(load_settings().database_url)
        async with engine.begin() as connection:
            await connection.run_sync(_run)
        await engine.dispose()

    asyncio.run(go())


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    _run_from_settings()
