"""What the bot does with a mail from its mailbox: a calendar app's answer becomes the
person's answer to the meeting, exactly as /zusage records it; a bounce marks the address
unreachable and tells the admins.

Mail is written by strangers, so an answer counts only when everything about it is ours:
the UID is one we issue (our shape, our domain, the UID this meeting really has), the
ATTENDEE is a confirmed address and its owner is a current member of the meeting's group
(who is invited). Anything else changes nothing and is not stored. A mail that changed
something is recorded by its Message-ID in the same transaction (the processed-event marks
the Matrix sync uses too), so reading the mailbox again after a restart, or from a second
process, never applies it twice.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from enum import StrEnum

from bot.core.i18n import Translator
from handlers.admins.directory import tell_admins
from handlers.calendar.events import meeting_uid
from handlers.calendar.ics import OurUid, parse_uid
from handlers.context import Services
from handlers.email.unreachable import describe_owners, owners
from handlers.inbound_mail.parsing import CalendarReply, FailedDelivery, InboundMail, parse_mail
from handlers.meetings.actions import answer_meeting
from storage import email_addresses, people, platform_state
from storage import meetings as meeting_store
from storage.db import Session
from storage.models import Meeting

log = logging.getLogger(__name__)

# The namespace of inbound mail among the processed-event marks (storage.platform_state).
MAIL_EVENTS = "email"
BOUNCE_PURPOSE = "email_bounce"


class Outcome(StrEnum):
    APPLIED = "applied"  # changed something; recorded
    ALREADY_APPLIED = "already_applied"  # recorded before: nothing done again
    IGNORED = "ignored"  # not ours or not understood: nothing changed, nothing stored


def mail_key(mail: InboundMail, raw: bytes) -> str:
    """The mark a processed mail leaves: its Message-ID, or a hash where it has none (or one
    too long for the column)."""
    if mail.message_id and len(mail.message_id) <= 200:
        return mail.message_id
    source = mail.message_id.encode() if mail.message_id else raw
    return "sha256:" + hashlib.sha256(source).hexdigest()


async def handle_mail(services: Services, raw: bytes) -> Outcome:
    """Apply one mail's calendar answers and bounces, once; never raises for bad mail."""
    mail = parse_mail(raw)
    if not mail.replies and not mail.failures:
        return Outcome.IGNORED
    now = services.clock.now()
    key = mail_key(mail, raw)
    async with services.sessions() as session:
        if not await platform_state.first_time_seen(session, MAIL_EVENTS, key, now):
            return Outcome.ALREADY_APPLIED
        changed = 0
        for reply in mail.replies:
            changed += await _apply_reply(session, services, reply, now)
        for failure in mail.failures:
            changed += await _apply_failure(session, services, failure, key, now)
        if not changed:
            await session.rollback()  # the mark goes too: ignored mail leaves no trace
            return Outcome.IGNORED
        await session.commit()
    services.wake_outbox()
    return Outcome.APPLIED


async def _apply_reply(
    session: Session, services: Services, reply: CalendarReply, now: datetime
) -> int:
    """How many meetings this answer was recorded for (0: not ours, not allowed)."""
    domain = services.calendar_domain
    ours = parse_uid(reply.uid, domain)
    if ours is None or reply.rsvp is None:
        return 0
    user_id = await email_addresses.confirmed_user_id(session, reply.attendee)
    if user_id is None:
        return 0
    recorded = 0
    for meeting in await _answered_meetings(session, ours, reply, now):
        if parse_uid(meeting_uid(meeting, domain), domain) != ours:
            continue  # e.g. meeting-12 for an occurrence, which we only send as its series
        if await people.membership(session, meeting.group_id, user_id) is None:
            continue  # not invited: only the group's members get its invitations
        if await answer_meeting(session, meeting, user_id, reply.rsvp, now):
            recorded += 1
            log.info(
                "calendar answer by e-mail: person %d, meeting %d: %s",
                user_id,
                meeting.id,
                reply.rsvp,
            )
    return recorded


async def _answered_meetings(
    session: Session, ours: OurUid, reply: CalendarReply, now: datetime
) -> list[Meeting]:
    """The meetings an answer names: one meeting, one occurrence of a series (its
    RECURRENCE-ID), or a whole series (every occurrence still ahead)."""
    if ours.kind == "meeting" and reply.recurrence_id is None:
        meeting = await meeting_store.meeting_by_id(session, ours.key)
        return [meeting] if meeting is not None else []
    if ours.kind == "series":
        if reply.recurrence_id is None:
            return await meeting_store.future_occurrences(session, ours.key, now)
        meeting = await meeting_store.occurrence(session, ours.key, reply.recurrence_id)
        return [meeting] if meeting is not None else []
    return []


async def _apply_failure(
    session: Session, services: Services, failure: FailedDelivery, key: str, now: datetime
) -> int:
    """Mark a bounced address unreachable wherever it is known (a member's own address, an
    advisor's registry address) and tell the admins whose it was; 0 for an unknown address."""
    reason = " ".join(part for part in (failure.status, failure.diagnostic) if part)
    address = failure.recipient
    marked = await email_addresses.mark_unreachable(session, address, reason, now)
    if not marked.marked:
        return 0
    found = await owners(session, marked)
    log.info("e-mail to a known address bounced (%s); marked unreachable", failure.status)

    def text(t: Translator) -> str:
        return t.gettext(
            "E-mail to {address} ({name}) could not be delivered: {reason}. "
            "I have marked the address as unreachable.",
            address=address,
            name=describe_owners(t, found),
            reason=reason or t.gettext("no reason given"),
        )

    digest = hashlib.sha256(f"{key}|{email_addresses.address_key(address)}".encode()).hexdigest()
    told = await tell_admins(
        session,
        services.settings,
        dedupe_key=f"{BOUNCE_PURPOSE}:{digest[:32]}",
        purpose=BOUNCE_PURPOSE,
        text=text,
        now=now,
    )
    if not told:
        log.warning("an e-mail address bounced; set ADMIN_CHATS or ADMIN_USERS to be told")
    return 1
