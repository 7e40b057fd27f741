"""kill -9 of a webhook process at the worst moment: its command's effects are committed,
its reply is on the way, Telegram never got the 200. Telegram posts the update again,
here to another process. The mark "done" was written with the effects (one transaction),
so the copy is recognised: the command is not run a second time. (The price, documented in
README "Operations": that one reply is lost, never doubled.)"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

import aiohttp

from storage.models import HandledUpdate
from tests.fake_telegram import FakeTelegram
from tests.ports import free_port
from tests.postgres import PostgresCluster
from tests.processes.test_webhook_processes import post, text_update
from tests.telegram_bot import bot_process_env, start_bot_process
from tests.webhook_processes import HOOK_PATH, SECRET, listening, webhook_processes

ANNA = 3101


async def test_a_copy_after_a_crash_between_commit_and_reply_is_not_run_again(
    telegram: FakeTelegram, postgres: PostgresCluster, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    database_url = postgres.create_database("webhook_crash")
    telegram.add_user(ANNA, "Anna", "anna", language_code="en", started=True)
    port = free_port()
    env = bot_process_env(telegram, tmp_path / "unused.db")
    env.update(
        DATABASE_URL=database_url,
        TELEGRAM_MODE="webhook",
        TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{free_port()}/{HOOK_PATH}",
        TELEGRAM_WEBHOOK_PORT=str(port),
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        TELEGRAM_UPDATE_LEASE_SECONDS="1",  # a dead holder's claim runs out quickly
    )
    process = await start_bot_process(env, tmp_path)
    try:
        await listening(port, within=60)
        telegram.delay("sendMessage", 30)  # the reply hangs: the process dies meanwhile
        since = len(telegram.calls)
        update = text_update(telegram, 9001, ANNA, "/sprache de")
        first = asyncio.create_task(post(http, f"http://127.0.0.1:{port}/{HOOK_PATH}", update))
        await telegram.wait_for_call("sendMessage", timeout=30, since=since)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        with contextlib.suppress(aiohttp.ClientError):
            await first  # Telegram got no answer: it will post the update again
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    await asyncio.sleep(1.5)  # the dead process's claim has run out by now
    async with webhook_processes(telegram, database_url, tmp_path, 1) as deployment:
        assert await post(http, deployment.hooks[0], update) == 200
        await asyncio.sleep(0.5)
        assert telegram.messages_in(ANNA) == []  # not run again (and no second reply)
        async with deployment.bots[0].core.services.sessions() as session:
            row = await session.get(HandledUpdate, ("telegram", 9001))
        assert row is not None and row.state == "replying"
