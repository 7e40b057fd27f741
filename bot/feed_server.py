"""The HTTP server for calendar subscriptions: read-only `.ics` feeds behind secret URLs.

Calendar apps poll these URLs every few minutes to hours, mostly with a conditional GET;
that is answered 304 from the validator (a few aggregate queries) without building the
feed. Anything that is not a live token gets the same bare 404, so the server tells an
outsider nothing about which tokens exist or existed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import format_datetime

from aiohttp import web

from handlers.calendar.feeds import FeedBuilder, Validator
from handlers.context import Services
from storage import calendar as calendar_store

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/calendar; charset=utf-8"


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


class FeedServer:
    """aiohttp application on HTTP_HOST:HTTP_PORT; `port` is the bound one (0 picks one)."""

    def __init__(self, services: Services, builder: FeedBuilder | None = None) -> None:
        self.services = services
        self.builder = builder or FeedBuilder(services)
        self.app = web.Application()
        self.app.router.add_get("/calendar/{token}.ics", self.feed)
        self.app.router.add_get("/healthz", self.health)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self, host: str | None = None, port: int | None = None) -> None:
        settings = self.services.settings
        host = settings.http_host if host is None else host
        port = settings.http_port if port is None else port
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, host, port).start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise FeedServerError(
                f"cannot serve calendar feeds on {host}:{port} ({exc.strerror or exc}); "
                "set HTTP_PORT to a free port or HTTP_SERVER=off"
            ) from None
        self.port = self._runner.addresses[0][1]
        log.info("calendar feeds on http://%s:%s", host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

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
