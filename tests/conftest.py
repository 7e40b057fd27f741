"""Shared fixtures: databases on SQLite and a real PostgreSQL, a fixed clock, the core."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from tests.postgres import PostgresCluster, find_pg_bin

_db_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries are missing in CI; .ci/run must install them")
        pytest.skip(
            "PostgreSQL is not installed here (apt-get install postgresql); CI runs these tests"
        )
    cluster = PostgresCluster.start(bin_dir)
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return cluster.create_database(f"t{next(_db_counter)}")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2021, 6, 10, 8, 0, tzinfo=UTC))


@pytest.fixture
async def core(database_url: str, clock: FixedClock) -> AsyncIterator[object]:
    from bot.app import Core
    from bot.settings import load_settings

    core = await Core.create(load_settings(database_url=database_url, _env_file=None), clock)
    yield core
    await core.close()
