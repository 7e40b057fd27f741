"""The HTTP server: calendar subscriptions (read-only `.ics` feeds behind secret URLs) and the
web pages of `bot.web`.

Calendar apps poll these URLs every few minutes to hours, mostly with a conditional GET;
that is answered 304 from the validator (a few aggregate queries) without building the
feed. Anything that is not a live token gets the same bare 404, so the server tells an
outsider nothing about which tokens exist or existed.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from email.utils import format_datetime

from aiohttp import web

from bot.web.site import install as install_pages
from handlers.calendar.feeds import FeedBuilder, Validator
from handlers.context import Services
from storage import calendar as calendar_store

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/calendar; charset=utf-8"

# A connection must deliver a complete request head this soon after it opens (and keep-alive
# connections are closed after this long idle). aiohttp's default is about an hour, so
# connections that never finish their headers piled up until file descriptors ran out.
HEADER_TIMEOUT_SECONDS = 15.0
# How long an unread request body is drained after the answer before the connection closes.
BODY_TIMEOUT_SECONDS = 2.0
# Open connections at most; beyond it a new one gets 503 and is closed at once. Calendar apps
# poll every few minutes to hours: a few hundred are plenty behind a proxy.
MAX_CONNECTIONS = 256
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
    b"Retry-After: 60\r\nConnection: close\r\n\r\n"
)


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def _not_modified(request: web.Request, validator: Validator) -> bool:
    """RFC 9110: If-None-Match decides when present; If-Modified-Since only without it."""
    etag = f'"{validator.etag}"'
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        offered = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return etag in offered or "*" in offered
    since = request.if_modified_since
    if since is None or validator.last_modified is None:
        return False
    return validator.last_modified.replace(microsecond=0) <= since


class FeedServerError(RuntimeError):
    """The feed server cannot listen where it was told to: the admin's to fix."""


class _Busy(asyncio.Protocol):
    """A connection beyond the cap: 503, closed at once, so it holds no descriptor."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(_BUSY)
        transport.close()


class _Capped:
    """aiohttp's protocol factory, with a cap on the connections it keeps open.

    aiohttp has no such limit (TCPSite's `backlog` only bounds the kernel's accept queue).
    A burst accepted in one loop iteration may pass the cap by that burst; the backlog
    bounds it.
    """

    def __init__(self, server: web.Server, limit: int) -> None:
        self.server = server
        self.limit = limit

    def __call__(self) -> asyncio.BaseProtocol:
        if len(self.server.connections) >= self.limit:
            return _Busy()
        return self.server()


async def _no_server_banner(request: web.Request, response: web.StreamResponse) -> None:
    """No `Server: Python/… aiohttp/…` header: it tells an attacker what to try."""
    response.headers.popall("Server", None)


class FeedServer:
    """aiohttp application on HTTP_HOST:HTTP_PORT; `port` is the bound one (0 picks one)."""

    def __init__(
        self,
        services: Services,
        builder: FeedBuilder | None = None,
        *,
        header_timeout: float = HEADER_TIMEOUT_SECONDS,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.services = services
        self.builder = builder or FeedBuilder(services)
        self.header_timeout = header_timeout
        self.max_connections = max_connections
        self.app = web.Application()
        self.app.router.add_get("/calendar/{token}.ics", self.feed)
        self.app.router.add_get("/healthz", self.health)
        self.app.on_response_prepare.append(_no_server_banner)
        self.site = install_pages(self.app, services)
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self.port: int | None = None

    async def start(self, host: str | None = None, port: int | None = None) -> None:
        settings = self.services.settings
        host = settings.http_host if host is None else host
        port = settings.http_port if port is None else port
        self._runner = web.AppRunner(
            self.app,
            access_log=None,
            keepalive_timeout=self.header_timeout,
            lingering_time=BODY_TIMEOUT_SECONDS,
        )
        await self._runner.setup()
        assert self._runner.server is not None
        capped = _Capped(self._runner.server, self.max_connections)
        try:
            self._listener = await asyncio.get_running_loop().create_server(
                capped, host, port, backlog=128, reuse_address=True
            )
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise FeedServerError(
                f"cannot serve calendar feeds on {host}:{port} ({exc.strerror or exc}); "
                "set HTTP_PORT to a free port or HTTP_SERVER=off"
            ) from None
        self.port = self._listener.sockets[0].getsockname()[1]
        log.info("calendar feeds on http://%s:%s", host, self.port)

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._listener is not None:
            await self._listener.wait_closed()
            self._listener = None

    async def health(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def feed(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        async with self.services.sessions() as session:
            feed = await calendar_store.feed_for_token(session, token)
            scope = await self.builder.scope(session, feed) if feed is not None else None
            if scope is None:
                raise web.HTTPNotFound(text="Not found")
            validator = await self.builder.validator(session, scope)
            headers = {
                "ETag": f'"{validator.etag}"',
                "Cache-Control": "private, no-cache",
                "X-Robots-Tag": "noindex",
                "Referrer-Policy": "no-referrer",
            }
            if validator.last_modified is not None:
                headers["Last-Modified"] = _http_date(validator.last_modified)
            if _not_modified(request, validator):
                return web.Response(status=304, headers=headers)
            body = await self.builder.body(session, scope, validator)
        headers["Content-Type"] = CONTENT_TYPE
        headers["Content-Disposition"] = 'inline; filename="calendar.ics"'
        return web.Response(body=body, headers=headers)
