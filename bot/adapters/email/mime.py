"""The wire bytes of one outbox mail; pure (the date and Message-ID are passed in).

Layout, the one calendar clients (Outlook, Thunderbird, Apple Mail, Gmail) show with
accept/decline buttons (iMIP, RFC 6047): `multipart/alternative` of text, HTML and
`text/calendar; method=…`. Files go next to it in a `multipart/mixed`.

Written here as strings, the framing the `email` package's compat32 generator wrote (the
same headers in the same order, folded the same way), with the encodings left to the
standard library: `binascii.b2a_qp` for the quoted-printable UTF-8 text parts, base64 for
files, `email.header.Header` for non-ASCII or long header values, `formataddr`,
`format_datetime`, `encode_rfc2231`. Building `email.mime` objects and running the
generator over them cost ~115 µs a mail, most of the e-mail worker's time: a header
object, a charset lookup and a parameter parse per header and part. The bytes parse the
same with either policy of the `email` package (tests/adapters/test_email_mime.py keeps
the old builder as the oracle).

No value can start a header of its own: line breaks and other control characters in a
subject, name or file name become one space.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.charset import QP, Charset
from email.header import Header
from email.headerregistry import Address
from email.utils import encode_rfc2231, format_datetime, formataddr, quote
from functools import lru_cache
from urllib.parse import quote as percent_encoded

from bot.core.mail import MailContent
from bot.core.messages import Document

CRLF = "\r\n"

# A header line longer than this is folded (compat32's `max_line_length`).
_FOLD_AT = 78
# A line may hold 998 characters (RFC 5322); a parameter longer than this goes in
# RFC 2231 sections so that its line stays below that.
_LONGEST_PARAM = 900
# Quoted-printable lines hold at most 76 characters (RFC 2045).
_QP_LINE = 76

# The fallback quoted-printable encoder, the one the email package uses.
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP

# Line breaks and the other characters that must not reach a header as they are.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
# A MIME type or subtype (RFC 2045 token).
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")

_TEXT_ENCODING = b"Content-Transfer-Encoding: quoted-printable\r\n"
_BASE64_ENCODING = b"Content-Transfer-Encoding: base64\r\n"


def text_to_html(text: str, language: str) -> str:
    """A readable HTML twin of a plain text: paragraphs, line breaks, nothing executable."""
    escaped = html.escape(text.replace("\r\n", "\n"))
    body = "\n".join(
        "<p>" + p.replace("\n", "<br>\n") + "</p>" for p in escaped.split("\n\n") if p.strip()
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


def _boundaries(msgid: str) -> tuple[str, str]:
    """The multipart boundaries of one mail, derived from its Message-ID, so the same row
    always gives the same bytes. `=_` never occurs in quoted-printable or base64 text, so
    no part can contain them."""
    tag = hashlib.sha256(msgid.encode("utf-8")).hexdigest()[:24]
    return f"=_alt_{tag}", f"=_mix_{tag}"


def _one_line(value: str) -> str:
    """The value with every run of line breaks and control characters as one space: a
    CR or LF in a subject or file name would otherwise start a header of its own."""
    if value.isprintable():  # the usual case, and cheap to ask
        return value
    return _CONTROL.sub(" ", value)


def _header(name: str, value: str) -> str:
    """`Name: value` and its CRLF; `value` is ASCII and of one line. Short lines as they
    are, long ones folded by the email package."""
    if len(name) + len(value) + 2 <= _FOLD_AT:
        return f"{name}: {value}{CRLF}"
    return _folded(name, value, False)


def _text_header(name: str, value: str) -> str:
    """A header of free text (subject, recipient): one line, ASCII as it is, anything
    else as RFC 2047 encoded words — also ASCII text that would read as encoded words."""
    value = _one_line(value)
    if value.isascii() and "=?" not in value:
        return _header(name, value)
    return _folded(name, value, True)


@lru_cache(maxsize=512)
def _folded(name: str, value: str, encoded: bool) -> str:
    """The email package's folding (compat32: a `Header` at 78 columns); an ASCII value
    with no place to fold within 998 characters goes as encoded words, which can break
    anywhere. Cached: a group's mails share their subject, every mail the sender."""
    if not encoded:
        folded = Header(value, header_name=name).encode(linesep=CRLF, maxlinelen=_FOLD_AT)
        if len(name) + 2 + max(len(line) for line in folded.split(CRLF)) <= 998:
            return f"{name}: {folded}{CRLF}"
    folded = Header(value, "utf-8", header_name=name).encode(linesep=CRLF, maxlinelen=_FOLD_AT)
    return f"{name}: {folded}{CRLF}"


@lru_cache(maxsize=64)
def _from(display_name: str, addr_spec: str) -> str:
    """The From line: the display name as RFC 2047 words when it is not ASCII."""
    pair = (_one_line(display_name), _one_line(addr_spec))
    return _header("From", formataddr(pair, charset="utf-8"))


@lru_cache(maxsize=8)
def _date(date: datetime, offset: timedelta | None) -> str:
    """The Date line (whole seconds, as RFC 5322 has them); cached, as the mails of one
    second share it. With the offset in the key: datetimes of one instant in two zones,
    or of one wall time either side of a DST change, compare equal but are written
    differently."""
    return _header("Date", format_datetime(date))


