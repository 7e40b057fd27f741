"""Mail as it arrives from outside: calendar apps' answers to invitations and bounces.

`calendar_reply` builds an iMIP REPLY the way Thunderbird (Lightning) does with the
`icalendar` library: a readable text part, the `text/calendar; method=REPLY` part and the
same calendar again as an `invite.ics` attachment; the VEVENT carries the UID (and the
RECURRENCE-ID of an occurrence, in local time with its VTIMEZONE), the SEQUENCE, the
organizer and exactly one ATTENDEE with its PARTSTAT. `bounce` is a delivery status
notification as Postfix writes it (RFC 3464).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress

_ids = itertools.count(1)
STAMP = datetime(2021, 6, 10, 9, 0, tzinfo=UTC)


def new_message_id(domain: str = "mail.example.net") -> str:
    return f"<reply-{next(_ids)}-{id(_ids)}@{domain}>"


def reply_calendar(
    uid: str,
    attendee: str,
    partstat: str,
    *,
    recurrence_id: datetime | None = None,
    tzid: str = "Europe/Berlin",
    sequence: int = 0,
    organizer: str = "noreply@bot.example.org",
    start: datetime | None = None,
    extra_attendees: tuple[str, ...] = (),
) -> bytes:
    """The VCALENDAR a calendar app sends back when its user presses Accept/Maybe/Decline."""
    zone = ZoneInfo(tzid)
    calendar = Calendar()
    calendar.add("prodid", "-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REPLY")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", STAMP)
    begin = (start or recurrence_id or datetime(2021, 6, 15, 7, 0, tzinfo=UTC)).astimezone(zone)
    event.add("dtstart", begin)
    event.add("dtend", begin + timedelta(hours=3))
    if recurrence_id is not None:
        event.add("recurrence-id", recurrence_id.astimezone(zone))
    event.add("sequence", sequence)
    event.add("summary", "AG-Sitzung")
    event.add("organizer", vCalAddress(f"mailto:{organizer}"))
    for address in (attendee, *extra_attendees):
        person = vCalAddress(f"mailto:{address}")
        person.params["CN"] = address.split("@")[0].capitalize()
        person.params["PARTSTAT"] = partstat
        event.add("attendee", person, encode=False)
    calendar.add_component(Timezone.from_tzid(tzid))
    calendar.add_component(event)
    return calendar.to_ical()


def calendar_reply(
    uid: str,
    attendee: str,
    partstat: str,
    *,
    sender: str | None = None,
    message_id: str | None = None,
    **options: object,
) -> bytes:
    """A whole mail carrying `reply_calendar(...)`, from the attendee unless `sender`."""
    ics = reply_calendar(uid, attendee, partstat, **options)  # type: ignore[arg-type]
    return wrap_calendar(ics, sender=sender or attendee, message_id=message_id)


def wrap_calendar(ics: bytes, *, sender: str, message_id: str | None = None) -> bytes:
    """The mail around a calendar answer: text, inline calendar, `invite.ics` attachment."""
    mail = MIMEMultipart("mixed")
    mail["From"] = sender
    mail["To"] = "AG Transfer <noreply@bot.example.org>"
    mail["Subject"] = "Answer: AG-Sitzung"
    mail["Date"] = format_datetime(STAMP)
    mail["Message-ID"] = message_id or new_message_id()
    mail.attach(MIMEText(f"{sender} has answered.\n", "plain", "utf-8"))
    part = MIMEText(ics.decode(), "calendar", "utf-8")
    part.set_param("method", "REPLY")
    mail.attach(part)
    attachment = MIMEApplication(ics, "ics", name="invite.ics")
    attachment.add_header("Content-Disposition", "attachment", filename="invite.ics")
    mail.attach(attachment)
    return mail.as_bytes()


def bounce(
    recipient: str,
    *,
    status: str = "5.1.1",
    action: str = "failed",
    diagnostic: str = "smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: "
    "User unknown in virtual mailbox table",
    message_id: str | None = None,
    original_message_id: str = "<outbox-42@bot.example.org>",
) -> bytes:
    """A delivery status notification for one recipient, as Postfix sends it."""
    diagnostic = diagnostic.format(recipient=recipient)
    return f"""\
From: MAILER-DAEMON@mail.example.net (Mail Delivery System)
To: noreply@bot.example.org
Subject: Undelivered Mail Returned to Sender
Date: Thu, 10 Jun 2021 09:00:00 +0000
Message-ID: {message_id or new_message_id("mail.example.net")}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="B0UND"

This is a MIME-encapsulated message.

--B0UND
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{recipient}>: host mx.example.com said: 550 5.1.1 User unknown

--B0UND
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.example.net
X-Postfix-Queue-ID: 4F1D2C0A1B
Arrival-Date: Thu, 10 Jun 2021 08:59:58 +0000

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.example.com
Diagnostic-Code: {diagnostic}

--B0UND
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: AG Transfer <noreply@bot.example.org>
To: {recipient}
Subject: Einladung: AG-Sitzung
Message-ID: {original_message_id}

--B0UND--
""".replace("\n", "\r\n").encode()
