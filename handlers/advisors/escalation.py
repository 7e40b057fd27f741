"""The daily advisor escalation run: due steps become letters, listing changes, reports.

`run_advisor_escalation(services, today)` is what the scheduler calls once a day (and again
at start-up, which is harmless). Guarantees:

* **Exactly once.** Each step is recorded in `advisor_steps` (unique per advisor, step and
  cycle) in the same transaction as its outbox row (unique dedupe key). A repeated run, a
  restart or a second bot process finds the record and sends nothing; on PostgreSQL the
  advisors being handled are also locked with `FOR UPDATE SKIP LOCKED`, so a concurrent
  run passes over them instead of waiting.
* **Nothing silently dropped.** Superseded steps (downtime, late renewal) are recorded as
  missed; advisors without a reachable chat account are recorded as unreachable. Both are
  reported to admins, and every handled step goes into its training institution's summary.
  Reports are built from unreported records (`reported_at`), so a crash between handling
  and reporting only delays the report.
* **Cheap.** Only advisors with `next_step_on <= today` (an index range) are loaded.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from bot.core.dates import format_date
from bot.core.enums import ListingStatus, StepOutcome
from bot.core.i18n import Translator
from bot.core.mail import Channel, MessageKind, to_outgoing
from bot.core.messages import OutgoingMessage
from bot.core.settings import Settings
from handlers.admins.directory import admin_destinations, chat_language, tell_admins
from handlers.advisors.actions import histories, recompute_batch
from handlers.advisors.consent import consented
from handlers.advisors.exchange_ics import exchanges_document
from handlers.advisors.letter_mail import letter_mail
from handlers.advisors.letters import (
    ExchangeInfo,
    ReportLine,
    admin_report,
    advisor_letter,
    institution_summary,
)
from handlers.advisors.policy import (
    DueStep,
    EscalationPolicy,
    Step,
    due_steps,
    next_due_on,
    policy_fingerprint,
)
from handlers.advisors.public import public_list_url
from handlers.context import Services
from handlers.email.texts import institution_summary_mail
from storage import advisors as advisor_store
from storage import mail as mail_store
from storage import outbox, people
from storage.db import Session
from storage.models import Advisor, AdvisorStep, ExperienceExchange

log = logging.getLogger(__name__)

BATCH = 200  # advisors per transaction: short locks, bounded memory
PURPOSE = "advisor_escalation"


def advisor_policy(settings: Settings) -> EscalationPolicy | None:
    """The configured policy, or None while ADVISOR_POLICY_START is not set."""
    if settings.advisor_policy_start is None:
        return None
    return EscalationPolicy(
        policy_start=settings.advisor_policy_start,
        first_reminder_months=settings.advisor_first_reminder_months,
        second_reminder_months=settings.advisor_second_reminder_months,
        final_notice_months=settings.advisor_final_notice_months,
        delisting_months=settings.advisor_delisting_months,
        grace_months_for_already_expired=settings.advisor_grace_months,
    )


@dataclass
class EscalationReport:
    """What one run did; ``disabled`` when no policy start date is configured."""

    today: date
    disabled: bool = False
    sent: int = 0  # letters queued for advisors who can be reached
    unreachable: int = 0  # steps for advisors without a reachable chat account
    missed: int = 0  # superseded steps, recorded and reported instead of sent
    delisted: int = 0
    relisted: int = 0
    held: int = 0  # delistings waiting: no exchange took place since the last call
    advisors: int = 0  # advisors handled by this process
    summaries: int = 0  # summary/report messages queued
    unreported: int = 0  # handled steps left for the next run: no report destination set
    steps: list[tuple[int, str, str]] = field(default_factory=list)  # (advisor, step, outcome)


def outbox_key(advisor_id: int, step: DueStep) -> str:
    return f"advisor:{advisor_id}:{step.key}"


def exchange_info(exchange: ExperienceExchange) -> ExchangeInfo:
    return ExchangeInfo(
        number=exchange.id,
        starts_at=exchange.starts_at,
        ends_at=exchange.ends_at,
        provider=exchange.provider,
        place=exchange.place,
        capacity=exchange.capacity,
    )


async def ensure_next_steps(services: Services, policy: EscalationPolicy | None) -> bool:
    """Recompute every `next_step_on` once after the policy settings changed; True if so."""
    fingerprint = policy_fingerprint(policy)
    async with services.sessions() as session:
        if await advisor_store.stored_policy(session) == fingerprint:
            return False
    after: int | None = 0
    while after is not None:
        async with services.sessions.begin() as session:
            after = await recompute_batch(session, policy, after_id=after, limit=2000)
    async with services.sessions.begin() as session:
        await advisor_store.store_policy(session, fingerprint, services.clock.now())
    log.info("advisor policy is now %s: next steps recomputed", fingerprint)
    return True


async def run_advisor_escalation(services: Services, today: date) -> EscalationReport:
    """Handle every step due by ``today`` once, then queue the reports (see module doc)."""
    report = EscalationReport(today)
    policy = advisor_policy(services.settings)
    await ensure_next_steps(services, policy)
    if policy is None:
        log.warning("ADVISOR_POLICY_START is not set: no advisor reminders are sent")
        report.disabled = True
        return report
    after = 0
    while True:
        async with services.sessions.begin() as session:
            batch = await advisor_store.claim_due(session, today, after_id=after, limit=BATCH)
            if not batch:
                break
            after = batch[-1].id
            await _handle_batch(session, services, policy, batch, today, report)
        services.wake_outbox()
    await send_reports(services, today, report)
    services.wake_outbox()
    return report


async def _handle_batch(
    session: Session,
    services: Services,
    policy: EscalationPolicy,
    batch: list[Advisor],
    today: date,
    report: EscalationReport,
) -> None:
    now = services.clock.now()
    found = await histories(session, [a.id for a in batch])
    linked = [a.user_id for a in batch if a.user_id is not None]
    reachable = await advisor_store.reachable_users(session, linked)
    for advisor in batch:
        history = found[advisor.id]
        steps = due_steps(history, policy, today)
        report.advisors += 1
        handled = []
        for step in steps:
            if await _delisting_held(session, services, policy, advisor, step, today):
                report.held += 1
                continue  # stays due: looked at again on the next daily run
            await _handle_step(session, services, policy, advisor, step, reachable, now, report)
            handled.append(step)
        advisor.next_step_on = next_due_on(history.record(handled, today), policy)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz)


async def delisting_waits(
    session: Session,
    settings: Settings,
    policy: EscalationPolicy,
    advisor: Advisor,
    step: DueStep,
    today: date,
) -> bool:
    """True if this due delisting must wait: no exchange open to the advisor has taken
    place since the last call (and ADVISOR_DELIST_WITHOUT_EXCHANGE is not set)."""
    if settings.advisor_delist_without_exchange or step.superseded or not step.step.is_delisting:
        return False
    tz = ZoneInfo(settings.bot_timezone)
    return not await advisor_store.exchanges_between(
        session,
        start=_midnight(policy.last_call_on(step.cycle_start), tz),
        end=_midnight(today, tz),
        user_id=advisor.user_id,
    )


async def _delisting_held(
    session: Session,
    services: Services,
    policy: EscalationPolicy,
    advisor: Advisor,
    step: DueStep,
    today: date,
) -> bool:
    """An advisor is never delisted for lack of an exchange to attend: unless
    ADVISOR_DELIST_WITHOUT_EXCHANGE is set, a due delisting waits until an exchange open to
    the advisor has taken place since the last call. The admins are told once."""
    settings = services.settings
    if not await delisting_waits(session, settings, policy, advisor, step, today):
        return False
    since = policy.last_call_on(step.cycle_start)

    def note(t: Translator) -> str:
        return t.gettext(
            "Advisor #{number} {name} ({institution}) is not delisted for now: no experience "
            "exchange open to them has taken place since the last call of {day}. Please "
            "publish exchange dates; the delisting waits until one has taken place.",
            number=advisor.id,
            name=advisor.name,
            institution=advisor.institution,
            day=format_date(since, t.language),
        )

    await tell_admins(
        session,
        settings,
        dedupe_key=f"advisor-delisting-held:{advisor.id}:{step.key}",
        purpose="advisor_admin_report",
        text=note,
        now=services.clock.now(),
    )
    return True


async def handle_advisor_now(
    session: Session, services: Services, advisor: Advisor, today: date
) -> EscalationReport:
    """What is due for one advisor right now, in the caller's transaction: after a renewal
    of a delisted advisor this relists them at once, with the relisting letter."""
    report = EscalationReport(today)
    policy = advisor_policy(services.settings)
    if policy is None:
        report.disabled = True
        return report
    await _handle_batch(session, services, policy, [advisor], today, report)
    return report


async def _handle_step(
    session: Session,
    services: Services,
    policy: EscalationPolicy,
    advisor: Advisor,
    step: DueStep,
    reachable: set[int],
    now: datetime,
    report: EscalationReport,
) -> None:
    by_chat = by_mail = False
    if step.superseded:
        outcome, key = StepOutcome.MISSED, None
    else:
        can_write = advisor.user_id is not None and await advisor_store.has_identity(
            session, advisor.user_id
        )
        by_chat, by_mail = await letter_route(session, advisor, can_write)
        key = outbox_key(advisor.id, step) if by_chat or by_mail else None
        reached = (by_chat and advisor.user_id in reachable) or by_mail
        outcome = StepOutcome.SENT if reached else StepOutcome.UNREACHABLE
    no_exchange = (
        outcome is not StepOutcome.MISSED
        and step.deadline is not None
        and not await advisor_store.exchanges_between(
            session,
            start=now,
            end=_midnight(
                step.deadline + timedelta(days=1), ZoneInfo(services.settings.bot_timezone)
            ),
            user_id=advisor.user_id,
        )
    )
    # The record first: if it exists (another process, an earlier run) nothing happens.
    if not await advisor_store.record_step(
        session,
        advisor_id=advisor.id,
        step=step.step,
        cycle_start=step.cycle_start,
        due_on=step.due_on,
        outcome=outcome,
        now=now,
        outbox_key=key,
        no_exchange=no_exchange,
    ):
        return
    report.steps.append((advisor.id, step.step.value, outcome.value))
    if outcome is StepOutcome.MISSED:
        report.missed += 1
        return
    if step.step.is_delisting:
        advisor.status = ListingStatus.DELISTED.value
        advisor.updated_at = now
        report.delisted += 1
    elif step.step is Step.RELISTING:
        advisor.status = ListingStatus.LISTED.value
        advisor.updated_at = now
        report.relisted += 1
    if outcome is StepOutcome.SENT:
        report.sent += 1
    else:
        report.unreachable += 1
    if key is None:
        return
    letter = await build_letter(
        session, services, policy, advisor, step, now, nothing_before_deadline=no_exchange
    )
    if by_chat:  # linked: queued, it waits for a private chat if none is open yet
        assert advisor.user_id is not None
        await outbox.enqueue_to_person(
            session,
            user_id=advisor.user_id,
            dedupe_key=key,
            purpose=PURPOSE,
            message=letter,
            now=now,
        )
    if by_mail:
        assert advisor.email is not None
        await mail_store.enqueue_mail(
            session,
            address=advisor.email,
            dedupe_key=key,
            purpose=PURPOSE,
            message=to_outgoing(letter_mail(Translator(advisor.language), letter, step.step)),
            now=now,
            user_id=advisor.user_id,
        )


async def letter_route(session: Session, advisor: Advisor, can_write: bool) -> tuple[bool, bool]:
    """(by chat, by e-mail) for an advisor's letter. The registry's address is the
    initiative's own record of the advisor: letters go there unless the advisor, linked to
    a chat account, chose the chat only (`/email briefe chat`) — or has a chat and no
    address. Without a choice: chat where linked, else e-mail. An address that bounced or
    was refused (`email_unreachable_at`) counts as none until it is changed."""
    if not advisor.email or advisor.email_unreachable_at is not None:
        return can_write, False
    if not can_write:
        return False, True
    assert advisor.user_id is not None
    chosen = (await mail_store.channels(session, advisor.user_id)).get(MessageKind.LETTERS.value)
    channel = Channel(chosen) if chosen else Channel.CHAT
    return channel.by_chat, channel.by_mail


async def build_letter(
    session: Session,
    services: Services,
    policy: EscalationPolicy,
    advisor: Advisor,
    step: DueStep,
    now: datetime,
    *,
    nothing_before_deadline: bool | None = None,
) -> OutgoingMessage:
    settings = services.settings
    user = await people.find_user(session, advisor.user_id) if advisor.user_id else None
    tz = ZoneInfo((user.timezone if user else None) or settings.bot_timezone)
    exchanges = await advisor_store.upcoming_exchanges(
        session, now=now, user_id=advisor.user_id, limit=settings.advisor_exchanges_listed
    )
    return advisor_letter(
        Translator(advisor.language),
        name=advisor.name,
        step=step.step,
        deadline=step.deadline,
        expiry=policy.expiry(step.cycle_start),
        exchanges=[exchange_info(e) for e in exchanges],
        delisting_waits=not settings.advisor_delist_without_exchange,
        nothing_before_deadline=nothing_before_deadline,
        list_url=public_list_url(settings),
        published=consented(advisor.published),
        tz=tz,
        attach=lambda listed: exchanges_document(
            listed,
            t=Translator(advisor.language),
            tz=tz,
            domain=services.calendar_domain,
            now=now,
        ),
    )


async def send_reports(services: Services, today: date, report: EscalationReport) -> None:
    """Institution summaries and the admin report of every step not reported yet."""
    settings = services.settings
    while True:
        async with services.sessions.begin() as session:
            steps = await advisor_store.unreported_steps(session, limit=1000)
            if not steps:
                return
            admins = await admin_destinations(session, settings)
            summary_chat = settings.advisor_summary_chat_ref
            if not admins and summary_chat is None:
                report.unreported += len(steps)
                log.warning(
                    "%d advisor steps are not reported: set ADMIN_CHATS, ADMIN_USERS or "
                    "ADVISOR_SUMMARY_CHAT",
                    len(steps),
                )
                return
            lines = await _report_lines(
                session, steps, advisor_policy(settings), ZoneInfo(settings.bot_timezone)
            )
            first = steps[0].id
            now = services.clock.now()
            summary_targets = [summary_chat] if summary_chat else list(admins.chats)
            by_institution: dict[str, list[ReportLine]] = defaultdict(list)
            for line in lines:
                by_institution[line.institution].append(line)
            for platform, chat in summary_targets:
                t = Translator(await chat_language(session, settings, platform, chat))
                for index, (institution, group) in enumerate(sorted(by_institution.items())):
                    report.summaries += await outbox.enqueue(
                        session,
                        dedupe_key=f"advisor-summary:{first}:{index}:{platform}:{chat}",
                        purpose="advisor_summary",
                        platform=platform,
                        chat_id=chat,
                        message=OutgoingMessage(institution_summary(t, institution, group, today)),
                        now=now,
                    )
            report.summaries += await _institution_summaries(
                session, settings, by_institution, first=first, today=today, now=now
            )
            missed = [line for line in lines if line.outcome == StepOutcome.MISSED]
            unreachable = [line for line in lines if line.outcome == StepOutcome.UNREACHABLE]
            no_exchange = [line for line in lines if line.no_exchange]
            # Without admin destinations, the summary chat gets the admin report as well.
            admin_chats = list(admins.chats) or ([summary_chat] if summary_chat else [])
            report.summaries += await tell_admins(
                session,
                settings,
                dedupe_key=f"advisor-admin:{first}",
                purpose="advisor_admin_report",
                text=partial(
                    admin_report,
                    missed=missed,
                    unreachable=unreachable,
                    today=today,
                    no_exchange=no_exchange,
                ),
                now=now,
                chats=admin_chats,
            )
            await advisor_store.mark_steps_reported(session, [s.id for s in steps], now)


async def _institution_summaries(
    session: Session,
    settings: Settings,
    by_institution: dict[str, list[ReportLine]],
    *,
    first: int,
    today: date,
    now: datetime,
) -> int:
    """Each training institution with a chat or an address of its own (`/institut`) gets
    its part of the summary there too: in the chat's language, by e-mail in the bot's
    default language; how many were queued."""
    queued = 0
    destinations = {row.name: row for row in await advisor_store.institutions(session)}
    for institution, group in sorted(by_institution.items()):
        row = destinations.get(institution)
        if row is None:
            continue
        if row.email is not None:
            t = Translator(settings.bot_language)
            queued += await mail_store.enqueue_mail(
                session,
                address=row.email,
                dedupe_key=f"advisor-institution-summary:{first}:{row.id}",
                purpose="advisor_summary",
                message=to_outgoing(
                    institution_summary_mail(
                        t, institution_summary(t, institution, group, today), institution=row.name
                    )
                ),
                now=now,
            )
        if row.chat_platform is None or row.chat_id is None:
            continue
        platform, chat = row.chat_platform, row.chat_id
        t = Translator(await chat_language(session, settings, platform, chat))
        queued += await outbox.enqueue(
            session,
            dedupe_key=f"advisor-institution-summary:{first}:{row.id}:{platform}:{chat}",
            purpose="advisor_summary",
            platform=platform,
            chat_id=chat,
            message=OutgoingMessage(institution_summary(t, institution, group, today)),
            now=now,
        )
    return queued


async def _report_lines(
    session: Session, steps: list[AdvisorStep], policy: EscalationPolicy | None, tz: ZoneInfo
) -> list[ReportLine]:
    advisors = await advisor_store.advisors_by_id(session, {s.advisor_id for s in steps})
    return [
        ReportLine(
            advisor_id=s.advisor_id,
            name=advisors[s.advisor_id].name,
            email=advisors[s.advisor_id].email,
            email_unreachable_on=_day(advisors[s.advisor_id].email_unreachable_at, tz),
            email_unreachable_reason=advisors[s.advisor_id].email_unreachable_reason,
            institution=advisors[s.advisor_id].institution,
            step=Step(s.step),
            outcome=s.outcome,
            due_on=s.due_on,
            no_exchange=s.no_exchange,
            deadline=policy.deadline_of(Step(s.step), s.cycle_start) if policy else None,
        )
        for s in steps
    ]


def _day(moment: datetime | None, tz: ZoneInfo) -> date | None:
    return moment.astimezone(tz).date() if moment is not None else None


@dataclass(frozen=True)
class PreviewLine:
    advisor: Advisor
    step: DueStep
    by_chat: bool  # how the letter would go: `letter_route`, as the run decides
    by_mail: bool
    waits: bool = False  # a delisting that waits for an exchange to have taken place


async def preview(
    session: Session,
    policy: EscalationPolicy,
    as_of: date,
    *,
    limit: int = 1000,
    settings: Settings | None = None,
) -> tuple[list[PreviewLine], int]:
    """What a run on ``as_of`` would do, without writing anything, and how many advisors;
    with `settings`, a delisting that would wait for an exchange is shown as such.

    Uses the stored `next_step_on`, so it assumes no renewal is recorded before ``as_of``.
    """
    ids = await advisor_store.due_advisors(session, as_of)
    shown = ids[:limit]
    found = await histories(session, shown)
    advisors = await advisor_store.advisors_by_id(session, shown)
    reachable = await advisor_store.reachable_users(
        session, [a.user_id for a in advisors.values() if a.user_id is not None]
    )
    lines = []
    for i in shown:
        for step in due_steps(found[i], policy, as_of):
            waits = settings is not None and await delisting_waits(
                session, settings, policy, advisors[i], step, as_of
            )
            by_chat, by_mail = await letter_route(
                session, advisors[i], advisors[i].user_id in reachable
            )
            lines.append(PreviewLine(advisors[i], step, by_chat, by_mail, waits))
    return lines, len(ids)
