"""Two bot processes in webhook mode on one PostgreSQL database: an update is handled
once wherever its copies land, and a chat's updates are handled (and answered) in order.

SQLite is one writer per file and runs one process; these guarantees are PostgreSQL's."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.core.messages import IncomingMessage, Reply
from bot.core.platform import Platform
from storage.models import HandledUpdate
from tests.fake_telegram import FakeTelegram
from tests.postgres import PostgresCluster
from tests.webhook_processes import SECRET, webhook_processes

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ANNA, BERND = 3001, 3002  # both have opened their private chat with the bot


def people(fake: FakeTelegram) -> None:
    fake.add_user(ANNA, "Anna", "anna", language_code="en", started=True)
    fake.add_user(BERND, "Bernd", "bernd", language_code="en", started=True)


def text_update(fake: FakeTelegram, update_id: int, user_id: int, text: str) -> dict[str, Any]:
    """What Telegram posts when `user_id` writes `text` to the bot in their private chat."""
    message = {
        "message_id": 5000 + update_id,
        "date": 1_700_000_000,
        "chat": {"id": user_id, "type": "private", "first_name": "Anna"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Anna", "language_code": "en"},
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
    }
    return {"update_id": update_id, "message": message}


async def post(http: aiohttp.ClientSession, hook: str, update: dict[str, Any]) -> int:
    async with http.post(hook, json=update, headers={SECRET_HEADER: SECRET}) as response:
        return response.status


async def test_an_update_posted_to_two_processes_and_again_is_handled_once(
    telegram: FakeTelegram,
    postgres: PostgresCluster,
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    """Telegram retries a post whose answer it did not get, and behind a load balancer the
    copy may reach another process, even while the first still works on it."""
    database_url = postgres.create_database("webhook_once")
    people(telegram)
    async with webhook_processes(telegram, database_url, tmp_path, 2) as deployment:
        first, second = deployment.hooks
        update = text_update(telegram, 7001, ANNA, "/eins")
        statuses = await asyncio.gather(
            post(http, first, update), post(http, second, update), post(http, first, update)
        )
        assert statuses == [200, 200, 200]
        assert await post(http, second, update) == 200  # a late retry, after it was handled
        await asyncio.sleep(0.5)  # a second reply would have arrived by now
        replies = telegram.messages_in(ANNA)
        assert len(replies) == 1, [reply.text for reply in replies]
        async with deployment.bots[0].core.services.sessions() as session:
            row = await session.get(HandledUpdate, ("telegram", 7001))
        assert row is not None and row.state == "handled"


async def test_a_chats_later_update_waits_for_the_earlier_one_in_another_process(
    telegram: FakeTelegram,
    postgres: PostgresCluster,
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    """Update 1 of Anna's chat is slow in the first process; update 2 reaches the second
    process meanwhile. It waits: the answers arrive in the order of the commands."""
    database_url = postgres.create_database("webhook_order")
    people(telegram)
    async with webhook_processes(telegram, database_url, tmp_path, 2) as deployment:
        slow_bot, fast_bot = deployment.bots
        dispatcher = slow_bot.adapter.dispatcher
        real_handle = dispatcher.handle

        async def slowly(message: IncomingMessage, platform: Platform) -> list[Reply]:
            replies = await real_handle(message, platform)
            await asyncio.sleep(1.0)  # a long command: the reply goes out a second later
            return replies

        dispatcher.handle = slowly  # type: ignore[method-assign]
        first = asyncio.create_task(
            post(http, deployment.hooks[0], text_update(telegram, 8001, ANNA, "/eins"))
        )
        sessions = fast_bot.core.services.sessions
        for _ in range(200):  # until the first process has claimed update 1
            async with sessions() as session:
                if await session.get(HandledUpdate, ("telegram", 8001)):
                    break
            await asyncio.sleep(0.01)
        second = await post(http, deployment.hooks[1], text_update(telegram, 8002, ANNA, "/zwei"))
        assert second == 200 and await first == 200
        # another chat is not held up by Anna's slow command
        assert (
            await post(http, deployment.hooks[1], text_update(telegram, 8003, BERND, "/drei"))
            == 200
        )
        answers = [
            re.findall(r"eins|zwei", reply.text or "") for reply in telegram.messages_in(ANNA)
        ]
        assert answers == [["eins"], ["zwei"]]


async def test_updates_through_the_load_balancer_are_spread_and_each_answered_once(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    """Telegram's way of posting (parallel connections, one chat's updates one after the
    other) to two processes behind a round-robin balancer: every command answered once,
    in each chat's order, and both processes did their share."""
    database_url = postgres.create_database("webhook_balanced")
    async with FakeTelegram(webhook_parallel=True) as fake:
        people = [2000 + index for index in range(6)]
        for person in people:
            fake.add_user(person, f"P{person}", f"p{person}", language_code="en", started=True)
        async with webhook_processes(fake, database_url, tmp_path, 2) as deployment:
            for round_ in range(5):
                for person in people:
                    fake.send_text(person, person, f"/n{round_}x")
            await fake.wait_until(lambda: len(fake.sent) >= 30, timeout=60, what="30 replies")
            await asyncio.sleep(0.3)
            for person in people:
                seen = [re.findall(r"n(\d)x", m.text or "") for m in fake.messages_in(person)]
                assert seen == [[str(r)] for r in range(5)], (person, seen)
            assert sorted(deployment.balancer.forwarded.values())[0] >= 10
            async with deployment.bots[0].core.services.sessions() as session:
                handled = await session.scalar(
                    select(func.count())
                    .select_from(HandledUpdate)
                    .where(HandledUpdate.state == "handled")
                )
            assert handled == 30


