"""MIME assembly of one outbox mail; pure (the date and Message-ID are passed in).

Layout, the one calendar clients (Outlook, Thunderbird, Apple Mail, Gmail) show with
accept/decline buttons (iMIP, RFC 6047): `multipart/alternative` of text, HTML and
`text/calendar; method=…`. Files go next to it in a `multipart/mixed`.

Built with the `email.mime` classes and the `compat32` policy: `EmailMessage` with the
modern policy parses every header it sets back into a tree and creates a header class per
header on each call, which took ~1.3 ms a mail — more than sending it. Here the headers
are written already encoded (RFC 2047 words, RFC 2231 file names) and cost next to nothing;
the result parses the same with either policy (tests/adapters/test_email_sender.py).
"""

from __future__ import annotations

import hashlib
import html
from datetime import datetime
from email import encoders
from email.charset import QP, Charset
from email.header import Header
from email.headerregistry import Address
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32
from email.utils import format_datetime, formataddr

from bot.core.mail import MailContent
from bot.core.messages import Document


class _Wire(Compat32):
    """compat32 with CRLF line ends, writing a short ASCII header as it is: compat32 makes a
    `Header` object to fold every header, the largest part of what writing a mail cost."""

    def _fold(self, name: str, value: object, sanitize: bool) -> str:
        if (
            isinstance(value, str)
            and value.isascii()
            and len(name) + len(value) + 2 <= 78
            and "\n" not in value
            and "\r" not in value
        ):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)  # type: ignore[misc]


# How a built mail becomes bytes for SMTP and .eml files.
WIRE = _Wire(linesep="\r\n")

# Text parts as quoted-printable UTF-8: 7-bit clean for every relay, and readable in the raw.
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP


def text_to_html(text: str, language: str) -> str:
    """A readable HTML twin of a plain text: paragraphs, line breaks, nothing executable."""
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    body = "\n".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(language)}"><head>'
        '<meta charset="utf-8"></head>\n'
        f"<body>\n{body}\n</body></html>\n"
    )


def message_id(key: str, domain: str) -> str:
    """`<outbox-12@example.org>`: the same for every attempt at one outbox row, so a mail
    sent again after an uncertain attempt is recognisable as the same one."""
    return f"<{key}@{domain}>"


def _text_part(text: str, subtype: str, **params: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype, **params)
    part.set_payload(text.replace("\r\n", "\n"), _UTF8)
    del part["MIME-Version"]  # only the top of the message says it
    return part


def _header(value: str, name: str) -> str | Header:
    """A header value as is when it is ASCII, else as RFC 2047 encoded words."""
    return value if value.isascii() else Header(value, "utf-8", header_name=name)


def _filename(name: str) -> str | tuple[str, str, str]:
    """A file name as is when it is ASCII, else RFC 2231 (`filename*=utf-8''…`)."""
    return name if name.isascii() else ("utf-8", "", name)


def _attachment(document: Document) -> Message:
    maintype, _, subtype = document.mime_type.partition(";")[0].strip().partition("/")
    part: Message
    if maintype == "text":  # with its charset, or umlauts arrive as mojibake
        part = _text_part(document.content.decode("utf-8", errors="replace"), subtype or "plain")
    else:
        part = MIMEBase(maintype or "application", subtype or "octet-stream")
        del part["MIME-Version"]
        part.set_payload(document.content)
        encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=_filename(document.filename))
    return part


def _boundaries(msgid: str) -> tuple[str, str]:
    """The multipart boundaries of one mail, derived from its Message-ID: the generator
    would otherwise invent one and compile a regular expression to search the whole body
    for it. `=_` never occurs in quoted-printable or base64 text, so no part can contain
    them; the same row always gives the same bytes."""
    tag = hashlib.sha256(msgid.encode("utf-8")).hexdigest()[:24]
    return f"=_alt_{tag}", f"=_mix_{tag}"


def build_mail(
    content: MailContent,
    *,
    sender: Address,
    recipient: str,
    msgid: str,
    date: datetime,
) -> Message:
    alternative_boundary, mixed_boundary = _boundaries(msgid)
    alternative = MIMEMultipart("alternative", boundary=alternative_boundary)
    alternative.attach(_text_part(content.text, "plain"))
    alternative.attach(
        _text_part(content.html or text_to_html(content.text, content.language), "html")
    )
    if content.calendar is not None:
        alternative.attach(
            _text_part(
                content.calendar.decode("utf-8"), "calendar", method=content.method or "REQUEST"
            )
        )
    message: Message = alternative
    if content.attachments:
        message = MIMEMultipart("mixed", boundary=mixed_boundary)
        del alternative["MIME-Version"]
        message.attach(alternative)
        for document in content.attachments:
            message.attach(_attachment(document))
    message["From"] = formataddr((sender.display_name, sender.addr_spec), charset="utf-8")
    message["To"] = _header(recipient, "To")
    message["Subject"] = _header(content.subject, "Subject")
    message["Date"] = format_datetime(date)
    message["Message-ID"] = msgid
    message["Content-Language"] = content.language
    message["Auto-Submitted"] = "auto-generated"  # no vacation replies to the bot
    return message


def mail_bytes(message: Message) -> bytes:
    """The mail as it goes over SMTP or into an .eml file."""
    return message.as_bytes(policy=WIRE)
