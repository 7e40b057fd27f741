"""A real SMTP server for the tests and the e-mail benchmark: aiosmtpd on 127.0.0.1.

It keeps every accepted mail (envelope and bytes) and can be told to answer RCPT TO with a
temporary (451) or permanent (550) refusal, or to drop the connection at DATA, so the
sender's retry and failure paths meet a real server's real answers.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from enum import StrEnum
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPProtocol


class Mode(StrEnum):
    ACCEPT = "accept"
    TEMPORARY = "temporary"  # 451 to RCPT TO
    PERMANENT = "permanent"  # 550 to RCPT TO
    DROP = "drop"  # the connection is cut when DATA arrives


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class CapturingHandler:
    mode: Mode = Mode.ACCEPT
    refused: set[str] = field(default_factory=set)  # addresses always answered with 550
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(
        self, server: SMTPProtocol, session: Any, envelope: Any, hostname: str, responses: list
    ) -> list[str]:
        session.host_name = hostname
        with self.lock:
            self.connections += 1
        return responses

    async def handle_RCPT(
        self, server: SMTPProtocol, session: Any, envelope: Any, address: str, options: list
    ) -> str:
        if self.mode is Mode.TEMPORARY:
            return "451 4.3.0 Mailbox temporarily unavailable, try again later"
        if self.mode is Mode.PERMANENT or address.lower() in self.refused:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPProtocol, session: Any, envelope: Any) -> str:
        if self.mode is Mode.DROP:
            server.transport.close()
            return "421 closing"
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    """Started on a free port of 127.0.0.1 in its own thread; `stop()` ends it."""

    def __init__(self, handler: CapturingHandler | None = None) -> None:
        self.handler = handler or CapturingHandler()
        self._controller = Controller(
            self.handler, hostname="127.0.0.1", port=free_port(), decode_data=False
        )

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def port(self) -> int:
        return int(self._controller.port)

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def set_mode(self, mode: Mode) -> None:
        self.handler.mode = mode


async def deliver_mail(core: Any, server: SmtpServer, **settings: object) -> list[Received]:
    """Run the outbox's e-mail rows through the real SMTP sender to `server`; returns what
    the server received in this run. `core` is a `bot.app.Core`; `settings` override its."""
    from bot.adapters.email.sender import SmtpSender
    from bot.core.settings import load_settings
    from bot.outbox.worker import DeliveryWorker, WorkerPolicy

    before = len(server.received)
    values: dict[str, object] = {
        "database_url": core.settings.database_url,
        "smtp_host": "127.0.0.1",
        "smtp_port": server.port,
        "smtp_security": "plain",
        "mail_from": "AG-Assistent <ag@bot.example.org>",
        "mail_per_minute": 60_000,
        "_env_file": None,
        **settings,
    }
    sender = SmtpSender(load_settings(**values), core.services.clock)
    worker = DeliveryWorker(
        core.services.sessions,
        {"email": sender},
        core.services.clock,
        WorkerPolicy(poll_seconds=0.05),
    )
    try:
        await worker.run_once()
    finally:
        await sender.close()
    return server.received[before:]


async def confirm_address(chat: Any, server: SmtpServer, who: Any, address: str) -> str:
    """`who` sends `/email address` in their private chat, the code mail goes through
    `server`, and they confirm with the code from it; returns the code. `chat` is a
    `tests.harness.Conversation`."""
    import re

    from tests.harness import dm

    await chat.say(who, f"/email {address}", dm(who))
    [mail] = await deliver_mail(chat.core, server)
    found = re.search(r"\b(\d{6})\b", mail.message()["Subject"])
    assert found is not None, mail.message()["Subject"]
    await chat.say(who, f"/email {found.group(1)}", dm(who))
    return found.group(1)