async def test_processes_without_a_configured_secret_share_the_installations_own(
    telegram: FakeTelegram,
    postgres: PostgresCluster,
    tmp_path: Path,
    http: aiohttp.ClientSession,
) -> None:
    """Each process registers the secret with setWebhook at its start; one random secret
    per process would leave all but the last refusing Telegram's posts (403)."""
    database_url = postgres.create_database("webhook_secret")
    people(telegram)
    async with webhook_processes(
        telegram, database_url, tmp_path, 2, telegram_webhook_secret=None
    ) as deployment:
        registered = telegram.webhook_secret
        assert registered and registered != SECRET
        for index, hook in enumerate(deployment.hooks):
            update = text_update(telegram, 7100 + index, ANNA, f"/s{index}")
            async with http.post(hook, json=update, headers={SECRET_HEADER: registered}) as r:
                assert r.status == 200
        assert len(telegram.messages_in(ANNA)) == 2


async def test_a_copy_still_in_another_process_hands_gets_503_and_is_handled_once(
    telegram: FakeTelegram,
    postgres: PostgresCluster,
    tmp_path: Path,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The copy does not wait for ever: 503 tells Telegram to post it again later; by
    then the first process has finished, and the copy is answered 200 and dropped."""
    import bot.adapters.telegram as telegram_adapter

    monkeypatch.setattr(telegram_adapter, "WEBHOOK_WAIT_SECONDS", 0.3)
    database_url = postgres.create_database("webhook_busy")
    people(telegram)
    async with webhook_processes(telegram, database_url, tmp_path, 2) as deployment:
        dispatcher = deployment.bots[0].adapter.dispatcher
        real_handle = dispatcher.handle

        async def slowly(message: IncomingMessage, platform: Platform) -> list[Reply]:
            await asyncio.sleep(1.5)
            return await real_handle(message, platform)

        dispatcher.handle = slowly  # type: ignore[method-assign]
        update = text_update(telegram, 7201, ANNA, "/langsam")
        first = asyncio.create_task(post(http, deployment.hooks[0], update))
        await asyncio.sleep(0.3)
        assert await post(http, deployment.hooks[1], update) == 503
        assert await first == 200
        assert await post(http, deployment.hooks[1], update) == 200
        await asyncio.sleep(0.3)
        assert len(telegram.messages_in(ANNA)) == 1
