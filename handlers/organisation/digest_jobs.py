"""The organisation digest (Infodienst), sent once per week or month to the destinations
admins configured: a daily job finds the last whole period, records it as sent in the same
transaction that queues the messages (so two processes or a restart send it once), and
covers everything since the previous digest (so a missed period is not lost)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.dates import format_date
from bot.core.i18n import Translator
from bot.core.mail import MAIL_PLATFORM, MailContent, to_outgoing
from bot.core.messages import OutgoingMessage
from bot.core.rich_text import MARKDOWN_FORMAT, TEXT_FORMAT, to_html, to_plain
from handlers.admins.directory import admin_group_ids, is_admin
from handlers.context import Job, Services, local_today
from handlers.members.presence import still_member
from handlers.organisation.digest_period import Frequency, last_complete_period
from handlers.organisation.digest_render import (
    DecisionEntry,
    DigestContent,
    Figures,
    MeetingEntry,
    WaitingEntry,
    render_digest,
)
from storage import digest as digest_store
from storage import mail as mail_store
from storage import outbox, people
from storage.db import Session
from storage.models import DigestDestination

PURPOSE = "org_digest"
UPCOMING_DAYS = {Frequency.WEEKLY: 14, Frequency.MONTHLY: 45}


def midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz)


async def collect(
    session: Session, *, since: datetime, until: datetime, frequency: Frequency, tz: ZoneInfo
) -> DigestContent:
    """What the digest for [since, until) shows, as each group's chair lets it appear."""
    shares = await digest_store.shares(session)
    today = until.astimezone(tz).date()
    open_items, overdue = await digest_store.open_items_between_groups(session, shares, today)
    decisions = await digest_store.decisions_approved_between(session, shares, since, until)
    meetings = await digest_store.announced_meetings(
        session, shares, until, until + timedelta(days=UPCOMING_DAYS[frequency])
    )
    figures = await digest_store.registry_figures(session, since, until)

    def waiting(entry: digest_store.OpenItem) -> WaitingEntry:
        return WaitingEntry(
            receiver=entry.receiver,
            sender=entry.sender,
            item_number=entry.item.number,
            decision_year=entry.decision.year,
            decision_number=entry.decision.number,
            since=entry.item.created_at.astimezone(tz).date(),
            due=entry.task_due,
        )

    return DigestContent(
        since=since.astimezone(tz).date(),
        until=today - timedelta(days=1),
        decisions=[
            DecisionEntry(
                group=s.group,
                year=s.decision.year,
                number=s.decision.number,
                held_on=s.meeting.starts_at.astimezone(tz).date(),
                kind=s.decision.kind,
                addressee=s.decision.addressee,
                text=s.decision.text,
            )
            for s in decisions
        ],
        meetings=[MeetingEntry(m.group, m.meeting.starts_at, m.meeting.title) for m in meetings],
        open_items=[waiting(e) for e in open_items],
        overdue_items=[waiting(e) for e in overdue],
        figures=Figures(
            listed_now=figures.listed_now,
            newly_listed=figures.newly_listed,
            reminded=figures.reminded,
            delisted=figures.delisted,
            relisted=figures.relisted,
        ),
    )


def frequency_of(row: object) -> Frequency:
    value = getattr(row, "digest_frequency", None)
    return Frequency(value) if value in Frequency.__members__.values() else Frequency.WEEKLY


async def receives(
    services: Services, session: Session, destination: DigestDestination, now: datetime
) -> bool:
    """A private chat gets the digest while its person is an admin (one through an admin
    chat is asked about as for any private message); a group chat while the bot is in it."""
    if destination.platform == MAIL_PLATFORM:
        return True
    if destination.user_id is not None:
        return await still_admin(services, session, destination.user_id, now)
    chat = await people.group_chat(session, destination.platform, destination.target)
    return chat is None or chat.gone_at is None


async def still_admin(services: Services, session: Session, user_id: int, now: datetime) -> bool:
    settings = services.settings
    if not await is_admin(session, settings, user_id):
        return False
    listed = set(settings.admin_user_refs)
    if any(
        (i.platform, i.platform_user_id) in listed
        for i in await people.identities_of(session, user_id)
    ):
        return True
    for group_id in await admin_group_ids(session, settings):
        if await people.membership(session, group_id, user_id) is not None and (
            await still_member(services, session, group_id, user_id, now)
        ):
            return True
    return False


async def queue_digest(
    session: Session,
    destination: DigestDestination,
    markdown: str,
    *,
    subject: str,
    dedupe_key: str,
    now: datetime,
) -> bool:
    if destination.platform == MAIL_PLATFORM:
        mail = MailContent(
            subject=subject,
            text=to_plain(markdown),
            language=destination.language,
            html=to_html(markdown),
        )
        return await mail_store.enqueue_mail(
            session,
            address=destination.target,
            dedupe_key=dedupe_key,
            purpose=PURPOSE,
            message=to_outgoing(mail),
            now=now,
        )
    return await outbox.enqueue(
        session,
        dedupe_key=dedupe_key,
        purpose=PURPOSE,
        platform=destination.platform,
        chat_id=destination.target,
        message=OutgoingMessage(markdown, extra={TEXT_FORMAT: MARKDOWN_FORMAT}),
        now=now,
    )


async def send_digest(services: Services, now: datetime) -> int:
    """Daily: the last whole period's digest, unless it (or a later one) was sent."""
    tz = ZoneInfo(services.settings.bot_timezone)
    today = local_today(services, now)
    queued = 0
    async with services.sessions.begin() as session:
        frequency = frequency_of(await digest_store.organisation_settings(session))
        period = last_complete_period(today, frequency)
        until = midnight(period.end, tz)
        targets = await digest_store.destinations(session)
        last = await digest_store.last_run(session)
        if not targets or (last is not None and last.until >= until):
            return 0
        if last is None and until <= min(t.created_at for t in targets):
            return 0  # the first digest is of the first period that ends after setting it up
        since = last.until if last is not None else midnight(period.start, tz)
        if not await digest_store.claim_period(
            session, period_key=period.key, since=since, until=until, now=now
        ):
            return 0  # another process sent it
        content = await collect(session, since=since, until=until, frequency=frequency, tz=tz)
        rendered: dict[str, str] = {}
        for destination in targets:
            if not await receives(services, session, destination, now):
                continue
            t = Translator(destination.language)
            if t.language not in rendered:
                rendered[t.language] = render_digest(t, content, tz)
            queued += await queue_digest(
                session,
                destination,
                rendered[t.language],
                subject=t.gettext(
                    "Infodienst {since} – {until}",
                    since=format_date(content.since, t.language),
                    until=format_date(content.until, t.language),
                ),
                dedupe_key=f"digest:{period.key}:{destination.id}",
                now=now,
            )
    if queued:
        services.wake_outbox()
    return queued


JOBS = (Job("organisation_digest", send_digest, daily=True),)
