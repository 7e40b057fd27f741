"""The real bot (PTB Application, dispatcher, SQLite) against the fake Telegram Bot API: in this
process as the `telegram_bot` fixture, or as a `python -m bot` process that tests may kill.

The fixtures (registered in tests/conftest.py): `telegram` is the fake with AG Transfer's
people – Anna chairs the group and is its admin, Bernd and Clara are members – and
`telegram_bot` is the bot running against it. A test module that needs a clock that stands
still, or Clara in German, overrides `telegram_setup`.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from bot.adapters.telegram import TelegramAdapter
from bot.app import Core, run_adapters
from bot.core.clock import Clock, FixedClock
from bot.core.settings import Settings, load_settings
from tests.fake_telegram import FakeTelegram, SentMessage
from tests.ports import free_port

ANNA, BERND, CLARA = 1001, 1002, 1003
GROUP = -1001234567890  # AG Transfer


@dataclass
class TelegramBot:
    """The bot running in this process against `fake`, until `stop` is set."""

    fake: FakeTelegram
    core: Core
    adapter: TelegramAdapter
    stop: asyncio.Event
    task: asyncio.Task[None]


@dataclass(frozen=True)
class TelegramSetup:
    """What differs between the modules that run the bot on the fake: `now` makes the bot's
    clock stand still there (None: the real clock), and Clara's app language."""

    now: datetime | None = None
    clara_language: str = "en"


def settings_for(fake: FakeTelegram, tmp_path: Path, **extra: object) -> Settings:
    """Settings for a bot on `fake` with its database in `tmp_path`; `extra` adds or overrides."""
    defaults: dict[str, object] = {
        "database_url": f"sqlite:///{tmp_path / 'bot.db'}",
        "telegram_token": fake.token,
        "telegram_base_url": fake.base_url,
        "telegram_base_file_url": fake.base_file_url,
        "outbox_poll_seconds": 0.2,
    }
    return load_settings(_env_file=None, **(defaults | extra))


async def start_telegram_bot(
    fake: FakeTelegram, settings: Settings, clock: Clock | None = None
) -> TelegramBot:
    """Run the bot until it has asked the fake who it is; `clock` None: the real clock."""
    core = await Core.create(settings, clock)
    adapter = TelegramAdapter(settings, core.dispatcher, core.services.router)
    stop = asyncio.Event()
    task = asyncio.create_task(run_adapters(core, [adapter], stop))
    await fake.wait_for_call("getMe", timeout=10)
    return TelegramBot(fake, core, adapter, stop, task)


async def stop_telegram_bot(bot: TelegramBot) -> None:
    bot.stop.set()
    await asyncio.wait_for(bot.task, timeout=15)


async def converse(
    fake: FakeTelegram, chat: int, user: int, text: str, count: int = 1
) -> list[SentMessage]:
    """`user` writes `text` in `chat`; the bot's next `count` messages there."""
    since = len(fake.sent)
    fake.send_text(chat, user, text)
    return await fake.wait_for_messages(chat, count=count, since=since, timeout=10)


async def registered_group(telegram: FakeTelegram) -> None:
    """Anna registers GROUP as "AG Transfer"; Bernd and Clara start the bot and join."""
    await converse(telegram, GROUP, ANNA, '/registrieren ag "AG Transfer"')
    for user in (BERND, CLARA):
        await converse(telegram, user, user, "/start")
        await converse(telegram, GROUP, user, "/beitreten")


def bot_process_env(fake: FakeTelegram, db: Path) -> dict[str, str]:
    """The environment of a `python -m bot` process on `fake` with its database at `db`; its
    feed server on a free port, so no other process on this machine stands in its way."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{db}",
        TELEGRAM_TOKEN=fake.token,
        TELEGRAM_BASE_URL=fake.base_url,
        TELEGRAM_BASE_FILE_URL=fake.base_file_url,
        OUTBOX_GLOBAL_PER_SECOND="10",
        OUTBOX_LEASE_SECONDS="2",
        OUTBOX_POLL_SECONDS="0.2",
        LOG_LEVEL="WARNING",
        HTTP_PORT=str(free_port()),
    )
    return env


async def start_bot_process(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    """`python -m bot run` as its own process, so a test can kill it like an operator would."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.fixture
def telegram_setup() -> TelegramSetup:
    """The real clock, Clara in English; a module overrides this fixture to change them."""
    return TelegramSetup()


@pytest.fixture
async def telegram(telegram_setup: TelegramSetup) -> AsyncIterator[FakeTelegram]:
    """The fake Telegram with AG Transfer's group: Anna its admin, Bernd and Clara members."""
    async with FakeTelegram() as fake:
        fake.add_user(ANNA, "Anna", "anna")
        fake.add_user(BERND, "Bernd", "bernd")
        fake.add_user(CLARA, "Clara", "clara", language_code=telegram_setup.clara_language)
        fake.add_group(GROUP, "AG Transfer", admins=[ANNA], members=[BERND, CLARA])
        yield fake


@pytest.fixture
async def telegram_bot(
    telegram: FakeTelegram, telegram_setup: TelegramSetup, tmp_path: Path
) -> AsyncIterator[TelegramBot]:
    """The bot running against `telegram`, stopped before the fake is."""
    clock = FixedClock(telegram_setup.now) if telegram_setup.now else None
    running = await start_telegram_bot(telegram, settings_for(telegram, tmp_path), clock)
    yield running
    await stop_telegram_bot(running)
