"""Reading incoming mail: calendar apps' answers (iMIP REPLY) and bounces (RFC 3464)."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.inbound_mail.parsing import CalendarReply, FailedDelivery, parse_mail
from tests.mails import bounce, calendar_reply, reply_calendar, wrap_calendar

UID = "meeting-12@bot.example.org"


@pytest.mark.parametrize(
    ("partstat", "rsvp"),
    [("ACCEPTED", "yes"), ("TENTATIVE", "maybe"), ("DECLINED", "no"), ("NEEDS-ACTION", None)],
)
def test_a_calendar_apps_reply_is_read_once_with_its_answer(partstat: str, rsvp: str) -> None:
    raw = calendar_reply(UID, "bernd@example.org", partstat, message_id="<r1@example.org>")
    mail = parse_mail(raw)
    assert mail.message_id == "<r1@example.org>"
    # inline part and invite.ics attachment carry the same answer: it counts once
    assert mail.replies == (CalendarReply(UID, None, "bernd@example.org", partstat, 0),)
    assert mail.replies[0].rsvp == rsvp
    assert mail.failures == ()


def test_an_occurrence_is_named_by_its_recurrence_id_in_utc() -> None:
    occurrence = datetime(2021, 7, 8, 7, 0, tzinfo=UTC)  # 9:00 Berlin, summer time
    raw = calendar_reply(
        "series-3@bot.example.org",
        "Bernd@Example.org",
        "DECLINED",
        recurrence_id=occurrence,
        sequence=2,
    )
    [reply] = parse_mail(raw).replies
    assert reply.recurrence_id == occurrence and reply.recurrence_id.tzinfo == UTC
    assert reply.attendee == "Bernd@Example.org" and reply.sequence == 2


def test_a_bare_text_calendar_mail_is_read_too() -> None:
    """Some apps send only the calendar as the whole body (no multipart)."""
    part = MIMEText(reply_calendar(UID, "bernd@example.org", "ACCEPTED").decode(), "calendar")
    part.set_param("method", "REPLY")
    part["Message-ID"] = "<bare@example.org>"
    assert parse_mail(part.as_bytes()).replies[0].rsvp == "yes"


def test_what_is_not_an_answer_reads_as_nothing() -> None:
    # an invitation (REQUEST) is not an answer
    request = reply_calendar(UID, "bernd@example.org", "ACCEPTED").replace(
        b"METHOD:REPLY", b"METHOD:REQUEST"
    )
    assert b"METHOD:REQUEST" in request
    assert parse_mail(wrap_calendar(request, sender="bernd@example.org")).replies == ()
    # a reply naming two attendees is not one person's answer (RFC 5546 allows one)
    two = calendar_reply(
        UID, "bernd@example.org", "ACCEPTED", extra_attendees=("clara@example.org",)
    )
    assert parse_mail(two).replies == ()
    # an attendee that is no mail address
    urn = reply_calendar(UID, "bernd@example.org", "ACCEPTED").replace(
        b"mailto:bernd@example.org", b"urn:x-ag-assistant:user:2"
    )
    assert b"urn:x-ag-assistant" in urn
    assert parse_mail(wrap_calendar(urn, sender="bernd@example.org")).replies == ()
    # ordinary mail, garbage, a calendar part that is no calendar
    plain = MIMEText("Hallo, ich komme gern!")
    plain["Message-ID"] = "<hello@example.org>"
    assert parse_mail(plain.as_bytes()).replies == ()
    assert parse_mail(b"\x00\xff garbage \r\n\r\n").replies == ()
    assert parse_mail(b"").replies == ()
    broken = MIMEText("BEGIN:VCALENDAR\nMETHOD:REPLY\nBEGIN:VEVENT\nUID:x", "calendar")
    assert parse_mail(broken.as_bytes()).replies == ()


def test_a_forwarded_or_bounced_reply_is_not_the_senders_answer() -> None:
    """A calendar part inside an attached message (message/rfc822) is quoted, not sent."""
    inner = calendar_reply(UID, "bernd@example.org", "ACCEPTED")
    outer = MIMEMultipart("mixed")
    outer["From"] = "mallory@example.net"
    outer.attach(MIMEText("FYI"))
    outer.attach(MIMEMessage(email.message_from_bytes(inner)))
    assert parse_mail(outer.as_bytes()).replies == ()


def test_a_bounce_names_the_failed_recipient_and_status() -> None:
    mail = parse_mail(bounce("bernd@example.org", message_id="<dsn1@mail.example.net>"))
    assert mail.message_id == "<dsn1@mail.example.net>"
    [failure] = mail.failures
    assert failure == FailedDelivery(
        "bernd@example.org",
        "5.1.1",
        "smtp; 550 5.1.1 <bernd@example.org>: Recipient address rejected: User unknown in "
        "virtual mailbox table",
    )
    assert mail.replies == ()


def test_a_delay_notice_is_no_failure() -> None:
    assert parse_mail(bounce("bernd@example.org", action="delayed", status="4.4.1")).failures == ()


def test_a_text_only_bounce_is_not_understood() -> None:
    """Only RFC 3464 reports count; prose from some old MTA is not guessed at."""
    prose = MIMEText("Delivery to bernd@example.org failed permanently.")
    prose["Subject"] = "Undeliverable"
    assert parse_mail(prose.as_bytes()).failures == ()


VALID = calendar_reply(UID, "bernd@example.org", "ACCEPTED", message_id="<p@example.org>")
VALID_DSN = bounce("bernd@example.org")


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_no_bytes_make_the_parser_raise(raw: bytes) -> None:
    mail = parse_mail(raw)
    assert isinstance(mail.replies, tuple) and isinstance(mail.failures, tuple)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([VALID, VALID_DSN]), st.integers(0, 10**6), st.binary(max_size=40))
def test_damaged_answers_and_bounces_never_make_the_parser_raise(
    original: bytes, position: int, junk: bytes
) -> None:
    at = position % len(original)
    parse_mail(original[:at] + junk + original[at + len(junk) :])