def _param(name: str, value: str) -> list[str]:
    """`name="value"` as the email package writes a parameter, RFC 2231 (`name*=utf-8''…`)
    when the value is not ASCII; a value too long for one line in numbered sections."""
    value = _one_line(value)
    if value.isascii():
        written = f'{name}="{quote(value)}"'
        if len(written) <= _LONGEST_PARAM:
            return [written]
        chunks = [value[start : start + 60] for start in range(0, len(value), 60)]
        return [f'{name}*{n}="{quote(chunk)}"' for n, chunk in enumerate(chunks)]
    written = f"{name}*={encode_rfc2231(value, 'utf-8')}"
    if len(written) <= _LONGEST_PARAM:
        return [written]
    sections: list[str] = []
    section = ""
    for character in value:  # an escape like %C3%B6 never splits
        section += percent_encoded(character, safe="")
        if len(section) >= 60:
            sections.append(section)
            section = ""
    if section:
        sections.append(section)
    sections[0] = "utf-8''" + sections[0]
    return [f"{name}*{n}*={section}" for n, section in enumerate(sections)]


def _disposition(filename: str) -> str:
    """The Content-Disposition line of a file. A long one is folded before each parameter,
    never inside the quoted name: compat32 readers would keep the line break in it."""
    params = _param("filename", filename)
    line = f"Content-Disposition: attachment; {'; '.join(params)}{CRLF}"
    if len(line) <= _FOLD_AT + 2:
        return line
    return f"Content-Disposition: attachment;{CRLF} {f';{CRLF} '.join(params)}{CRLF}"


def _quoted_printable(text: str) -> bytes:
    """UTF-8 quoted-printable with CRLF line ends; every CRLF, LF or lone CR in the text
    is one line break.

    `binascii.b2a_qp` (C) does the work. It encodes trailing blanks, `=` and every byte
    outside printable ASCII as the email package did; unlike it, it writes a lone `.` at
    a line start as `=2E` (same text once decoded). Where an escape or a trailing blank
    falls at the end of a long line it can write 77 or 78 characters, over RFC 2045's 76:
    then the part is encoded by the email package instead.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    encoded = binascii.b2a_qp(text.encode("utf-8"))
    if len(encoded) > _QP_LINE and max(map(len, encoded.split(b"\n"))) > _QP_LINE:
        encoded = _UTF8.body_encode(text).encode("ascii")
    return encoded.replace(b"\n", b"\r\n")


def _text_part(text: str, content_type: str) -> bytes:
    head = _header("Content-Type", f'{content_type}; charset="utf-8"')
    return head.encode("ascii") + _TEXT_ENCODING + b"\r\n" + _quoted_printable(text)


def _attachment(document: Document) -> bytes:
    maintype, _, subtype = document.mime_type.partition(";")[0].strip().partition("/")
    if maintype == "text":
        subtype = subtype or "plain"
    else:
        maintype, subtype = maintype or "application", subtype or "octet-stream"
    if (
        not _TOKEN.fullmatch(maintype)
        or not _TOKEN.fullmatch(subtype)
        or maintype.lower() in ("multipart", "message")
    ):
        maintype, subtype = "application", "octet-stream"
    disposition = _disposition(document.filename)
    if maintype == "text":  # with its charset, or umlauts arrive as mojibake
        head = _header("Content-Type", f'text/{subtype}; charset="utf-8"')
        encoding = _TEXT_ENCODING
        body = _quoted_printable(document.content.decode("utf-8", errors="replace"))
    else:
        head = _header("Content-Type", f"{maintype}/{subtype}")
        encoding = _BASE64_ENCODING
        body = base64.encodebytes(document.content).replace(b"\n", b"\r\n")
    return head.encode("ascii") + encoding + disposition.encode("ascii") + b"\r\n" + body


def _multipart(boundary: str, parts: Iterable[bytes]) -> bytes:
    """The body of a multipart: each part after its delimiter line, then the close."""
    delimiter = f"--{boundary}\r\n".encode("ascii")
    return delimiter + (b"\r\n" + delimiter).join(parts) + f"\r\n--{boundary}--\r\n".encode("ascii")


def render_mail(
    content: MailContent,
    *,
    sender: Address,
    recipient: str,
    msgid: str,
    date: datetime,
) -> bytes:
    """The mail as it goes over SMTP or into an .eml file: 7-bit, CRLF line ends."""
    alternative_boundary, mixed_boundary = _boundaries(msgid)
    alternatives = [
        _text_part(content.text, "text/plain"),
        _text_part(content.html or text_to_html(content.text, content.language), "text/html"),
    ]
    if content.calendar is not None:
        method = "; ".join(_param("method", content.method or "REQUEST"))
        alternatives.append(
            _text_part(content.calendar.decode("utf-8"), f"text/calendar; {method}")
        )
    body = _multipart(alternative_boundary, alternatives)
    alternative_type = f'multipart/alternative; boundary="{alternative_boundary}"'
    if content.attachments:
        nested = _header("Content-Type", alternative_type).encode("ascii") + b"\r\n" + body
        body = _multipart(mixed_boundary, [nested, *(_attachment(d) for d in content.attachments)])
        top_type = f'multipart/mixed; boundary="{mixed_boundary}"'
    else:
        top_type = alternative_type
    head = (
        _header("Content-Type", top_type)
        + "MIME-Version: 1.0\r\n"
        + _from(sender.display_name, sender.addr_spec)
        + _text_header("To", recipient)
        + _text_header("Subject", content.subject)
        + _date(date.replace(microsecond=0), date.utcoffset())
        + _header("Message-ID", _one_line(msgid))
        + _text_header("Content-Language", content.language)
        + "Auto-Submitted: auto-generated\r\n"  # no vacation replies to the bot
        + CRLF
    )
    return head.encode("ascii") + body
