"""Several bot processes in webhook mode on one PostgreSQL database behind a round-robin
load balancer, as in README "Operations": here each "process" is a Core with its own
Telegram adapter and webhook port in the test's event loop (the bench runs real ones)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.core.clock import Clock
from tests.fake_telegram import FakeTelegram
from tests.load_balancer import LoadBalancer
from tests.ports import free_port
from tests.telegram_bot import TelegramBot, settings_for, start_telegram_bot, stop_telegram_bot

HOOK_PATH = "telegram-hook"
SECRET = "several-processes-share-this-secret"


@dataclass
class Deployment:
    """The running bots, their load balancer, and each bot's own webhook URL."""

    bots: list[TelegramBot]
    balancer: LoadBalancer
    hooks: list[str]


@asynccontextmanager
async def webhook_processes(
    fake: FakeTelegram,
    database_url: str,
    tmp_path: Path,
    count: int,
    clock: Clock | None = None,
    **extra: object,
) -> AsyncIterator[Deployment]:
    """`count` bots behind one load balancer whose URL each registers with setWebhook."""
    ports = [free_port() for _ in range(count)]
    backends = [f"http://127.0.0.1:{port}" for port in ports]
    async with LoadBalancer(backends) as balancer:
        bots: list[TelegramBot] = []
        try:
            for port in ports:
                webhook = {
                    "database_url": database_url,
                    "telegram_mode": "webhook",
                    "telegram_webhook_port": port,
                    "telegram_webhook_url": balancer.url(HOOK_PATH),
                    "telegram_webhook_secret": SECRET,
                }
                settings = settings_for(fake, tmp_path, **(webhook | extra))
                bots.append(await start_telegram_bot(fake, settings, clock))
                await listening(port)
            yield Deployment(bots, balancer, [f"{backend}/{HOOK_PATH}" for backend in backends])
        finally:
            for bot in reversed(bots):
                await stop_telegram_bot(bot)


async def listening(port: int, within: float = 20.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:`port` (a bot's webhook)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if loop.time() > deadline:
                raise TimeoutError(f"nothing listens on port {port}") from None
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
