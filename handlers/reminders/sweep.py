"""The reminder sweep: decide every reminder that fell due since the last sweep, once.

Run every minute by the scheduler (and at start-up, which catches up after downtime). For
each due reminder one transaction writes the log row and, if it is still meaningful, the
outbox message; a reminder that is too late is logged as missed and its group's chairs are
told. The log's unique key makes a second run, or a second bot process, a no-op.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.dates import ParsedWhen, format_date, format_when
from bot.core.enums import ReminderStatus
from bot.core.i18n import Translator
from bot.core.mail import MessageKind
from bot.core.messages import OutgoingMessage
from bot.core.reminder_offsets import MAX_OFFSET, parse_offsets
from handlers.context import Services
from handlers.email.routing import route_for, send_to_person
from handlers.email.texts import plain_mail
from handlers.members.audience import audience
from handlers.members.presence import still_chairs, still_member
from handlers.reminders.policy import (
    Lateness,
    ReminderKind,
    Timing,
    decide,
    due_instant,
    local_instant,
    stored_offsets,
)
from storage import meetings as meeting_store
from storage import outbox, people
from storage import reminders as reminder_store
from storage.db import Session
from storage.models import ActionItem, Meeting, ReminderLog, User

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
        since = await reminder_store.swept_until(session, kind) or now - maximum
        # A reminder is due at most MAX_OFFSET (+1 day for a DST shift) before its meeting,
        # and a meeting that started before `since` had all its reminders decided already.
        attendees = await reminder_store.meeting_attendees(
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
            t, tz = audience(entry.user, entry.group)
            for offset in offsets:
                due_at = due_instant(entry.meeting.starts_at, offset, tz)
                if due_at < since:
                    continue  # decided by an earlier sweep (or before this person answered)
                decision = decide(due_at, now, Lateness(maximum, entry.meeting.starts_at))
                if decision is Timing.NOT_YET:
                    continue
                queued += await _queue_personal(
                    services,
                    session,
                    kind=kind,
                    subject=f"meeting:{entry.meeting.id}",
                    user=entry.user,
                    group_id=entry.group.id,
                    due_at=due_at,
                    decision=decision,
                    now=now,
                    text=_meeting_text(t, entry.meeting, tz),
                    t=t,
                    group_name=entry.group.name,
                    useful_until=entry.meeting.starts_at,
                )
        await _report_missed(session, services, now)
        await reminder_store.set_swept_until(session, kind, now)
    if queued:
        services.wake_outbox()
    return queued


async def _report_missed(session: Session, services: Services, now: datetime) -> None:
    """Tell each group's chairs which reminders fell due while the bot was down."""
    missed = await reminder_store.unreported_missed(session)
    if not missed:
        return
    by_subject: dict[tuple[int | None, str, str], list[ReminderLog]] = defaultdict(list)
    for row in missed:
        by_subject[(row.group_id, row.kind, row.subject)].append(row)
    for (group_id, kind, subject), rows in by_subject.items():
        chairs = await people.chairs_of(session, group_id) if group_id is not None else []
        if group_id is not None:  # a chair the platform no longer backs is told nothing
            current = await still_chairs(services, session, group_id, [c.id for c in chairs], now)
            chairs = [chair for chair in chairs if chair.id in current]
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
        await reminder_store.mark_reported(session, [row.id for row in rows], now)


async def _subject_title(session: Session, subject: str) -> str:
    kind, _, rest = subject.partition(":")
    raw_id = rest.split(":", 1)[0]
    if kind == "meeting" and raw_id.isdigit():
        meeting = await meeting_store.meeting_by_id(session, int(raw_id))
        if meeting is not None:
            return f"#{meeting.number} {meeting.title}"
    if kind == "action_item" and raw_id.isdigit():
        item = await reminder_store.subject_action_item(session, int(raw_id))
        if item is not None:
            return _item_label(item)
    return subject


