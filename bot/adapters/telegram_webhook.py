"""The Telegram webhook endpoint: Telegram's posts become updates for the application.

A small aiohttp server of our own instead of python-telegram-bot's tornado one, for one
reason: PTB compares the secret header with `!=`, whose running time tells an attacker how
much of a guess was right. Here the comparison is `hmac.compare_digest` (constant time).
Posts without the right secret get 403 and change nothing; the updates go into the
application's queue exactly as PTB's own webhook would put them there.

With `handle` given (the adapter's, see TelegramAdapter.handle_posted), a post is answered
only once its update was handled, with the status `handle` returns: Telegram delivers an
update again until it gets a 2xx, so an update whose process died mid-way is not lost, and
the copies are recognised by their update_id (handlers/processes/claims.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from hmac import compare_digest

from aiohttp import web
from telegram import Update
from telegram.ext import Application

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1024 * 1024  # an update is a few kB; a file is never posted, only its id


def secret_matches(given: str, expected: str) -> bool:
    """Constant-time comparison of the header Telegram sends with the registered secret."""
    return compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class WebhookServer:
    """Listens on `listen`:`port` for POSTs to `/path` while running."""

    def __init__(
        self,
        application: Application,
        *,
        listen: str,
        port: int,
        path: str,
        secret: str,
        handle: Callable[[Update], Awaitable[int]] | None = None,
    ) -> None:
        self._application = application
        self._handle = handle
        self._listen, self._port, self._path = listen, port, "/" + path.lstrip("/")
        self._secret = secret
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post(self._path, self._post)
        self._runner = web.AppRunner(app, access_log=None)  # URLs may hold secrets
        await self._runner.setup()
        await web.TCPSite(self._runner, self._listen, self._port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _post(self, request: web.Request) -> web.Response:
        if not secret_matches(request.headers.get(SECRET_HEADER, ""), self._secret):
            log.warning("telegram webhook: refused a post without the right secret")
            return web.Response(status=403)
        try:
            data = await request.json()
            update = Update.de_json(data, self._application.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400)
        if self._handle is not None:
            return web.Response(status=await self._handle(update))
        await self._application.update_queue.put(update)
        return web.Response()
