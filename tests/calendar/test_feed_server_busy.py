"""A taken feed port does not keep the bot from running: Telegram answers, the admins hear
about the feed server, and it starts once the port is free again."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp

from bot.adapters.telegram import TelegramAdapter
from bot.app import Core, run_adapters
from tests.fake_telegram import FakeTelegram
from tests.telegram_bot import (
    ANNA,
    converse,
    settings_for,
    start_telegram_bot,
    stop_telegram_bot,
)


async def test_a_busy_feed_port_leaves_telegram_running_tells_admins_and_retries(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    # An earlier run: Anna, an admin (ADMIN_USERS), has opened the private chat.
    settings = settings_for(telegram, tmp_path, admin_users=f"telegram:{ANNA}")
    earlier = await start_telegram_bot(telegram, settings)
    await converse(telegram, ANNA, ANNA, "/start")
    await stop_telegram_bot(earlier)
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    settings = settings_for(
        telegram, tmp_path, http_port=port, admin_users=f"telegram:{ANNA}", http_server="on"
    )
    core = await Core.create(settings)
    core.feed_retry_seconds = 0.2
    adapter = TelegramAdapter(settings, core.dispatcher, core.services.router)
    stop = asyncio.Event()
    running = asyncio.create_task(run_adapters(core, [adapter], stop, feeds=True))
    try:
        await telegram.wait_for_call("getMe", timeout=10)
        assert core.feed_server is None
        # The chat side works: Anna is answered.
        [answer] = await converse(telegram, ANNA, ANNA, "/hilfe")
        assert answer.text
        # Anna is an admin: the note about the feed server reaches her private chat.
        await telegram.wait_until(
            lambda: any("Kalender-Feed-Server" in (m.text or "") for m in telegram.sent),
            timeout=15,
            what="the admins' note about the feed server",
        )
        note = next(m for m in telegram.sent if "Kalender-Feed-Server" in (m.text or ""))
        assert note.chat_id == ANNA and str(port) in note.text
        # The port is free again: the next attempt starts the feed server.
        blocker.close()
        for _ in range(100):
            if core.feed_server is not None and core.feed_server.port == port:
                break
            await asyncio.sleep(0.05)
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/healthz") as response,
        ):
            assert response.status == 200
    finally:
        blocker.close()
        stop.set()
        await asyncio.wait_for(running, timeout=15)
