"""python-telegram-bot's HTTP transport on aiohttp instead of httpx.

PTB lets an application supply its own `BaseRequest`. Measured here, one sendMessage costs
about 1.3 ms of CPU through PTB's default httpx transport and about 0.3 ms through aiohttp
(already a dependency of ours). For a bot whose work per command is a few database
statements, the transport was the larger half of the cost: bench/throughput.py shows it.
Behaviour follows PTB's HTTPXRequest: same timeouts (aiohttp has no write timeout), same
errors (TimedOut, NetworkError), multipart uploads for files.
"""

from __future__ import annotations

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.core.redact import redact


class AiohttpRequest(BaseRequest):
    __slots__ = (
        "_connect_timeout",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
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
        read = self._chosen(read_timeout, self._read_timeout)
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
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            # aiohttp quotes the URL, and the URL carries the bot token.
            raise NetworkError(redact(f"aiohttp.{type(error).__name__}: {error}")) from error

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
