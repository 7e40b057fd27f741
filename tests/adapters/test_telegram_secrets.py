"""Secrets on the Telegram side: forged webhook posts change nothing, the token is never shown.

The bot runs on the fake Bot API; an attacker who knows the webhook URL posts to it directly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.adapters.telegram import TelegramAdapter
from bot.app import Core
from bot.cli import CHATTY_LIBRARIES, QUIET_LIBRARIES, configure_logging
from bot.core.clock import SystemClock
from bot.core.messages import OutgoingMessage
from bot.core.redact import RedactingFilter
from bot.outbox.worker import DeliveryWorker, WorkerPolicy
from storage import outbox
from storage.models import OutboxMessage
from tests.fake_telegram import FakeTelegram
from tests.ports import free_port
from tests.telegram_bot import (
    ANNA,
    converse,
    settings_for,
    start_telegram_bot,
    stop_telegram_bot,
)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
LIBRARIES = (*CHATTY_LIBRARIES, *QUIET_LIBRARIES)
# Shaped like a real one, so nothing but the redaction can hide it.
TOKEN = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide loggers: put them back for the next test."""
    levels = {name: logging.getLogger(name).level for name in LIBRARIES}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    for handler in logging.getLogger().handlers:
        for found in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
            handler.removeFilter(found)


def forged_start(update_id: int) -> dict[str, object]:
    """What an attacker posts: "/start" in Anna's private chat, as if Telegram sent it."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": 4242 + update_id,
            "date": 1_700_000_000,
            "chat": {"id": ANNA, "type": "private", "first_name": "Anna"},
            "from": {"id": ANNA, "is_bot": False, "first_name": "Anna"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def test_webhook_without_a_configured_secret_refuses_forged_posts(
    telegram: FakeTelegram, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    port = free_port()
    hook = f"http://127.0.0.1:{port}/telegram-hook"
    settings = settings_for(
        telegram,
        tmp_path,
        telegram_mode="webhook",
        telegram_webhook_port=port,
        telegram_webhook_url=hook,
    )
    assert settings.telegram_webhook_secret is None
    running = await start_telegram_bot(telegram, settings)
    try:
        await telegram.wait_until(
            lambda: telegram.webhook_url is not None, timeout=10, what="setWebhook"
        )
        assert telegram.webhook_secret  # a random one, registered with Telegram
        await converse(telegram, ANNA, ANNA, "/hilfe")  # the webhook server is up
        for number, headers in enumerate(({}, {SECRET_HEADER: "guessed"}), start=900):
            async with http.post(hook, json=forged_start(number), headers=headers) as response:
                assert response.status == 403
        [reply] = await converse(telegram, ANNA, ANNA, "/hilfe")  # Telegram's own post
        assert "/registrieren" in reply.text
        assert not [m for m in telegram.sent if m.text and "Hallo Anna" in m.text]
    finally:
        await stop_telegram_bot(running)


async def redirect_loop() -> web.AppRunner:
    """A Bot API that answers every request with a redirect to itself: aiohttp gives up
    with an error that quotes the URL, token and all."""

    async def again(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(str(request.url))

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", again)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    return runner


async def test_a_client_error_quoting_the_token_is_stored_and_logged_without_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, restore_logging: None
) -> None:
    runner = await redirect_loop()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    fake = FakeTelegram(token=TOKEN)
    fake.base_url = f"http://127.0.0.1:{port}/bot"
    fake.base_file_url = f"http://127.0.0.1:{port}/file/bot"
    settings = settings_for(fake, tmp_path, outbox_max_attempts=1)
    configure_logging(settings)
    core = await Core.create(settings)
    adapter = TelegramAdapter(settings, core.dispatcher, core.services.router)
    await adapter.application.bot.request.initialize()
    try:
        async with core.services.sessions.begin() as session:
            await outbox.enqueue(
                session,
                platform="telegram",
                chat_id=str(ANNA),
                message=OutgoingMessage("Einladung"),
                purpose="test",
                dedupe_key="leak-1",
                now=SystemClock().now(),
            )
        worker = DeliveryWorker(
            core.services.sessions,
            {"telegram": adapter.sender},
            SystemClock(),
            WorkerPolicy(max_attempts=1),
        )
        with caplog.at_level(logging.INFO):
            await worker.run_once()
        async with core.services.sessions() as session:
            row = (await session.execute(select(OutboxMessage))).scalar_one()
        assert row.last_error and "TooManyRedirects" in row.last_error
        assert TOKEN not in row.last_error and "[redacted]" in row.last_error
        assert "giving up" in caplog.text and TOKEN not in caplog.text
        assert TOKEN.split(":")[1] not in caplog.text
    finally:
        await adapter.application.bot.request.shutdown()
        await core.close()
        await runner.cleanup()


@pytest.mark.parametrize("message_text", [False, True])
async def test_debug_logs_show_message_text_only_when_asked(
    telegram: FakeTelegram,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    restore_logging: None,
    message_text: bool,
) -> None:
    settings = settings_for(telegram, tmp_path, log_level="DEBUG", log_message_text=message_text)
    configure_logging(settings)
    caplog.set_level(logging.DEBUG)
    running = await start_telegram_bot(telegram, settings)
    try:
        [reply] = await converse(telegram, ANNA, ANNA, "/start")
    finally:
        await stop_telegram_bot(running)
    assert "Hallo Anna" in reply.text
    assert ("Hallo Anna" in caplog.text) is message_text
    assert telegram.token not in caplog.text
