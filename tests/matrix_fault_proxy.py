"""A misbehaving network between the bot and the suite's Synapse (tests/matrix_server.py).

`FaultProxy(synapse.base_url)` listens on 127.0.0.1 and passes every request through, except
where a rule says otherwise. Faults, in the order a request meets them:

- REFUSE: the proxy stops listening (`await proxy.refuse()` … `await proxy.resume()`):
  connection refused, nothing reaches the homeserver.
- UNAVAILABLE: answer 503 without passing the request on (not processed).
- LIMIT: answer 429 M_LIMIT_EXCEEDED with `retry_after_ms` (not processed).
- DELAY: pass the request on, then hold the homeserver's answer for `seconds` (processed,
  answered late: the client may give up first).
- RESET: pass the request on, then send the first bytes of the answer and cut the
  connection (processed, answer lost mid-response).
- MALFORMED: pass the request on, then answer 200 with a body that is not JSON (processed,
  answer unreadable).

Rules match a path fragment (e.g. "/send/") and a method, and fire a number of `times`, or
with a `probability` drawn from the proxy's seeded random generator. `log` records what was
done to which request; `cut_after_processing` counts requests the homeserver processed but
whose answer the client did not get intact (RESET, MALFORMED, and DELAY longer than the
client waited is counted by the caller). `upstream_limit_exceeded` counts the homeserver's
own M_LIMIT_EXCEEDED answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import random
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from tests.ports import free_port


class Fault(enum.Enum):
    UNAVAILABLE = "unavailable"
    LIMIT = "limit"
    DELAY = "delay"
    RESET = "reset"
    MALFORMED = "malformed"


_BEFORE = {Fault.UNAVAILABLE, Fault.LIMIT}  # answered without passing the request on
_HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


@dataclass
class Rule:
    fault: Fault
    path: str = "/send/"
    method: str | None = "PUT"
    times: int | None = 1  # None: until removed
    probability: float = 1.0
    seconds: float = 0.0  # DELAY: how long; LIMIT: retry_after
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        return self.path in path and (self.method is None or self.method == method)


@dataclass
class Applied:
    fault: Fault
    method: str
    path: str


@dataclass
class FaultProxy:
    upstream: str
    seed: int = 0
    rules: list[Rule] = field(default_factory=list)
    log: list[Applied] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    upstream_limit_exceeded: int = 0
    port: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._client: aiohttp.ClientSession | None = None
        self._open: set[asyncio.Transport] = set()  # connections with a request in progress
        self._down = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> FaultProxy:
        self._client = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None), auto_decompress=False
        )
        app = web.Application(client_max_size=100 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        self.port = self.port or free_port()
        await self.resume()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._client is not None:
            await self._client.close()

    async def __aenter__(self) -> FaultProxy:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def refuse(self) -> None:
        """An outage: stop listening, so connecting is refused, and close every connection,
        idle keep-alive ones and those with a request in progress (a sync's long poll)."""
        self._down = True
        if self._site is not None:
            await self._site.stop()
            self._site = None
        assert self._runner is not None and self._runner.server is not None
        for handler in list(self._runner.server.connections):
            handler.force_close()
        for transport in list(self._open):
            transport.abort()
        self._open.clear()

    async def resume(self) -> None:
        assert self._runner is not None
        self._down = False
        if self._site is None:
            self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
            await self._site.start()

    # -- rules -------------------------------------------------------------------------------

    def add(self, fault: Fault, **options: object) -> Rule:
        rule = Rule(fault, **options)  # type: ignore[arg-type]
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def applied(self, fault: Fault) -> int:
        return sum(1 for a in self.log if a.fault is fault)

    @property
    def cut_after_processing(self) -> int:
        return self.applied(Fault.RESET) + self.applied(Fault.MALFORMED)

    def _pick(self, method: str, path: str) -> Rule | None:
        for rule in self.rules:
            if rule.matches(method, path) and (
                rule.probability >= 1.0 or self._random.random() < rule.probability
            ):
                rule.fired += 1
                self.log.append(Applied(rule.fault, method, path))
                return rule
        return None

    # -- the proxy ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        transport = request.transport
        if self._down and transport is not None:  # slipped in as the outage began
            transport.abort()
            return web.Response(status=503)
        if transport is not None:
            self._open.add(transport)  # type: ignore[arg-type]
        try:
            return await self._answer(request)
        finally:
            self._open.discard(transport)  # type: ignore[arg-type]

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        path = request.path_qs
        self.requests[request.method] += 1
        rule = self._pick(request.method, request.path)
        body = await request.read()
        if rule is not None and rule.fault in _BEFORE:
            return self._refusal(rule)
        assert self._client is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with self._client.request(
            request.method, self.upstream + path, data=body, headers=headers
        ) as upstream:
            payload = await upstream.read()
            status = upstream.status
            content_type = upstream.headers.get("Content-Type", "application/json")
        if status == 429:
            self.upstream_limit_exceeded += 1
        if rule is not None and rule.fault is Fault.DELAY:
            await asyncio.sleep(rule.seconds)
        elif rule is not None and rule.fault is Fault.RESET:
            return await self._cut(request, status, payload)
        elif rule is not None and rule.fault is Fault.MALFORMED:
            return web.Response(status=200, body=b"<html>502 Bad Gatew", content_type="text/html")
        return web.Response(status=status, body=payload, headers={"Content-Type": content_type})

    @staticmethod
    def _refusal(rule: Rule) -> web.Response:
        if rule.fault is Fault.LIMIT:
            retry_ms = int((rule.seconds or 1.0) * 1000)
            return web.json_response(
                {
                    "errcode": "M_LIMIT_EXCEEDED",
                    "error": "Too Many Requests",
                    "retry_after_ms": retry_ms,
                },
                status=429,
            )
        return web.Response(status=503, text="Service Unavailable (fault proxy)")

    @staticmethod
    async def _cut(request: web.Request, status: int, payload: bytes) -> web.StreamResponse:
        """Send the status line, the headers and half the body, then reset the connection."""
        transport = request.transport
        assert transport is not None
        head = (
            f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        ).encode()
        transport.write(head + payload[: len(payload) // 2])
        with contextlib.suppress(Exception):
            await request.protocol.writer.drain()  # type: ignore[union-attr]
        await asyncio.sleep(0.05)
        transport.abort()
        return web.Response()  # goes nowhere: the connection is gone
