"""The Matrix sync loop against the database going away (#13: a PostgreSQL restart must be
survived without a restart of the bot)."""

from __future__ import annotations

import asyncio

import pytest

from storage import platform_state
from tests.matrix_bot import GroupRoom, MatrixBot, notice


async def test_receiving_goes_on_after_the_database_was_down(
    matrix_bot: MatrixBot,
    matrix_group_room: GroupRoom,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Writing the sync position fails while the database is down: the loop waits and
    syncs on (one traceback, not one per sync), and commands are answered afterwards."""
    real = platform_state.set_state
    failures = 3

    async def down(*args: object, **kwargs: object) -> None:
        nonlocal failures
        if failures:
            failures -= 1
            raise ConnectionRefusedError(111, "database down")
        await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(platform_state, "set_state", down)
    alice, room = matrix_group_room.alice, matrix_group_room.room
    for index in range(30):  # each message ends a sync, whose position is then written
        if not failures:
            break
        await alice.say(room, f"Nachricht {index}")
        await asyncio.sleep(1)
    assert failures == 0
    assert matrix_bot.adapter._sync_task is not None
    assert not matrix_bot.adapter._sync_task.done()
    await alice.say(room, "!datum 15.06.2027")
    await alice.wait(notice(matrix_bot.user_id, room, "15.06.2027"), seconds=40)
    tracebacks = [r for r in caplog.records if "Matrix sync" in r.getMessage() and r.exc_info]
    assert len(tracebacks) == 1
