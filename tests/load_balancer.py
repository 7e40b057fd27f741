"""A round-robin reverse proxy on 127.0.0.1 in front of several bot processes' webhooks,
as nginx or HAProxy would sit in a deployment: each post goes to the next backend, its
answer (status and body) goes back to the poster."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Self

import aiohttp
from aiohttp import web

from tests.ports import free_port

FORWARDED = ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")


class LoadBalancer:
    """Start with `async with LoadBalancer(backends) as lb`; post to `lb.url(path)`."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.port = free_port()
        self.forwarded: Counter[str] = Counter()
        self._next = itertools.cycle(range(len(backends)))
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_route("POST", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        backend = self.backends[next(self._next)]
        self.forwarded[backend] += 1
        body = await request.read()
        headers = {name: request.headers[name] for name in FORWARDED if name in request.headers}
        try:
            async with self._session.post(
                backend + request.path, data=body, headers=headers
            ) as answer:
                return web.Response(status=answer.status, body=await answer.read())
        except aiohttp.ClientError:
            return web.Response(status=502)  # the backend is down: the poster retries
