"""Telling an unreachable database (wait and retry) from a bug (report it)."""

from __future__ import annotations

import asyncpg
from sqlalchemy.exc import DBAPIError, IntegrityError

from storage.db import is_unavailable


def test_a_restarting_postgresql_is_unavailable_not_a_bug() -> None:
    for driver_error in (
        asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.AdminShutdownError("terminating connection"),
        ConnectionRefusedError(111, "Connect call failed"),
    ):
        assert is_unavailable(DBAPIError("UPDATE outbox …", {}, driver_error)), driver_error


def test_a_broken_statement_is_a_bug() -> None:
    duplicate = asyncpg.exceptions.UniqueViolationError("duplicate key value")
    assert not is_unavailable(IntegrityError("INSERT …", {}, duplicate))
    assert not is_unavailable(KeyError("payload"))