def _item_label(item: ActionItem) -> str:
    text = item.text if len(item.text) <= 60 else item.text[:59] + "…"
    return f"A-{item.number} „{text}“"


async def _queue_personal(
    services: Services,
    session: Session,
    *,
    kind: str,
    subject: str,
    user: User,
    group_id: int | None,
    due_at: datetime,
    decision: Timing,
    now: datetime,
    text: str,
    t: Translator,
    group_name: str = "",
    useful_until: datetime | None = None,
) -> int:
    """Log one personal reminder decision and, when it is to be sent, queue it with it: by
    chat and/or e-mail, as the person chose for reminders (handlers.email.routing);
    `useful_until`: not sent after this (a meeting reminder once the meeting started).

    A group's reminder goes only to someone still in the group's chat: the platform is
    asked first where it does not report leaving (handlers/members/presence.py).
    """
    status = ReminderStatus.SENT if decision is Timing.SEND else ReminderStatus.MISSED
    if (
        status is ReminderStatus.SENT
        and group_id is not None
        and not await still_member(services, session, group_id, user.id, now)
    ):
        return 0
    new = await reminder_store.record(
        session,
        kind=kind,
        subject=subject,
        recipient_id=user.id,
        group_id=group_id,
        due_at=due_at,
        status=status,
        now=now,
    )
    if not new or status is ReminderStatus.MISSED:
        return 0
    queued = await send_to_person(
        session,
        user_id=user.id,
        kind=MessageKind.REMINDERS,
        dedupe_key=f"reminder:{subject}:{user.id}:{due_at.isoformat()}",
        purpose=f"reminder_{kind}",
        chat=OutgoingMessage(text),
        mail=lambda _address: plain_mail(t, text, MessageKind.REMINDERS, group=group_name),
        now=now,
        group_id=group_id,
        expires_at=useful_until,
    )
    if not queued and not (await route_for(session, user.id, MessageKind.REMINDERS)).reachable:
        log.warning("person %s has no chat account or address; %s reminder not sent", user.id, kind)
    return queued


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


async def sweep_action_item_reminders(services: Services, now: datetime) -> int:
    """Before an open item is due, and once the day after it was due (overdue)."""
    settings = services.settings
    kind = ReminderKind.ACTION_ITEM.value
    at = settings.reminder_clock_time
    days_before = settings.reminder_action_item_days_before
    maximum = timedelta(hours=settings.reminder_action_item_max_lateness_hours)
    queued = 0
    async with services.sessions.begin() as session:
        since = await reminder_store.swept_until(session, kind) or now - maximum
        # Reminders fall on (due - days_before) and (due + 1) at `at`; a day's slack each
        # side for time zones.
        entries = await reminder_store.open_items_due_between(
            session,
            (since - timedelta(days=2)).date(),
            (now + timedelta(days=days_before + 2)).date(),
        )
        for entry in entries:
            if kind in muted_kinds(entry.muted) or entry.item.due_date is None:
                continue
            due = entry.item.due_date
            t, tz = audience(entry.user, entry.group)
            label, shown = _item_label(entry.item), format_date(due, t.language)
            plans = [
                (
                    "overdue",
                    local_instant(due + timedelta(days=1), at, tz),
                    None,
                    t.gettext(
                        "Task {item} ({group}) was due on {date} and is still open.",
                        item=label,
                        group=entry.group.name,
                        date=shown,
                    ),
                )
            ]
            if days_before:
                plans.insert(
                    0,
                    (
                        "before",
                        local_instant(due - timedelta(days=days_before), at, tz),
                        local_instant(due + timedelta(days=1), time(0), tz),
                        t.gettext(
                            "Reminder: task {item} ({group}) is due on {date}.",
                            item=label,
                            group=entry.group.name,
                            date=shown,
                        ),
                    ),
                )
            for step, due_at, deadline, text in plans:
                if due_at < since:
                    continue
                decision = decide(due_at, now, Lateness(maximum, deadline))
                if decision is Timing.NOT_YET:
                    continue
                queued += await _queue_personal(
                    services,
                    session,
                    kind=kind,
                    subject=f"action_item:{entry.item.id}:{step}",
                    user=entry.user,
                    group_id=entry.group.id,
                    due_at=due_at,
                    decision=decision,
                    now=now,
                    text=text,
                    t=t,
                    group_name=entry.group.name,
                )
        await _report_missed(session, services, now)
        await reminder_store.set_swept_until(session, kind, now)
    if queued:
        services.wake_outbox()
    return queued


