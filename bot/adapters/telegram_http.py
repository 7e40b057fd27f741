"""python-telegram-bot's HTTP transport on aiohttp instead of httpx.

PTB lets an application supply its own `BaseRequest`. Measured here, one sendMessage costs
about 1.3 ms of CPU through PTB's default httpx transport and about 0.3 ms through aiohttp
(already a dependency of ours). For a bot whose work per command is a few database
statements, the transport was the larger half of the cost: bench/throughput.py shows it.
Behaviour follows PTB's HTTPXRequest: same timeouts (aiohttp has no write timeout), same
errors (TimedOut, NetworkError), multipart uploads for files.

One difference matters for delivery: an error tells whether the request may have reached
Telegram. `RequestNotSent` (no connection: refused, DNS, connect or pool timeout; or only
redirects) is safe to repeat; `AnswerLost` (read timeout, connection reset or a broken
answer after the request was written) may hide a message Telegram accepted, so the outbox
must not send it again.
Read timeouts depend on the method: an upload takes longer than a text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.core.redact import redact

# Seconds to wait for the answer, by Bot API method; uploads carry a file first.
UPLOAD_READ_TIMEOUT = 30.0
READ_TIMEOUTS: Mapping[str, float] = {
    "senddocument": UPLOAD_READ_TIMEOUT,
    "sendphoto": UPLOAD_READ_TIMEOUT,
    "sendvideo": UPLOAD_READ_TIMEOUT,
    "sendaudio": UPLOAD_READ_TIMEOUT,
    "sendmediagroup": UPLOAD_READ_TIMEOUT,
}
_METHOD = re.compile(r"/([A-Za-z]+)/?(?:\?.*)?$")


# No connection (refused, DNS, connect or pool timeout), or only redirects as answers: the
# Bot API never processed the request.
_NOT_SENT = (
    aiohttp.ClientConnectorError,
    aiohttp.ConnectionTimeoutError,
    aiohttp.TooManyRedirects,
)


class RequestNotSent(NetworkError):
    """No connection to Telegram was made: the request provably did not reach it."""


class AnswerLost(TimedOut):
    """The request was written, but its answer did not arrive intact (read timeout, reset,
    garbage): Telegram may have processed it."""


def method_of(url: str) -> str:
    """The Bot API method a URL calls, lower case ("" if none)."""
    match = _METHOD.search(url)
    return match.group(1).lower() if match else ""


class AiohttpRequest(BaseRequest):
    __slots__ = (
        "_connect_timeout",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_read_timeouts",
        "_session",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        read_timeouts: Mapping[str, float] = READ_TIMEOUTS,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._read_timeouts = {name.lower(): value for name, value in read_timeouts.items()}
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | object | None = BaseRequest.DEFAULT_NONE,
        write_timeout: float | object | None = BaseRequest.DEFAULT_NONE,
        connect_timeout: float | object | None = BaseRequest.DEFAULT_NONE,
        pool_timeout: float | object | None = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        read = self._chosen(read_timeout, self.read_timeout_for(url, request_data))
        connect = self._chosen(connect_timeout, self._connect_timeout)
        pool = self._chosen(pool_timeout, self._pool_timeout)
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with self._session.request(
                method, url, data=self._body(request_data), timeout=timeout
            ) as response:
                return response.status, await response.read()
        except _NOT_SENT as error:
            raise RequestNotSent(self._describe(error)) from error
        except (TimeoutError, aiohttp.ClientError) as error:
            raise AnswerLost(self._describe(error)) from error

    def read_timeout_for(self, url: str, request_data: RequestData | None) -> float | None:
        """The method's own read timeout, else the upload one for a file, else the default."""
        own = self._read_timeouts.get(method_of(url))
        if own is not None:
            return own
        if request_data is not None and request_data.multipart_data:
            return max(UPLOAD_READ_TIMEOUT, self._read_timeout or 0.0)
        return self._read_timeout

    @staticmethod
    def _describe(error: BaseException) -> str:
        """The error for logs and the outbox: aiohttp quotes the URL, which carries the token."""
        return redact(f"aiohttp.{type(error).__name__}: {error}")

    @staticmethod
    def _chosen(given: float | object | None, default: float | None) -> float | None:
        """PTB passes DefaultValue when the caller chose nothing; None means "no limit"."""
        if isinstance(given, DefaultValue):
            return default
        return given  # type: ignore[return-value]

    @staticmethod
    def _body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
        """Form fields as PTB's HTTPXRequest sends them; multipart when files are attached."""
        if request_data is None:
            return None
        fields = request_data.json_parameters
        files = request_data.multipart_data
        if not files:
            return fields
        form = aiohttp.FormData()
        for name, value in fields.items():
            form.add_field(name, value)
        for name, (filename, content, mime_type) in files.items():
            form.add_field(name, content, filename=filename, content_type=mime_type)
        return form
