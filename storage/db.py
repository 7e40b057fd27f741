"""Engine and session set-up for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.sqlite_inline import connect_inline

# The names the layers above use for a database session and its factory, so that only
# storage imports SQLAlchemy (see README, Architecture).
Session = AsyncSession
SessionFactory = async_sessionmaker[AsyncSession]
Engine = AsyncEngine

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
}


class DatabaseUrlError(ValueError):
    pass


def normalize_url(url: str) -> str:
    """Accept the URLs admins know (`sqlite:///x.db`, `postgresql://…`) and pick async drivers."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a terse text
        raise DatabaseUrlError(f"DATABASE_URL is not a database URL: {url!r}") from exc
    driver = _ASYNC_DRIVERS.get(parsed.drivername, parsed.drivername)
    if driver not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
        raise DatabaseUrlError(
            f"DATABASE_URL must use sqlite or postgresql, not {parsed.drivername!r}"
        )
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # connect_inline opens with isolation_level=None: we emit BEGIN ourselves (see
    # _sqlite_begin), so the driver must not.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    """Take SQLite's write lock at the start of every transaction.

    With deferred transactions in WAL mode, a transaction that read and then writes after
    another connection committed fails at once with "database is locked" (a stale
    snapshot; the busy timeout does not apply). BEGIN IMMEDIATE makes transactions wait
    their turn instead, which is the behaviour a small embedded deployment wants.
    """
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # One connection: SQLite runs one writer at a time anyway, and queueing for the
        # connection in asyncio is far cheaper than SQLite's sleeping busy handler.
        engine = create_async_engine(
            url,
            echo=echo,
            pool_size=1,
            max_overflow=0,
            async_creator=partial(connect_inline, database or ":memory:"),
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=5)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def dialect_insert(session: AsyncSession) -> Callable[..., Any]:
    """INSERT with the backend's ON CONFLICT support (SQLite and PostgreSQL share the API)."""
    return pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert


# What the layers above catch as "the database cannot be used" (unreachable, refused, a
# failing statement), so they need not import SQLAlchemy; OperationalError is one of them.
DatabaseError = DBAPIError


def redacted_url(url: str) -> str:
    """DATABASE_URL as an admin may see it in a message or log: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "DATABASE_URL"


def _asyncpg_unavailable() -> tuple[type[BaseException], ...]:
    """asyncpg's errors for a server that is gone, shutting down or starting up."""
    try:
        from asyncpg import exceptions
    except ImportError:  # SQLite only
        return ()
    return (
        exceptions.PostgresConnectionError,
        exceptions.CannotConnectNowError,
        exceptions.AdminShutdownError,
        exceptions.CrashShutdownError,
        exceptions.InterfaceError,
    )


_ASYNCPG_UNAVAILABLE = _asyncpg_unavailable()


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database could not be reached (down, restarting, connection
    lost) rather than a bug: then the caller waits and tries again."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError | ConnectionError | TimeoutError):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, OperationalError | InterfaceError):
            return True
        if isinstance(current, _ASYNCPG_UNAVAILABLE):
            return True
        orig = getattr(current, "orig", None)  # SQLAlchemy keeps the driver's error here
        if isinstance(orig, BaseException) and id(orig) not in seen:
            current = orig
            continue
        current = current.__cause__ or current.__context__
    return False
