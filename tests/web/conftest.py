"""Fixtures of the web tests that answer through pages over a running Telegram bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.feed_server import FeedServer
from tests.telegram_bot import TelegramBot, TelegramSetup


@pytest.fixture
def telegram_setup() -> TelegramSetup:
    """June 2031, before the polls' and meetings' dates in these tests."""
    return TelegramSetup(now=datetime(2031, 6, 1, 8, 0, tzinfo=UTC), clara_language="de")


@pytest.fixture
async def bot_pages(telegram_bot: TelegramBot) -> AsyncIterator[str]:
    """The bot's HTTP server over the running bot's services, on 127.0.0.1."""
    server = FeedServer(telegram_bot.core.services)
    await server.start("127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.port}"
    await server.stop()
