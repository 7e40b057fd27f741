"""The MIME bytes of one mail (bot/adapters/email/mime.py), read back with Python's `email`
package and its modern policy: headers in any language, file names, the iMIP part, the
wire format, and a body that tries to end its part early."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

from bot.adapters.email.mime import build_mail, mail_bytes, message_id
from bot.adapters.email.sender import sender_address
from bot.core.mail import MailContent
from bot.core.messages import Document

SENDER = sender_address("Arbeitsgruppe Qualität <ag@bot.example.org>")
DATE = datetime(2021, 6, 10, 9, 0, tzinfo=UTC)
CALENDAR = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nSUMMARY:Qualität – Größe\r\nEND:VCALENDAR\r\n"


def rendered(content: MailContent, key: str = "outbox-7") -> bytes:
    return mail_bytes(
        build_mail(
            content,
            sender=SENDER,
            recipient="anna@example.org",
            msgid=message_id(key, "bot.example.org"),
            date=DATE,
        )
    )


def parse(raw: bytes) -> EmailMessage:
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(mail, EmailMessage)
    return mail


def invitation() -> MailContent:
    return MailContent(
        subject="Einladung: „Qualität – Größe“ am 17.06.2021 " + "lang " * 12,
        text="Hallo Anna,\n\nbitte sagen Sie zu: Ä Ö Ü ß.\n" + "x" * 120 + "\n",
        language="de",
        calendar=CALENDAR.encode("utf-8"),
        method="REQUEST",
        attachments=(
            Document("Protokoll Größe.pdf", b"%PDF-1.4\x00\xff\xfe", "application/pdf"),
            Document("Notizen.txt", "Köln, 20 Uhr".encode(), "text/plain; charset=utf-8"),
        ),
    )


def test_headers_and_parts_read_back_in_any_language() -> None:
    raw = rendered(invitation())
    mail = parse(raw)
    assert mail["Subject"] == invitation().subject
    assert mail["From"].addresses[0].display_name == "Arbeitsgruppe Qualität"
    assert mail["From"].addresses[0].addr_spec == "ag@bot.example.org"
    assert mail["To"] == "anna@example.org"
    assert mail["Message-ID"] == "<outbox-7@bot.example.org>"
    assert mail["Date"].datetime == DATE
    assert mail["Content-Language"] == "de"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail.get_content_type() == "multipart/mixed"
    [alternative, pdf, notes] = mail.iter_parts()
    assert [p.get_content_type() for p in alternative.iter_parts()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    assert mail.get_body(("plain",)).get_content().replace("\r\n", "\n") == invitation().text
    assert "Ä Ö Ü ß" in mail.get_body(("html",)).get_content()
    [calendar] = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_content_charset() == "utf-8"
    assert calendar.get_content().replace("\r\n", "\n") == CALENDAR.replace("\r\n", "\n")
    assert pdf.get_filename() == "Protokoll Größe.pdf"
    assert pdf.get_content() == b"%PDF-1.4\x00\xff\xfe"
    assert notes.get_filename() == "Notizen.txt"
    assert notes.get_content() == "Köln, 20 Uhr"


def test_wire_format_is_seven_bit_with_crlf_and_one_mime_version() -> None:
    raw = rendered(invitation())
    assert raw.isascii()  # no relay has to convert anything
    assert b"\n" not in raw.replace(b"\r\n", b"")  # every line ends CRLF
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert raw.count(b"MIME-Version:") == 1
    assert b"Subject: =?utf-8?" in raw  # RFC 2047, not raw UTF-8


def test_the_same_row_gives_the_same_bytes_and_others_other_boundaries() -> None:
    assert rendered(invitation()) == rendered(invitation())
    first = parse(rendered(invitation(), "outbox-7"))
    second = parse(rendered(invitation(), "outbox-8"))
    assert first.get_boundary() != second.get_boundary()


def test_a_body_quoting_the_boundary_cannot_end_its_part() -> None:
    """The boundary comes from the Message-ID, so a text could try to contain it; the
    quoted-printable encoding writes its `=` as `=3D`, and the part stays whole."""
    plain = parse(rendered(invitation()))
    boundary = plain.get_boundary()
    inner = next(plain.iter_parts()).get_boundary()
    text = f"Davor\n--{boundary}\n--{inner}--\nContent-Type: text/html\n\n<script>x</script>\n"
    mail = parse(rendered(MailContent(subject="Test", text=text, language="de")))
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    assert mail.get_body(("plain",)).get_content().replace("\r\n", "\n") == text
    assert "<script>" not in mail.get_body(("html",)).get_content()
