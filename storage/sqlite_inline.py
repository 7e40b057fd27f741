"""aiosqlite's connection API, executed on the event-loop thread instead of a helper thread.

SQLAlchemy's async engine needs an async DBAPI; for SQLite that is aiosqlite, which sends
every statement to a worker thread and back. A command's transaction takes five such
round trips, each waiting for the busy event loop (and the GIL) to come around again.
SQLite statements on a local file take microseconds, so running them inline costs the
loop less than the hand-offs did: in bench/throughput.py the command rate rose from about
130/s to 180/s with this alone (the larger gain came from bot/adapters/telegram_http.py).
PostgreSQL (asyncpg) is truly asynchronous and is unaffected. Written against aiosqlite
0.22 (pinned in pyproject.toml: this replaces the connection's private job queue, so a
new aiosqlite release must be checked first).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite


class _InlineQueue:
    """Stands in for aiosqlite's queue to its worker thread: runs each job at once.

    aiosqlite (and SQLAlchemy's adapter, for isolation levels) hand `(future, function)`
    pairs to this queue and await the future; a future that is already done is awaited
    without suspending, so a whole transaction runs without yielding to the loop.
    """

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:  # handed to the awaiting caller, as the thread would
            if future is not None:
                future.set_exception(error)
            return
        if future is not None:
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite.Connection whose worker thread is never started."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self._tx = _InlineQueue()  # type: ignore[assignment]

    def __await__(self):  # type: ignore[no-untyped-def]
        return self._connect().__await__()  # no thread to start


async def connect_inline(database: str) -> InlineConnection:
    """The `async_creator` for SQLAlchemy: a connection like aiosqlite.connect() makes."""
    connection = InlineConnection(
        lambda: sqlite3.connect(database, isolation_level=None, check_same_thread=False), 64
    )
    return await connection
