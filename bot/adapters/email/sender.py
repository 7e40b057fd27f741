"""E-mail as a `Sender` of the delivery worker: SMTP, or `.eml` files without a server.

The worker does the rest (claiming, pacing to MAIL_PER_MINUTE, backoff, never twice, chunks
of rows); this module turns outbox rows into mails and classifies what the server answered:
4xx and connection trouble are retried, a refused mailbox (5xx to RCPT TO) fails the row
with `MAILBOX_REFUSED` in its error, which the mail sweep turns into "address unreachable"
and a note to the admins (handlers/email/failures.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path

import aiosmtplib
from email_validator import EmailNotValidError, validate_email

from bot.core.clock import Clock, SystemClock
from bot.core.mail import MAIL_PLATFORM, MAILBOX_REFUSED, from_outgoing
from bot.core.messages import OutgoingMessage
from bot.core.settings import Settings, SmtpSecurity
from bot.outbox.pacing import SendWindow
from bot.outbox.ports import DeliveryLimits, PermanentFailure, TransientFailure

from .mime import message_id, render_mail

log = logging.getLogger(__name__)

# A kept-open connection unused this long is checked with NOOP before the next mail: servers
# close idle connections, and a mail must not be the thing that finds out.
IDLE_CHECK_SECONDS = 30.0


def mail_limits(per_minute: float) -> DeliveryLimits:
    """MAIL_PER_MINUTE overall; one address gets at most one mail a second."""
    return DeliveryLimits(
        global_per_second=per_minute / 60.0, per_chat_per_second=1.0, per_group_per_minute=60.0
    )


def sender_address(value: str) -> Address:
    name, address = parseaddr(value)
    local, _, domain = address.rpartition("@")
    return Address(display_name=name, username=local, domain=domain)


class _MailSender:
    """What both senders share: turning a row into a mail's bytes."""

    platform = MAIL_PLATFORM
    replies: SendWindow | None = None

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.limits = mail_limits(settings.mail_per_minute)
        self.sender = sender_address(settings.mail_from)
        self.envelope_from = self.sender.addr_spec
        self.domain = self.sender.domain or "localhost"
        self.clock = clock or SystemClock()

    def is_group_chat(self, chat_id: str) -> bool:
        return False

    def build(
        self, address: str, message: OutgoingMessage, key: str | None
    ) -> tuple[bytes, str, str]:
        """The mail's bytes, its Message-ID and the address it goes to on the wire
        (`smtp_address`; PermanentFailure for one that cannot be carried)."""
        now = self.clock.now()
        msgid = message_id(key or f"direct-{now.timestamp():.6f}", self.domain)
        recipient = smtp_address(address)
        data = render_mail(
            from_outgoing(message), sender=self.sender, recipient=recipient, msgid=msgid, date=now
        )
        return data, msgid, recipient


def smtp_address(address: str) -> str:
    """The address as SMTP and the To header carry it without SMTPUTF8: a domain with
    umlauts in its IDNA form (`anna@bücher.de` → `anna@xn--bcher-kva.de`, email-validator's
    `ascii_email`). Umlauts before the @ have no such form: the mailbox counts as refused
    (the admins are told) rather than being retried for days."""
    if address.isascii():
        return address
    try:
        ascii_form = validate_email(address, check_deliverability=False).ascii_email
    except EmailNotValidError as exc:
        raise PermanentFailure(f"{MAILBOX_REFUSED}: not an address: {exc}") from None
    if ascii_form is None:
        raise PermanentFailure(
            f"{MAILBOX_REFUSED}: umlauts before the @ need SMTPUTF8, which the bot does not use"
        )
    return ascii_form


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    security: SmtpSecurity
    username: str | None
    password: str | None
    timeout: float

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        assert settings.smtp_host is not None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port_or_default,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password,
            timeout=settings.smtp_timeout_seconds,
        )


