"""What every page promises a browser: no third-party or inline code, no framing, no referrer
(personal links are in URLs), and forms that only this site can post."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web
from multidict import MultiDictProxy

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
CSRF_FIELD = "csrf"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Set on answers and on errors alike; pages are not cached unless a handler says so."""
    try:
        response = await handler(request)
    except web.HTTPException as error:
        response = error
        _protect(response)
        raise
    _protect(response)
    return response


def _protect(response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-store")


class Csrf:
    """Form tokens bound to what the form acts on (`scope`, e.g. a personal link's hash).

    The token is an HMAC of the scope under the installation's secret, so it needs no session
    cookie, survives a restart and holds across processes; a page of another site can neither
    read it (same-origin policy) nor compute it.
    """

    def __init__(self, secret: Callable[[], Awaitable[bytes]]) -> None:
        self._secret = secret
        self._key: bytes | None = None

    async def _get_key(self) -> bytes:
        if self._key is None:
            self._key = await self._secret()
        return self._key

    async def token(self, scope: str) -> str:
        key = await self._get_key()
        return hmac.new(key, f"csrf:{scope}".encode(), hashlib.sha256).hexdigest()

    async def form(self, request: web.Request, scope: str) -> MultiDictProxy[str | bytes]:
        """The posted form, after refusing cross-site posts and a missing or wrong token."""
        if request.headers.get("Sec-Fetch-Site") == "cross-site":
            raise web.HTTPForbidden(text="Forbidden")
        origin = request.headers.get("Origin")
        # Compared by host only: behind a TLS-terminating proxy the scheme seen here is http.
        if origin not in (None, "null") and origin.partition("://")[2] != request.host:
            raise web.HTTPForbidden(text="Forbidden")
        form = await request.post()
        sent = form.get(CSRF_FIELD)
        expected = await self.token(scope)
        if not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
            raise web.HTTPForbidden(text="Forbidden")
        return form
