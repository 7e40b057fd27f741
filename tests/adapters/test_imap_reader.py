"""The IMAP reader on its own, against a real Dovecot: order, marks, failures, secrets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from bot.adapters.imap import DONE_KEYWORD, ImapConfig, ImapReader, _keywords_allowed
from bot.core.redact import REDACTED, redact
from tests.dovecot import Dovecot, Mailbox


def config(box: Mailbox, **changes: object) -> ImapConfig:
    values: dict[str, object] = {
        "host": box.host,
        "port": box.port,
        "user": box.user,
        "password": box.password,
        "tls": False,
        "poll_seconds": 1.0,
    }
    values.update(changes)
    return ImapConfig(**values)  # type: ignore[arg-type]


def mail(n: int) -> bytes:
    return f"From: a@example.org\r\nSubject: {n}\r\nMessage-ID: <{n}@x>\r\n\r\n{n}\r\n".encode()


async def until(condition, seconds: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


@contextlib.asynccontextmanager
async def reading(reader: ImapReader):  # type: ignore[no-untyped-def]
    stop = asyncio.Event()
    task = asyncio.create_task(reader.run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


async def test_mail_is_handed_over_oldest_first_and_marked_without_reading_it(
    dovecot: Dovecot, mailbox: Mailbox
) -> None:
    for n in (1, 2, 3):
        dovecot.append(mailbox, mail(n))
    seen: list[bytes] = []

    async def handle(raw: bytes) -> None:
        seen.append(raw)

    async with reading(ImapReader(config(mailbox), handle)):
        await until(lambda: asyncio.to_thread(lambda: len(seen) == 3))
        await until(
            lambda: asyncio.to_thread(
                lambda: all(DONE_KEYWORD in f for f in dovecot.flags(mailbox))
            )
        )
    assert [raw.split(b"Subject: ")[1][:1] for raw in seen] == [b"1", b"2", b"3"]
    # marked as ours, not as read: a person looking into the mailbox still sees it unread
    assert all("\\Seen" not in flags for flags in dovecot.flags(mailbox))


async def test_a_mail_the_handler_fails_on_waits_and_the_others_go_on(
    dovecot: Dovecot, mailbox: Mailbox
) -> None:
    dovecot.append(mailbox, mail(1))
    dovecot.append(mailbox, mail(2))
    handled: list[bytes] = []
    broken = True

    async def handle(raw: bytes) -> None:
        if broken and b"Subject: 1" in raw:
            raise RuntimeError("database is down")
        handled.append(raw)

    async with reading(ImapReader(config(mailbox), handle)):
        await until(lambda: asyncio.to_thread(lambda: len(handled) == 1))
        flags = await asyncio.to_thread(dovecot.flags, mailbox)
        assert DONE_KEYWORD not in flags[0] and DONE_KEYWORD in flags[1]
        broken = False  # the database is back: the next look hands it over again
        await until(lambda: asyncio.to_thread(lambda: len(handled) == 2))
    assert b"Subject: 1" in handled[1]


async def test_a_wrong_password_is_retried_and_never_logged(
    dovecot: Dovecot, mailbox: Mailbox, caplog
) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    reader = ImapReader(config(mailbox, password="wrong-password-1234"), _nothing)
    # registered for the log filter the bot installs at start (bot.cli.configure_logging)
    assert redact("login wrong-password-1234") == f"login {REDACTED}"
    async with reading(reader):
        await until(lambda: _async(lambda: "LOGIN refused" in caplog.text))
    assert not reader.connected.is_set()
    assert "again in" in caplog.text  # it keeps trying, with pauses
    assert "wrong-password-1234" not in caplog.text  # not even aioimaplib's DEBUG lines


async def _nothing(raw: bytes) -> None:
    return None


async def _async(check):  # type: ignore[no-untyped-def]
    return check()


def test_a_server_that_keeps_no_keywords_gets_seen_marks_instead() -> None:
    """Dovecot keeps keywords (`\\*` in PERMANENTFLAGS); some servers do not, and there the
    reader marks mail `\\Seen` and looks for UNSEEN mail instead."""
    dovecot_like = [b"OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Ok"]
    strict = [b"OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)] Limited"]
    assert _keywords_allowed(dovecot_like) is True
    assert _keywords_allowed(strict) is False
    assert _keywords_allowed([b"[READ-ONLY] Select completed"]) is False