class SmtpSender(_MailSender):
    """One kept-open SMTP connection (STARTTLS, implicit TLS or plain; login if configured),
    one mail at a time over it.

    Not idempotent: SMTP has no way to ask whether a mail arrived, and a server delivers a
    repeated Message-ID again (the recipient sees a copy). A row whose sending a crash cut
    short is therefore marked `uncertain` and reported to the admins, as Telegram's are.
    `serial`: the worker attempts one row of ours at a time (or one chunk, `deliver_many`),
    so a crash leaves only the mails in flight uncertain, not every row that waited for the
    connection.
    """

    idempotent = False
    serial = True

    def __init__(
        self, settings: Settings, clock: Clock | None = None, config: SmtpConfig | None = None
    ) -> None:
        super().__init__(settings, clock)
        self.config = config or SmtpConfig.from_settings(settings)
        self._smtp: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()
        self._last_used = 0.0

    async def _connection(self) -> aiosmtplib.SMTP:
        loop = asyncio.get_running_loop()
        smtp = self._smtp
        if smtp is not None and smtp.is_connected:
            if loop.time() - self._last_used < IDLE_CHECK_SECONDS:
                return smtp
            try:
                await smtp.noop()
                return smtp
            except (aiosmtplib.SMTPException, OSError):
                await self.close()
        config = self.config
        smtp = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            use_tls=config.security is SmtpSecurity.TLS,
            start_tls=config.security is SmtpSecurity.STARTTLS,
            username=config.username,
            password=config.password,
            timeout=config.timeout,
        )
        await smtp.connect()
        self._smtp = smtp
        return smtp

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None and smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()

    async def deliver(
        self, chat_id: str, message: OutgoingMessage, *, key: str | None = None
    ) -> str | None:
        data, msgid, recipient = self.build(chat_id, message, key)
        async with self._lock:
            await self._send(recipient, data)
        return msgid[:64]

    async def deliver_many(
        self, items: Sequence[tuple[str, OutgoingMessage, str]]
    ) -> list[str | Exception]:
        """Send (address, message, key) one after another over the connection; per item its
        Message-ID or the classified error (DeliveryError) — one failure stops nothing.

        All bytes are built first (~20 µs a mail, see mime.py), then sent in a plain loop:
        overlapping each build with the previous mail's round trip took a task and a turn
        of the event loop per mail, which cost more than the build now does.
        """
        prepared: list[tuple[bytes, str, str] | Exception] = []
        for item in items:
            try:
                prepared.append(self.build(*item))
            except PermanentFailure as exc:  # that address only
                prepared.append(exc)
        results: list[str | Exception] = []
        async with self._lock:
            for entry in prepared:
                if isinstance(entry, Exception):
                    results.append(entry)
                    continue
                data, msgid, recipient = entry
                try:
                    await self._send(recipient, data)
                except Exception as exc:
                    results.append(exc)
                else:
                    results.append(msgid[:64])
        return results

    async def _send(self, address: str, data: bytes) -> None:
        """One mail over the kept-open connection (the caller holds the lock)."""
        try:
            smtp = await self._connection()
            await smtp.sendmail(self.envelope_from, [address], data)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0]
            raise _classified(refused.code, refused.message, mailbox=True) from None
        except aiosmtplib.SMTPAuthenticationError as exc:
            await self.close()
            raise TransientFailure(f"SMTP login refused: {exc.code} {exc.message}") from None
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == 421 or self._smtp is None or not self._smtp.is_connected:
                await self.close()  # 421: the server is closing the connection
            raise _classified(exc.code, exc.message, mailbox=False) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self.close()
            raise TransientFailure(f"SMTP connection: {type(exc).__name__}: {exc}") from None
        finally:
            self._last_used = asyncio.get_running_loop().time()


def _classified(code: int, text: str, *, mailbox: bool) -> Exception:
    """4xx: try again later; 5xx: permanent — for RCPT TO, the mailbox itself."""
    detail = f"{code} {' '.join(text.split())}"
    if 400 <= code < 500:
        return TransientFailure(f"SMTP {detail}")
    if mailbox:
        return PermanentFailure(f"{MAILBOX_REFUSED}: {detail}")
    return PermanentFailure(f"SMTP {detail}")


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class EmlSender(_MailSender):
    """No SMTP server configured: every mail becomes `<folder>/<row key>.eml`.

    The same row always writes the same file (replaced atomically), so a repeated delivery
    is harmless; a mail client opens the file, and the whole flow works on a fresh machine.
    """

    idempotent = True

    def __init__(self, settings: Settings, folder: Path, clock: Clock | None = None) -> None:
        super().__init__(settings, clock)
        self.folder = folder

    async def deliver(
        self, chat_id: str, message: OutgoingMessage, *, key: str | None = None
    ) -> str | None:
        data, _, _ = self.build(chat_id, message, key)
        name = _UNSAFE.sub("_", key or datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")) + ".eml"
        await asyncio.to_thread(self._write, name, data)
        return name[:64]

    def _write(self, name: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.folder / f".{name}.tmp"
        temporary.write_bytes(data)
        os.replace(temporary, self.folder / name)

    async def close(self) -> None:
        return None


def default_mail_dir(settings: Settings) -> Path:
    """MAIL_DIR, else a `mail` folder next to an SQLite database, else `./mail`."""
    if settings.mail_dir:
        return Path(settings.mail_dir).expanduser().resolve()
    url = settings.database_url
    scheme, _, rest = url.partition("://")
    if scheme.startswith("sqlite") and rest.startswith("/"):
        path = rest[1:].split("?", 1)[0]
        if path and path != ":memory:":
            return (Path(path).expanduser().resolve().parent / "mail").resolve()
    return Path("mail").resolve()


def mail_sender(settings: Settings, clock: Clock | None = None) -> SmtpSender | EmlSender:
    """SMTP when SMTP_HOST is set, else `.eml` files (and the console says where)."""
    if settings.smtp_host:
        log.info(
            "e-mail goes out through %s:%d (%s)",
            settings.smtp_host,
            settings.smtp_port_or_default,
            settings.smtp_security.value,
        )
        return SmtpSender(settings, clock)
    folder = default_mail_dir(settings)
    log.warning("no SMTP_HOST set: e-mails are written as .eml files to %s", folder)
    return EmlSender(settings, folder, clock)
