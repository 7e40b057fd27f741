"""One bot process on both platforms at once: Telegram through the fake Bot API and Matrix
against the suite's real Synapse, for tests where a group spans them or one group's work
reaches another's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.adapters.matrix import MatrixAdapter
from bot.adapters.telegram import TelegramAdapter
from bot.app import Core, run_adapters
from bot.core.clock import Clock
from tests.fake_telegram import FakeTelegram
from tests.matrix_bot import PASSWORD
from tests.matrix_server import Synapse
from tests.telegram_bot import settings_for


@asynccontextmanager
async def telegram_and_matrix(
    fake: FakeTelegram,
    synapse: Synapse,
    bot_id: str,
    tmp_path: Path,
    clock: Clock | None = None,
    **extra: object,
) -> AsyncIterator[Core]:
    """Run both adapters as `bot_id` (registered on `synapse` with PASSWORD); yields once
    the bot polls Telegram, and stops both when the block ends. `extra` adds settings."""
    settings = settings_for(
        fake,
        tmp_path,
        matrix_homeserver=synapse.base_url,
        matrix_user_id=bot_id,
        matrix_password=PASSWORD,
        matrix_store_path=str(tmp_path / "store"),
        **extra,
    )
    core = await Core.create(settings, clock)
    adapters = [
        TelegramAdapter(settings, core.dispatcher, core.services.router),
        MatrixAdapter(settings, core.dispatcher, core.services),
    ]
    stop = asyncio.Event()
    task = asyncio.create_task(run_adapters(core, adapters, stop))
    try:
        await fake.wait_for_call("getUpdates", timeout=20)
        yield core
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=20)
