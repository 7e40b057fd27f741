"""The webhook compares Telegram's secret header in constant time (hmac.compare_digest):
`!=`, as python-telegram-bot's own webhook does, tells by its running time how much of a
guessed secret was right."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from bot.adapters import telegram_webhook
from tests.adapters.test_telegram_secrets import SECRET_HEADER, forged_start
from tests.fake_telegram import FakeTelegram
from tests.ports import free_port
from tests.telegram_bot import ANNA, converse, settings_for, start_telegram_bot, stop_telegram_bot

SECRET = "a-long-configured-webhook-secret"


async def test_the_secret_header_is_compared_in_constant_time(
    telegram: FakeTelegram,
    tmp_path: Path,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = telegram_webhook.compare_digest

    def spy(given: bytes, expected: bytes) -> bool:
        compared.append((given, expected))
        return real(given, expected)

    monkeypatch.setattr(telegram_webhook, "compare_digest", spy)
    port = free_port()
    hook = f"http://127.0.0.1:{port}/telegram-hook"
    settings = settings_for(
        telegram,
        tmp_path,
        telegram_mode="webhook",
        telegram_webhook_port=port,
        telegram_webhook_url=hook,
        telegram_webhook_secret=SECRET,
    )
    running = await start_telegram_bot(telegram, settings)
    try:
        await telegram.wait_until(
            lambda: telegram.webhook_url == hook, timeout=10, what="setWebhook"
        )
        assert telegram.webhook_secret == SECRET
        guess = SECRET[:-1] + "X"  # all but the last character right
        headers = {SECRET_HEADER: guess}
        async with http.post(hook, json=forged_start(950), headers=headers) as response:
            assert response.status == 403
        assert (guess.encode(), SECRET.encode()) in compared
        [reply] = await converse(telegram, ANNA, ANNA, "/hilfe")  # Telegram's own post
        assert "/registrieren" in (reply.text or "")
        assert (SECRET.encode(), SECRET.encode()) in compared
    finally:
        await stop_telegram_bot(running)
