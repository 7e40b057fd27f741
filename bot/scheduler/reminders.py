"""The reminder sweep: decide every reminder that fell due since the last sweep, once.

Run every minute by the scheduler (and at start-up, which catches up after downtime). For
each due reminder one transaction writes the log row and, if it is still meaningful, the
outbox message; a reminder that is too late is logged as missed and its group's chairs are
told. The log's unique key makes a second run, or a second bot process, a no-op.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.context import Services
from bot.core.i18n import Translator
from bot.core.messages import OutgoingMessage
from handlers.dates import ParsedWhen, format_when
from handlers.reminder_policy import (
    MAX_OFFSET,
    Decision,
    Lateness,
    ReminderKind,
    decide,
    due_instant,
    parse_offsets,
    stored_offsets,
)
from storage import outbox
from storage import reminders as repo
from storage.models import Meeting, Membership, ReminderLog, ReminderStatus, Role, User

log = logging.getLogger(__name__)


def muted_kinds(value: str) -> set[str]:
    return {kind for kind in value.split(",") if kind}


def _meeting_text(t: Translator, meeting: Meeting, tz: ZoneInfo) -> str:
    start = meeting.starts_at.astimezone(tz)
    end = meeting.ends_at.astimezone(tz) if meeting.ends_at else None
    same_day = end is not None and end.date() == start.date()
    when = ParsedWhen(start.date(), start.time(), end.time() if same_day else None, tz)
    text = t.gettext(
        "Reminder: {title} – {when}",
        title=meeting.title,
        when=format_when(when, t.language),
    )
    if meeting.location:
        text += "\n" + meeting.location
    return text


async def sweep_meeting_reminders(services: Services, now: datetime) -> int:
    """Meeting reminders to everyone who said yes or maybe; returns how many were queued."""
    settings = services.settings
    kind = ReminderKind.MEETING.value
    maximum = timedelta(minutes=settings.reminder_meeting_max_lateness_minutes)
    default_offsets = parse_offsets(settings.reminder_meeting_offsets)
    queued = 0
    async with services.sessions.begin() as session:
        since = await repo.swept_until(session, kind) or now - maximum
        # A reminder is due at most MAX_OFFSET (+1 day for a DST shift) before its meeting,
        # and a meeting that started before `since` had all its reminders decided already.
        attendees = await repo.meeting_attendees(
            session, starts_from=since, starts_until=now + MAX_OFFSET + timedelta(days=1)
        )
        for entry in attendees:
            if kind in muted_kinds(entry.muted):
                continue
            offsets = (
                stored_offsets(entry.user_offsets)
                or stored_offsets(entry.group_offsets)
                or default_offsets
            )
            tz = ZoneInfo(entry.user.timezone or entry.group.timezone)
            for offset in offsets:
                due_at = due_instant(entry.meeting.starts_at, offset, tz)
                if due_at < since:
                    continue  # decided by an earlier sweep (or before this person answered)
                decision = decide(due_at, now, Lateness(maximum, entry.meeting.starts_at))
                if decision is Decision.NOT_YET:
                    continue
                queued += await _decide_one(session, entry, tz, due_at, decision, now)
        await _report_missed(session, services, now)
        await repo.set_swept_until(session, kind, now)
    if queued:
        services.wake_outbox()
    return queued


async def _decide_one(
    session: AsyncSession,
    entry: repo.MeetingAttendee,
    tz: ZoneInfo,
    due_at: datetime,
    decision: Decision,
    now: datetime,
) -> int:
    subject = f"meeting:{entry.meeting.id}"
    status = ReminderStatus.SENT if decision is Decision.SEND else ReminderStatus.MISSED
    new = await repo.record(
        session,
        kind=ReminderKind.MEETING.value,
        subject=subject,
        recipient_id=entry.user.id,
        group_id=entry.group.id,
        due_at=due_at,
        status=status,
        now=now,
    )
    if not new or status is ReminderStatus.MISSED:
        return 0
    t = Translator(entry.user.language or entry.group.language)
    try:
        return int(
            await outbox.enqueue_to_person(
                session,
                user_id=entry.user.id,
                dedupe_key=f"reminder:{subject}:{entry.user.id}:{due_at.isoformat()}",
                purpose="reminder_meeting",
                message=OutgoingMessage(_meeting_text(t, entry.meeting, tz)),
                now=now,
                group_id=entry.group.id,
            )
        )
    except LookupError:
        log.warning("person %s has no chat account; meeting reminder not sent", entry.user.id)
        return 0


async def _report_missed(session: AsyncSession, services: Services, now: datetime) -> None:
    """Tell each group's chairs which reminders fell due while the bot was down."""
    missed = await repo.unreported_missed(session)
    if not missed:
        return
    by_subject: dict[tuple[int | None, str, str], list[ReminderLog]] = defaultdict(list)
    for row in missed:
        by_subject[(row.group_id, row.kind, row.subject)].append(row)
    for (group_id, kind, subject), rows in by_subject.items():
        chairs = (
            list(
                await session.scalars(
                    select(User)
                    .join(Membership, Membership.user_id == User.id)
                    .where(Membership.group_id == group_id, Membership.role == Role.CHAIR.value)
                    .order_by(User.id)
                )
            )
            if group_id is not None
            else []
        )
        what = await _subject_title(session, subject)
        if not chairs:
            log.warning(
                "%d missed %s reminders for %s; the group has no chair", len(rows), kind, what
            )
        for chair in chairs:
            t = Translator(chair.language or services.settings.bot_language)
            text = t.ngettext(
                "While I was offline, {n} reminder for {what} fell due; it was too late to "
                "send it afterwards.",
                "While I was offline, {n} reminders for {what} fell due; it was too late to "
                "send them afterwards.",
                len(rows),
                what=what,
            )
            try:
                await outbox.enqueue_to_person(
                    session,
                    user_id=chair.id,
                    dedupe_key=f"reminders-missed:{rows[0].id}:{rows[-1].id}:{chair.id}",
                    purpose="reminders_missed",
                    message=OutgoingMessage(text),
                    now=now,
                    group_id=group_id,
                )
            except LookupError:
                log.warning("chair %s has no chat account for the missed-reminder note", chair.id)
        await repo.mark_reported(session, [row.id for row in rows], now)


async def _subject_title(session: AsyncSession, subject: str) -> str:
    kind, _, raw_id = subject.partition(":")
    if kind == "meeting" and raw_id.isdigit():
        meeting = await session.get(Meeting, int(raw_id))
        if meeting is not None:
            return f"#{meeting.number} {meeting.title}"
    return subject


async def run_reminders(services: Services, now: datetime) -> None:
    """The scheduler's entry point for every reminder kind of this module."""
    await sweep_meeting_reminders(services, now)
