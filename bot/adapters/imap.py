"""The organizer mailbox over IMAP: where calendar apps' answers and bounces arrive.

The reader logs in (IMAP_*), selects the folder and hands every mail it has not marked yet
to the handler (`handlers.inbound_mail.apply.handle_mail`), oldest first; then it marks the
mail with the keyword `$AgAssistantDone` (or `\\Seen` on a server that allows no keywords),
so the next look skips it. The handler records applied mail by its Message-ID in the same
transaction as the change, so a crash between the two, or a mark removed by someone else,
still never applies a mail twice. Between looks it waits for the server's push (IDLE) where
offered, and looks again every IMAP_POLL_SECONDS in any case.

It translates only: what a mail means is the handler's business (and the handler never
raises for what a mail says). A lost connection, a server restart or an error reconnects
with growing pauses (1 s … 5 min); a mail the handler fails on (e.g. the database is down)
is left unmarked and tried again at the next look, while the other mail goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aioimaplib import aioimaplib

from bot.core.redact import register_secret
from bot.core.settings import Settings

log = logging.getLogger(__name__)

DONE_KEYWORD = "$AgAssistantDone"
SEEN = "\\Seen"
MAX_MAIL_BYTES = 10 * 1024 * 1024  # a calendar answer or a bounce is a few kB
IDLE_SECONDS = 25 * 60  # servers drop IDLE after 30 minutes (RFC 2177): renew before
COMMAND_TIMEOUT = 30.0
MAX_PAUSE = 300.0

MailHandler = Callable[[bytes], Awaitable[object]]

_FETCH_HEAD = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class ImapError(RuntimeError):
    """The server refused a command (login, select, fetch, store)."""


@dataclass(frozen=True, slots=True)
class ImapConfig:
    host: str
    port: int
    user: str
    password: str
    tls: bool = True
    folder: str = "INBOX"
    poll_seconds: float = 60.0
    idle_seconds: float = IDLE_SECONDS
    timeout: float = COMMAND_TIMEOUT

    @classmethod
    def from_settings(cls, settings: Settings) -> ImapConfig:
        assert settings.imap_host and settings.imap_user and settings.imap_password
        return cls(
            host=settings.imap_host,
            port=settings.imap_port_or_default,
            user=settings.imap_user,
            password=settings.imap_password,
            tls=settings.imap_tls,
            folder=settings.imap_folder,
            poll_seconds=settings.imap_poll_seconds,
        )


class ImapReader:
    """Reads the mailbox until `stop` is set; `run` never raises for server or mail trouble."""

    def __init__(self, config: ImapConfig, handle: MailHandler) -> None:
        self.config = config
        self.handle = handle
        self.failures: dict[int, int] = {}  # UID -> failed attempts, for the log only
        self.connected = asyncio.Event()  # set while logged in and the folder is selected
        self.idling = asyncio.Event()  # set while waiting for the server's push (IDLE)
        register_secret(config.password)

    async def run(self, stop: asyncio.Event) -> None:
        pause = 1.0
        while not stop.is_set():
            try:
                await self._session(stop)
                pause = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # network, TLS, protocol, server errors: reconnect
                if self.connected.is_set():
                    pause = 1.0  # it worked until now: the pauses start small again
                log.warning(
                    "IMAP %s:%d: %s; connecting again in %.0f s",
                    self.config.host,
                    self.config.port,
                    _describe(exc),
                    pause,
                )
            finally:
                self.connected.clear()
            if stop.is_set():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
            pause = min(pause * 2, MAX_PAUSE)

    async def _session(self, stop: asyncio.Event) -> None:
        lost = asyncio.Event()
        config = self.config
        client = aioimaplib.IMAP4(
            host=config.host,
            port=config.port,
            timeout=config.timeout,
            conn_lost_cb=lambda _exc: lost.set(),
            ssl_context=ssl.create_default_context() if config.tls else None,
        )
        try:
            await client.wait_hello_from_server()
            _ok(await client.login(config.user, config.password), "LOGIN")
            selected = _ok(await client.select(_mailbox(config.folder)), "SELECT")
            keyword = _keywords_allowed(selected.lines)
            log.info(
                "reading IMAP folder %s on %s (%s)",
                config.folder,
                config.host,
                "push" if client.has_capability("IDLE") else f"every {config.poll_seconds:g} s",
            )
            self.connected.set()
            while not stop.is_set():
                if lost.is_set():
                    raise ConnectionError("connection lost")
                await self._drain(client, keyword)
                if client.has_capability("IDLE"):
                    await self._idle(client, stop, lost)
                else:
                    await _first(stop.wait(), lost.wait(), within=config.poll_seconds)
        finally:
            await _close(client, lost)

    async def _drain(self, client: aioimaplib.IMAP4, keyword: bool) -> None:
        """Hand every unmarked mail to the handler, oldest first, and mark it."""
        criterion = f"UNKEYWORD {DONE_KEYWORD}" if keyword else "UNSEEN"
        found = _ok(await client.uid_search(criterion, charset=None), "SEARCH")
        uids = sorted({int(n) for line in found.lines for n in _numbers(line)})
        if not uids:
            return
        sizes = await self._sizes(client, uids)
        for uid in uids:
            if sizes.get(uid, 0) > MAX_MAIL_BYTES:
                log.warning("IMAP: mail %d is %d bytes, too large to be an answer", uid, sizes[uid])
            elif not await self._handle_one(client, uid):
                continue  # left unmarked: tried again at the next look
            flag = DONE_KEYWORD if keyword else SEEN
            _ok(await client.uid("store", str(uid), "+FLAGS.SILENT", f"({flag})"), "STORE")

    async def _sizes(self, client: aioimaplib.IMAP4, uids: list[int]) -> dict[int, int]:
        response = _ok(await client.uid("fetch", _uid_set(uids), "(RFC822.SIZE)"), "FETCH")
        sizes: dict[int, int] = {}
        for line in response.lines:
            if isinstance(line, bytes | bytearray):
                uid, size = _FETCH_HEAD.search(line), _SIZE.search(line)
                if uid and size:
                    sizes[int(uid.group(1))] = int(size.group(1))
        return sizes

    async def _handle_one(self, client: aioimaplib.IMAP4, uid: int) -> bool:
        """True when the mail is done with; False leaves it for the next look."""
        response = _ok(await client.uid("fetch", str(uid), "(BODY.PEEK[])"), "FETCH")
        raw = next((bytes(line) for line in response.lines if isinstance(line, bytearray)), None)
        if raw is None:
            return True  # expunged meanwhile, or the server sent no body: nothing to do
        try:
            await self.handle(raw)
        except Exception:
            # Left unmarked, so an answer is not lost while e.g. the database is down; the
            # other mail goes on. The traceback once, then a line every 10th attempt.
            attempts = self.failures.get(uid, 0) + 1
            self.failures[uid] = attempts
            if attempts == 1:
                log.exception("IMAP: could not handle mail %d; trying again later", uid)
            elif attempts % 10 == 0:
                log.warning("IMAP: mail %d still fails after %d attempts", uid, attempts)
            return False
        self.failures.pop(uid, None)
        return True

    async def _idle(
        self, client: aioimaplib.IMAP4, stop: asyncio.Event, lost: asyncio.Event
    ) -> None:
        """Wait for new mail, then end IDLE. Also after IMAP_POLL_SECONDS at the latest: a
        server tells of each arrival once, and one told while the reader was busy with a
        command is lost to it (aioimaplib drops unsolicited EXISTS then); looking again
        regularly finds such mail."""
        wait = min(self.config.idle_seconds, self.config.poll_seconds)
        idle = await client.idle_start(timeout=wait)
        self.idling.set()
        try:
            while not stop.is_set() and not lost.is_set():
                push = asyncio.ensure_future(client.wait_server_push(wait + 5))
                done = await _first(push, stop.wait(), lost.wait(), within=None)
                if push not in done:
                    break
                lines = push.result()
                if lines == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    break  # renew IDLE
                if any(b"BYE" in line for line in _byte_lines(lines)):
                    raise ConnectionError("the server is shutting down")
                if any(b"EXISTS" in line for line in _byte_lines(lines)):
                    break  # new mail
        finally:
            self.idling.clear()
            if client.has_pending_idle() and not lost.is_set():
                client.idle_done()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(idle, self.config.timeout)
            if not idle.done():
                idle.cancel()
        if lost.is_set():
            raise ConnectionError("connection lost")


async def _first(*waitables: Awaitable[object], within: float | None) -> set[asyncio.Future]:
    """Wait until the first of several awaitables completes; cancel the helper waits."""
    futures = [asyncio.ensure_future(w) for w in waitables]
    try:
        done, _ = await asyncio.wait(futures, timeout=within, return_when="FIRST_COMPLETED")
    finally:
        for future in futures:
            if not future.done():
                future.cancel()
    return done


async def _close(client: aioimaplib.IMAP4, lost: asyncio.Event) -> None:
    if not lost.is_set():
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.logout(), 5)
    transport = getattr(client.protocol, "transport", None)
    if transport is not None:
        transport.close()


def _ok(response: aioimaplib.Response, command: str) -> aioimaplib.Response:
    if response.result != "OK":
        detail = b" ".join(bytes(line) for line in response.lines[-1:]).decode(errors="replace")
        raise ImapError(f"{command} refused: {detail[:200]}")
    return response


def _keywords_allowed(lines: list[bytes]) -> bool:
    """Whether the folder keeps keywords of our own (`\\*` in PERMANENTFLAGS)."""
    for line in _byte_lines(lines):
        if b"PERMANENTFLAGS" in line:
            return b"\\*" in line
    return False


def _byte_lines(lines: object) -> list[bytes]:
    if not isinstance(lines, list):
        return []
    return [bytes(line) for line in lines if isinstance(line, bytes | bytearray)]


def _numbers(line: object) -> list[bytes]:
    if not isinstance(line, bytes) or not line.strip():
        return []
    words = line.split()
    return words if all(word.isdigit() for word in words) else []


def _uid_set(uids: list[int]) -> str:
    return ",".join(str(uid) for uid in uids)


def _mailbox(name: str) -> str:
    """A folder name as an IMAP quoted string (spaces and quotes are allowed in names)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:300]
