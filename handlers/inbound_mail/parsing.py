"""What an incoming mail says, read from its bytes alone (pure: no I/O, no clock).

Two kinds of mail matter to the bot: a calendar app's answer to an invitation (iMIP,
RFC 6047: a `text/calendar` part with `METHOD:REPLY`, one VEVENT per answered meeting or
occurrence, each naming its UID, RECURRENCE-ID, the answering ATTENDEE and its PARTSTAT),
and a delivery status notification (RFC 3464: `multipart/report;
report-type=delivery-status`, one block per recipient with its Action and Status).
Everything else, and anything malformed, reads as neither: mail is written by strangers,
so nothing in it may raise.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import parseaddr

from icalendar import Calendar

# A calendar app's answer, as the answer /zusage records.
RSVP_FOR_PARTSTAT = {"ACCEPTED": "yes", "TENTATIVE": "maybe", "DECLINED": "no"}

_CALENDAR_TYPES = frozenset({"text/calendar", "application/ics"})


@dataclass(frozen=True, slots=True)
class CalendarReply:
    """One answered event: `recurrence_id` (UTC) names an occurrence of a series, None the
    whole event; `attendee` is the bare address of the one who answered."""

    uid: str
    recurrence_id: datetime | None
    attendee: str
    partstat: str
    sequence: int

    @property
    def rsvp(self) -> str | None:
        """yes / maybe / no, or None for an answer /zusage does not know (NEEDS-ACTION)."""
        return RSVP_FOR_PARTSTAT.get(self.partstat)


@dataclass(frozen=True, slots=True)
class FailedDelivery:
    """A recipient a delivery status notification reports as failed for good."""

    recipient: str
    status: str
    diagnostic: str


@dataclass(frozen=True, slots=True)
class InboundMail:
    message_id: str | None
    replies: tuple[CalendarReply, ...] = ()
    failures: tuple[FailedDelivery, ...] = ()


def parse_mail(raw: bytes) -> InboundMail:
    """Read a whole RFC 5322 message; unreadable mail gives an InboundMail with nothing."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception:  # the parser is lenient; this is the last line of defence
        return InboundMail(None)
    message_id = _message_id(message)
    try:
        replies = _dedupe(reply for part in _parts(message) for reply in _replies(part))
        failures = tuple(_failures(message))
    except Exception:  # malformed MIME structure: treat as mail we do not understand
        return InboundMail(message_id)
    return InboundMail(message_id, replies, failures)


def _message_id(message: Message) -> str | None:
    value = message.get("Message-ID")
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text[:998] or None


def _parts(message: Message) -> Iterator[Message]:
    """Every leaf part, without descending into attached messages: a bounce or a forward
    quotes someone else's calendar data, which is not an answer from this sender."""
    if message.get_content_maintype() == "message":
        return
    if message.is_multipart():
        for part in message.get_payload():
            if isinstance(part, Message):
                yield from _parts(part)
    else:
        yield message


def _replies(part: Message) -> Iterator[CalendarReply]:
    if part.get_content_type() not in _CALENDAR_TYPES:
        return
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes) or not payload.strip():
        return
    try:
        calendar = Calendar.from_ical(payload)
    except Exception:  # icalendar raises several types on malformed data
        return
    if str(calendar.get("METHOD", "")).strip().upper() != "REPLY":
        return
    for event in calendar.walk("VEVENT"):
        reply = _reply(event)
        if reply is not None:
            yield reply


def _reply(event: Calendar) -> CalendarReply | None:
    uid = str(event.get("UID", "")).strip()
    attendees = event.get("ATTENDEE")
    if not uid or attendees is None:
        return None
    if isinstance(attendees, list):
        if len(attendees) != 1:  # a REPLY carries exactly the one who answers (RFC 5546)
            return None
        attendees = attendees[0]
    address = _mailto(str(attendees))
    partstat = str(attendees.params.get("PARTSTAT", "")).strip().upper()
    if address is None or not partstat:
        return None
    recurrence_id = None
    if "RECURRENCE-ID" in event:
        moment = event.decoded("RECURRENCE-ID")
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            return None  # a date or floating time names no instant we could match
        recurrence_id = moment.astimezone(UTC)
    try:
        sequence = int(event.get("SEQUENCE", 0))
    except (TypeError, ValueError):
        sequence = 0
    return CalendarReply(uid, recurrence_id, address, partstat, sequence)


def _mailto(value: str) -> str | None:
    value = value.strip()
    if value[:7].lower() != "mailto:":
        return None
    address = value[7:].strip()
    return address if "@" in address and not any(c.isspace() for c in address) else None


def _dedupe(replies: Iterator[CalendarReply]) -> tuple[CalendarReply, ...]:
    """Outlook sends the same calendar inline and as an attachment: count it once."""
    seen: dict[tuple[str, datetime | None, str], CalendarReply] = {}
    for reply in replies:
        seen.setdefault((reply.uid, reply.recurrence_id, reply.attendee.lower()), reply)
    return tuple(seen.values())


def _failures(message: Message) -> Iterator[FailedDelivery]:
    if message.get_content_type() != "multipart/report":
        return
    if str(message.get_param("report-type", "")).lower() != "delivery-status":
        return
    for part in message.get_payload():
        if not isinstance(part, Message):
            continue
        if part.get_content_type() != "message/delivery-status":
            continue
        # The parser gives the per-message block first, then one block per recipient.
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            continue
        for block in blocks[1:]:
            failure = _failure(block)
            if failure is not None:
                yield failure


def _failure(block: Message) -> FailedDelivery | None:
    if str(block.get("Action", "")).strip().lower() != "failed":
        return None  # delayed, delivered, relayed, expanded: nothing is lost yet
    # Original-Recipient is the address as we sent it; Final-Recipient may be rewritten.
    for field in ("Original-Recipient", "Final-Recipient"):
        kind, _, address = str(block.get(field, "")).partition(";")
        address = parseaddr(address.strip())[1] or address.strip()
        if kind.strip().lower() == "rfc822" and "@" in address:
            status = " ".join(str(block.get("Status", "")).split())
            diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
            return FailedDelivery(address, status[:32], diagnostic[:500])
    return None
