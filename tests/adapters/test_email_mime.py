"""The MIME bytes of one mail (bot/adapters/email/mime.py), read back with Python's `email`
package and both its policies: headers in any language, file names, the iMIP part, the
wire format, a body that tries to end its part early, header injection — and, for a set
of varied mails, the same message tree as the `email.mime` builder the module replaced
(kept below only as the oracle)."""

from __future__ import annotations

import binascii
import email
import email.policy
import hashlib
import html
import random
import re
from datetime import UTC, datetime, timedelta, timezone
from email import encoders
from email.charset import QP, Charset
from email.header import Header, decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32, Policy
from email.utils import format_datetime, formataddr

import icalendar
import pytest

from bot.adapters.email.mime import message_id, render_mail
from bot.adapters.email.sender import sender_address
from bot.core.mail import MailContent
from bot.core.messages import Document

SENDER = sender_address("Arbeitsgruppe Qualität <ag@bot.example.org>")
DATE = datetime(2021, 6, 10, 9, 0, tzinfo=UTC)
CALENDAR = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nSUMMARY:Qualität – Größe\r\nEND:VCALENDAR\r\n"
TOP_HEADERS = [
    "Content-Type",
    "MIME-Version",
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Content-Language",
    "Auto-Submitted",
]


def rendered(
    content: MailContent,
    key: str = "outbox-7",
    *,
    sender: Address = SENDER,
    date: datetime = DATE,
) -> bytes:
    return render_mail(
        content,
        sender=sender,
        recipient="anna@example.org",
        msgid=message_id(key, "bot.example.org"),
        date=date,
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


# --- The oracle: the email.mime builder mime.py replaced, here only to compare with. ---


class _OracleWire(Compat32):
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


_ORACLE_UTF8 = Charset("utf-8")
_ORACLE_UTF8.body_encoding = QP


def _oracle_html(text: str, language: str) -> str:
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


def _oracle_text(text: str, subtype: str, **params: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype, **params)
    part.set_payload(text.replace("\r\n", "\n"), _ORACLE_UTF8)
    del part["MIME-Version"]
    return part


def _oracle_header(value: str, name: str) -> str | Header:
    return value if value.isascii() else Header(value, "utf-8", header_name=name)


def _oracle_attachment(document: Document) -> Message:
    maintype, _, subtype = document.mime_type.partition(";")[0].strip().partition("/")
    part: Message
    if maintype == "text":
        part = _oracle_text(document.content.decode("utf-8", errors="replace"), subtype or "plain")
    else:
        part = MIMEBase(maintype or "application", subtype or "octet-stream")
        del part["MIME-Version"]
        part.set_payload(document.content)
        encoders.encode_base64(part)
    name = document.filename
    filename = name if name.isascii() else ("utf-8", "", name)
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def oracle_mail(content: MailContent, *, sender: Address, msgid: str, date: datetime) -> bytes:
    """What the module wrote before (email.mime, compat32), for the same arguments."""
    tag = hashlib.sha256(msgid.encode("utf-8")).hexdigest()[:24]
    alternative = MIMEMultipart("alternative", boundary=f"=_alt_{tag}")
    alternative.attach(_oracle_text(content.text, "plain"))
    html = content.html or _oracle_html(content.text, content.language)
    alternative.attach(_oracle_text(html, "html"))
    if content.calendar is not None:
        alternative.attach(
            _oracle_text(
                content.calendar.decode("utf-8"), "calendar", method=content.method or "REQUEST"
            )
        )
    message: Message = alternative
    if content.attachments:
        message = MIMEMultipart("mixed", boundary=f"=_mix_{tag}")
        del alternative["MIME-Version"]
        message.attach(alternative)
        for document in content.attachments:
            message.attach(_oracle_attachment(document))
    message["From"] = formataddr((sender.display_name, sender.addr_spec), charset="utf-8")
    message["To"] = _oracle_header("anna@example.org", "To")
    message["Subject"] = _oracle_header(content.subject, "Subject")
    message["Date"] = format_datetime(date)
    message["Message-ID"] = msgid
    message["Content-Language"] = content.language
    message["Auto-Submitted"] = "auto-generated"
    return message.as_bytes(policy=_OracleWire(linesep="\r\n"))


# --- Reading a mail back as a tree, with either policy. ---


def _unfolded(value: str) -> str:
    return re.sub(r"\r?\n(?=[ \t])", "", value)


def headers(raw: bytes, policy: Policy) -> list[tuple[str, str]]:
    """The top headers as a reader sees them (RFC 2047 words decoded)."""
    mail = email.message_from_bytes(raw, policy=policy)
    if policy is email.policy.default:
        return [(name, str(value)) for name, value in mail.items()]
    return [(name, str(make_header(decode_header(_unfolded(v))))) for name, v in mail.items()]


def parts(raw: bytes, policy: Policy) -> list[tuple[object, ...]]:
    """Every part: its header names, type, parameters, file name and decoded content."""
    mail = email.message_from_bytes(raw, policy=policy)
    return [
        (
            [name for name in part if name not in TOP_HEADERS[1:]],
            part.get_content_type(),
            part.get_content_charset(),
            part.get_param("method"),
            part.get_boundary(),
            part.get_content_disposition(),
            part.get_filename(),
            None if part.is_multipart() else part.get_payload(decode=True),
        )
        for part in mail.walk()
    ]


def assert_clean_wire(raw: bytes, *, defects: bool = False) -> None:
    """7-bit, CRLF only, lines of at most 998 characters, encoded bodies of at most 76, and
    (unless `defects`) no defect the modern parser would note."""
    assert raw.isascii()
    assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    for part in email.message_from_bytes(raw, policy=email.policy.compat32).walk():
        if not part.is_multipart():
            assert max(len(line) for line in part.get_payload().split("\r\n")) <= 76
    for part in parse(raw).walk():
        if defects:
            break
        assert part.defects == []
        assert all(not value.defects for value in part.values())


# Texts a sloppy quoted-printable writer gets wrong.
TEXTS = {
    "empty": "",
    "trailing blanks": "Zeile mit Leerzeichen   \nund Tab\t\nEnde  ",
    "76 and 77": "a" * 76 + "\n" + "b" * 77 + "\n" + "c" * 75 + "ä\n" + "d" * 74 + "=e\n",
    "dots and From": ".\n.Punkt\nFrom here\n>From there\n..\n. \nFrom",
    "equals": "a=b\n==\n=3D\n=\n=?utf-8?q?x?=\n=",
    "crlf and lone cr": "eins\r\nzwei\rdrei\nvier\r\n\r\nfünf\r",
    "long line end": "x" * 74 + "  \n" + "y" * 73 + "ä\t\n" + "z" * 75 + " \nw" * 3,
    "umlauts": "Grüße aus Köln – „Qualität“ ✓ 🙂\n" * 5,
    "control characters": "null\x00 feed\x0c del\x7f nel\x85 ls\u2028.\n",
}
DOCUMENTS = {
    "umlaut name": Document("Protokoll Größe.pdf", bytes(range(256)) * 3, "application/pdf"),
    "long name": Document("Protokoll der Sitzung " * 6 + ".pdf", b"%PDF", "application/pdf"),
    "quotes": Document('Bericht "final" C:\\tmp.txt', b"Zeile\r\nzwei", "text/plain"),
    "empty file": Document("leer.bin", b"", "application/octet-stream"),
    "bare text type": Document("notiz", "Köln\n".encode(), "text"),
    "no type": Document("daten", b"\x00\x01", ""),
}


def varied_mails() -> list[tuple[str, MailContent, Address]]:
    plain = sender_address("AG-Assistent <ag@bot.example.org>")
    mails = [
        (f"text: {name}", MailContent(subject="Test", text=text, language="de"), plain)
        for name, text in TEXTS.items()
    ]
    mails += [
        (
            f"file: {name}",
            MailContent(subject="Anhang", text="Siehe Anhang.\n", language="en", attachments=(d,)),
            SENDER,
        )
        for name, d in DOCUMENTS.items()
    ]
    return [
        *mails,
        ("invitation", invitation(), SENDER),
        (
            "cancel with html",
            MailContent(
                subject="Abgesagt: " + "Qualitätszirkel " * 8,
                text="Abgesagt.",
                language="de",
                html="<p>Abgesagt &amp; verschoben – <b>Grüße</b></p>\n",
                calendar=CALENDAR.replace("REQUEST", "CANCEL").encode(),
                method="CANCEL",
            ),
            sender_address('"Müller, AG (Vorstand)" <vorstand@bot.example.org>'),
        ),
        (
            "long ascii subject",
            MailContent(subject="Erinnerung an die Sitzung " * 9, text="x", language="en"),
            sender_address(
                '"Arbeitsgruppe Qualitaet und Normen, Geschaeftsstelle" <ag@bot.example.org>'
            ),
        ),
    ]


@pytest.mark.parametrize(("name", "content", "sender"), varied_mails(), ids=lambda v: v)
def test_varied_mails_read_back_as_the_email_package_built_them(
    name: str, content: MailContent, sender: Address
) -> None:
    raw = rendered(content, sender=sender)
    assert_clean_wire(raw)
    oracle = oracle_mail(content, sender=sender, msgid="<outbox-7@bot.example.org>", date=DATE)
    for policy in (email.policy.default, email.policy.compat32):
        assert headers(raw, policy) == headers(oracle, policy)
    assert parts(raw, email.policy.default) == parts(oracle, email.policy.default)
    # The same with compat32 — which kept the line break of the old writer's folded long
    # file name in the name (file: long name); the new one folds before the parameter.
    assert parts(raw, email.policy.compat32) == parts(raw, email.policy.default)
    assert [name for name, _ in headers(raw, email.policy.default)] == TOP_HEADERS


def test_the_mails_are_byte_for_byte_what_the_email_package_wrote() -> None:
    """Nothing changes on the wire but in two places, both read back the same: b2a_qp
    writes a lone "." at a line start as `=2E`, and a long file name is folded before its
    parameter rather than inside the quotes (see the test above)."""
    different = {"text: dots and From", "file: long name"}
    for name, content, sender in varied_mails():
        raw = rendered(content, sender=sender)
        oracle = oracle_mail(content, sender=sender, msgid="<outbox-7@bot.example.org>", date=DATE)
        assert (raw == oracle) is (name not in different), name


def random_texts(count: int) -> list[str]:
    """Texts pieced together from what quoted-printable writers trip over, near and at
    the 76-character line end."""
    pieces = ["a"] * 8 + [" ", "\t", "=", ".", "ä", "€", "🙂", "\n", "\r\n", "\r", "From "]
    pieces += ["x" * 70, "   ", "\x00", "\x0c", "\x85", "\u2028"]
    chance = random.Random(76)
    return [
        "".join(chance.choice(pieces) for _ in range(chance.randint(0, 40))) for _ in range(count)
    ]


def test_text_reads_back_exactly_with_every_line_break_as_crlf() -> None:
    for text in [*TEXTS.values(), *random_texts(200)]:
        raw = rendered(MailContent(subject="Test", text=text, language="de"))
        assert_clean_wire(raw)
        expected = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
        for policy in (email.policy.default, email.policy.compat32):
            mail = email.message_from_bytes(raw, policy=policy)
            [plain, _] = mail.get_payload()
            assert plain.get_payload(decode=True) == expected.encode(), repr(text)


def test_lines_b2a_qp_would_make_too_long_are_encoded_within_76() -> None:
    text = TEXTS["long line end"]
    assert max(len(line) for line in binascii.b2a_qp(text.encode()).split(b"\n")) > 76
    raw = rendered(MailContent(subject="Test", text=text, language="de"))
    assert_clean_wire(raw)


def test_long_subjects_fold_and_read_back_exactly() -> None:
    for subject in (
        "Erinnerung: Sitzung der Arbeitsgruppe Qualität am 17.06.2021 " * 4,
        "Reminder: meeting of the working group on quality and standards " * 4,
    ):
        raw = rendered(MailContent(subject=subject, text="x", language="de"))
        head = raw.split(b"\r\n\r\n", 1)[0]
        assert max(len(line) for line in head.split(b"\r\n")) <= 78
        assert head.count(b"\r\n ") >= 3  # folded, not one long line
        assert parse(raw)["Subject"] == subject
        assert ("Subject", subject) in headers(raw, email.policy.compat32)


def test_an_ascii_subject_that_looks_encoded_reads_back_as_typed() -> None:
    subject = "=?utf-8?q?Gew=C3=A4hlt?= ist nicht gewählt"
    for text in (subject, subject.replace("ä", "ae")):
        raw = rendered(MailContent(subject=text, text="x", language="de"))
        assert parse(raw)["Subject"] == text
        assert ("Subject", text) in headers(raw, email.policy.compat32)


def test_unbreakable_values_stay_within_998() -> None:
    """A subject with no space to fold at goes as encoded words; a file name too long for
    a line goes in RFC 2231 sections (the old writer wrote both as one long line)."""
    subject = "x" * 2000
    names = ("ä" * 400 + ".pdf", "a" * 1500 + ".pdf", 'Ö"\\' * 300)
    content = MailContent(
        subject=subject,
        text="x",
        language="de",
        attachments=tuple(Document(n, b"1", "application/pdf") for n in names),
    )
    raw = rendered(content)
    assert_clean_wire(raw)
    for policy in (email.policy.default, email.policy.compat32):
        mail = email.message_from_bytes(raw, policy=policy)
        assert ("Subject", subject) in headers(raw, policy)
        assert [p.get_filename() for p in mail.walk() if p.get_filename()] == list(names)


def test_a_line_break_in_a_header_value_cannot_start_a_header() -> None:
    """Subjects come from meeting titles, file names from users: every line break (and
    other control character) becomes a space. (An `Address` refuses CR and LF itself.)"""
    files = (
        Document("a\r\nContent-Type: text/html\r\n\r\n<script>.pdf", b"1", "application/pdf"),
        Document("b.txt", b"1", "text/plain\r\nX-Evil: 1"),
    )
    sender = Address(display_name="Bernd\x0bMüller\x85", username="ag", domain="bot.example.org")
    for subject in ("Titel\r\nBcc: x@evil.example", "Grüße\nBcc: x@evil.example", "T\rBcc: x"):
        raw = render_mail(
            MailContent(subject=subject, text="x", language="de\nX-Evil: 1", attachments=files),
            sender=sender,
            recipient="anna@example.org\r\nBcc: y@evil.example",
            msgid="<outbox-7@bot.example.org>\nBcc: z@evil.example",
            date=DATE,
        )
        assert_clean_wire(raw, defects=True)  # "anna@example.org Bcc: …" is no address
        head = raw.split(b"\r\n\r\n", 1)[0]
        assert b"\nBcc" not in head and b"\nX-Evil" not in head
        mail = parse(raw)
        assert list(mail) == TOP_HEADERS
        for part in list(mail.walk())[1:]:
            assert set(part) <= {"Content-Type", "Content-Transfer-Encoding", "Content-Disposition"}
        assert mail["Subject"] == re.sub(r"[\r\n]+", " ", subject)
        assert mail["From"].addresses[0].display_name == "Bernd Müller "
        assert mail["Content-Language"] == "de X-Evil: 1"
        [_, pdf, text] = mail.iter_parts()
        assert list(pdf) == ["Content-Type", "Content-Transfer-Encoding", "Content-Disposition"]
        assert pdf.get_filename() == "a Content-Type: text/html <script>.pdf"
        assert text.get_content_type() == "application/octet-stream"


def test_a_calendar_part_decodes_to_the_ics_byte_for_byte() -> None:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//AG-Assistent//DE")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = icalendar.Event()
    event.add("uid", "meeting-17@bot.example.org")
    event.add("summary", "Qualitätszirkel – „Größe“; Sitzung, Teil 2")
    event.add("description", "Tagesordnung: " + "Punkt mit Umlauten äöü und = Zeichen. " * 12)
    event.add("dtstart", datetime(2021, 6, 17, 18, 0, tzinfo=UTC))
    event.add("dtstamp", DATE)
    calendar.add_component(event)
    ics = calendar.to_ical()
    assert b"\r\n " in ics  # folded lines, each continuation starting with a blank
    content = MailContent(
        subject="Einladung", text="x", language="de", calendar=ics, method="REQUEST"
    )
    for policy in (email.policy.default, email.policy.compat32):
        mail = email.message_from_bytes(rendered(content), policy=policy)
        [part] = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
        decoded = part.get_payload(decode=True)
        assert decoded == ics
        assert icalendar.Calendar.from_ical(decoded).to_ical() == ics


def test_a_binary_attachment_round_trips() -> None:
    data = random.Random(7).randbytes(10_000) + bytes(range(256))
    content = MailContent(
        subject="Datei",
        text="x",
        language="de",
        attachments=(Document("Größe.bin", data, "application/octet-stream"),),
    )
    raw = rendered(content)
    assert_clean_wire(raw)
    for policy in (email.policy.default, email.policy.compat32):
        mail = email.message_from_bytes(raw, policy=policy)
        [_, part] = mail.get_payload()
        assert part["Content-Transfer-Encoding"] == "base64"
        assert part.get_filename() == "Größe.bin"
        assert part.get_payload(decode=True) == data


def test_odd_media_types_of_files_become_octet_streams() -> None:
    content = MailContent(
        subject="Dateien",
        text="x",
        language="de",
        attachments=(
            Document("a", b"1", "multipart/mixed; boundary=x"),
            Document("b", b"1", "message/rfc822"),
            Document("c", b"1", "application/p df"),
            Document("d", b"1", "text/plain; charset=latin-1"),
        ),
    )
    [_, *files] = parse(rendered(content)).iter_parts()
    assert [f.get_content_type() for f in files] == [
        "application/octet-stream",
        "application/octet-stream",
        "application/octet-stream",
        "text/plain",
    ]


def test_the_date_keeps_its_offset_and_drops_microseconds() -> None:
    """One instant in two zones is written in each zone's time, also when the previous
    mail of that second was written with the other (the Date line is cached)."""
    plus_two = timezone(timedelta(hours=2))
    for date in (DATE, DATE.astimezone(plus_two), DATE + timedelta(microseconds=5), DATE):
        mail = parse(rendered(MailContent(subject="x", text="x", language="de"), date=date))
        assert mail["Date"].datetime == date.replace(microsecond=0)
        assert mail["Date"].datetime.utcoffset() == date.utcoffset()
