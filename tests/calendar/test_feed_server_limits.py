"""The feed server against slow and many connections: it closes what never finishes, caps
what it keeps open, and names no software, while the chat side keeps working."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.feed_server import FeedServer
from tests.harness import Conversation, person

anna = person("anna")
HEADER_TIMEOUT = 0.5


@pytest.fixture
async def server(core) -> AsyncIterator[FeedServer]:
    feeds = FeedServer(core.services, header_timeout=HEADER_TIMEOUT, max_connections=3)
    await feeds.start("127.0.0.1", 0)
    yield feeds
    await feeds.stop()


async def half_a_header(server: FeedServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A client that starts a request and never finishes its headers (slowloris)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    await writer.drain()
    return reader, writer


async def closed_after(reader: asyncio.StreamReader, limit: float) -> float:
    """Seconds until the server closes the connection (fails after `limit`)."""
    started = time.monotonic()
    async with asyncio.timeout(limit):
        while await reader.read(1024):
            pass
    return time.monotonic() - started


async def test_a_request_whose_headers_never_finish_is_closed(server: FeedServer) -> None:
    reader, writer = await half_a_header(server)
    try:
        assert await closed_after(reader, limit=HEADER_TIMEOUT + 5) >= HEADER_TIMEOUT * 0.8
    finally:
        writer.close()


async def test_responses_name_no_server_software(
    server: FeedServer, http: aiohttp.ClientSession
) -> None:
    base = f"http://127.0.0.1:{server.port}"
    for path in ("/healthz", "/calendar/unknown.ics"):
        async with http.get(base + path) as response:
            assert response.status in {200, 404}
            assert "Server" not in response.headers


async def test_beyond_the_cap_new_connections_are_refused_while_chat_works(
    server: FeedServer, http: aiohttp.ClientSession, chat: Conversation
) -> None:
    slow = [await half_a_header(server) for _ in range(3)]
    try:
        await asyncio.sleep(0.05)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        async with asyncio.timeout(HEADER_TIMEOUT / 2):  # at once, not after a timeout
            answer = await reader.read()
        writer.close()
        assert answer.startswith(b"HTTP/1.1 503")
        assert "AG Transfer" in await chat.text(anna, "/start")  # the chat side works on
    finally:
        for _, w in slow:
            w.close()
    await asyncio.sleep(0.1)  # the server notices the slow ones went away
    async with http.get(f"http://127.0.0.1:{server.port}/healthz") as response:
        assert response.status == 200