async def sweep_digests(services: Services, now: datetime) -> int:
    """Once a week (weekday and time in each person's zone): their open items."""
    settings = services.settings
    kind = ReminderKind.DIGEST.value
    at = settings.reminder_clock_time
    maximum = timedelta(hours=settings.reminder_digest_max_lateness_hours)
    queued = 0
    async with services.sessions.begin() as session:
        since = await reminder_store.swept_until(session, kind) or now - maximum
        # Only on the digest day, give or take the world's time zones (UTC-12 … UTC+14),
        # is anybody's overview due: the rest of the week this sweep reads nothing.
        days = [
            d
            for d in _days((since - timedelta(days=1)).date(), (now + timedelta(days=1)).date())
            if d.isoweekday() == settings.reminder_digest_weekday
            and local_instant(d, at, ZoneInfo("UTC")) - timedelta(hours=14) <= now
            and local_instant(d, at, ZoneInfo("UTC")) + timedelta(hours=12) >= since
        ]
        if days:
            for items in await reminder_store.open_items_per_person(session):
                user = items[0].user
                if kind in muted_kinds(items[0].muted):
                    continue
                tz = ZoneInfo(user.timezone or settings.bot_timezone)
                for day in days:
                    due_at = local_instant(day, at, tz)
                    if due_at < since:
                        continue
                    decision = decide(due_at, now, Lateness(maximum))
                    if decision is Timing.NOT_YET:
                        continue
                    mine = items
                    if decision is Timing.SEND:
                        mine = await _still_in_groups(services, session, items, now)
                    if not mine:
                        continue
                    t = Translator(user.language or mine[0].group.language)
                    queued += await _queue_personal(
                        services,
                        session,
                        kind=kind,
                        subject=f"digest:{day.isoformat()}",
                        user=user,
                        group_id=None,
                        due_at=due_at,
                        decision=decision,
                        now=now,
                        text=_digest_text(t, mine),
                        t=t,
                    )
        await _report_missed(session, services, now)
        await reminder_store.set_swept_until(session, kind, now)
    if queued:
        services.wake_outbox()
    return queued


async def _still_in_groups(
    services: Services, session: Session, items: list[reminder_store.ItemAssignee], now: datetime
) -> list[reminder_store.ItemAssignee]:
    """A person's open items of the groups they are still in (asked as for a reminder)."""
    user_id = items[0].user.id
    kept: set[int] = set()
    for group_id in {entry.group.id for entry in items}:
        if await still_member(services, session, group_id, user_id, now):
            kept.add(group_id)
    return [entry for entry in items if entry.group.id in kept]


def _digest_text(t: Translator, items: list[reminder_store.ItemAssignee]) -> str:
    lines = [t.ngettext("Your open task this week:", "Your {n} open tasks this week:", len(items))]
    for entry in items:
        line = f"• {_item_label(entry.item)} ({entry.group.name})"
        if entry.item.due_date is not None:
            line += " – " + t.gettext(
                "due {date}", date=format_date(entry.item.due_date, t.language)
            )
        lines.append(line)
    return "\n".join(lines)


async def run_reminders(services: Services, now: datetime) -> None:
    """The scheduler's entry point for every reminder kind of this module."""
    await sweep_meeting_reminders(services, now)
    await sweep_action_item_reminders(services, now)
    await sweep_digests(services, now)
