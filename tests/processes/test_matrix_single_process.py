"""Matrix stays one syncing process: a second `python -m bot run` on the same database is
refused at start with a clear message, while the first keeps running (real Synapse)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from storage.models import ProcessLease
from tests.matrix_bot import PASSWORD, MatrixBot
from tests.matrix_server import Synapse
from tests.ports import free_port


async def test_a_second_matrix_process_is_refused_while_the_first_syncs(
    matrix_bot: MatrixBot, synapse: Synapse, tmp_path: Path
) -> None:
    async with matrix_bot.core.services.sessions() as session:
        held = await session.get(ProcessLease, "matrix_sync")
    assert held is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATRIX_"))}
    env.update(
        DATABASE_URL=matrix_bot.core.settings.database_url,
        MATRIX_HOMESERVER=synapse.base_url,
        MATRIX_USER_ID=matrix_bot.user_id,
        MATRIX_PASSWORD=PASSWORD,
        MATRIX_STORE_PATH=str(tmp_path / "second-store"),
        HTTP_PORT=str(free_port()),
        LOG_LEVEL="WARNING",
    )
    second = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, stderr = await asyncio.wait_for(second.communicate(), timeout=60)
    finally:
        if second.returncode is None:
            second.kill()
            await second.wait()
    message = stderr.decode()
    assert second.returncode == 1, message
    assert f"another process ({held.holder}) is already running matrix_sync" in message
    assert "only one may run" in message
    assert not matrix_bot.task.done()  # the first one syncs on
    async with matrix_bot.core.services.sessions() as session:
        still = await session.get(ProcessLease, "matrix_sync", populate_existing=True)
    assert still is not None and still.holder == held.holder
