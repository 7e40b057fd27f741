"""Reports one group owes another at regular intervals (a Fachgruppe reports yearly to the AG
Transfer): the owing group's chair records the duty and reports delivery; the receiving group
gets it on its next agenda. The reminder before each due date is in report_jobs.py."""

from __future__ import annotations

from bot.core.dates import DateParseError, format_date, parse_date
from bot.core.enums import Role
from bot.core.errors import UserError
from bot.core.i18n import N_, Translator
from bot.core.messages import OutgoingMessage, Reply
from bot.core.router import Arg, ArgKind, Command, Scope
from handlers.context import HandlerContext
from handlers.organisation.addressees import candidates
from handlers.organisation.addressing import match
from handlers.organisation.numbers import parse_report_ref, report_label
from handlers.organisation.reports import MAX_LEAD_DAYS, add_months, parse_interval, parse_lead
from storage import agenda as agenda_store
from storage import minutes as minutes_store
from storage import organisation as org_store
from storage import outbox, people
from storage.models import ReportDuty

MAX_TITLE = 150


INTERVAL_NAMES = {
    12: N_("yearly"),
    6: N_("half-yearly"),
    3: N_("quarterly"),
    1: N_("monthly"),
}


def _interval_text(ctx: HandlerContext, months: int) -> str:
    name = INTERVAL_NAMES.get(months)
    return ctx._(name) if name else str(months)


async def add_duty(ctx: HandlerContext) -> Reply:
    assert ctx.group is not None
    parts = [part.strip() for part in ctx.args["details"].split("|")]
    usage = ctx._(
        "Please write: group | title | interval | first due date, e.g. {command}",
        command=f"{ctx.command_name('reportduty')} AG Transfer | Jahresbericht | jährlich | "
        "31.03.2022",
    )
    if len(parts) != 4 or not all(parts):
        raise UserError(usage)
    name, title, raw_interval, raw_due = parts
    months = parse_interval(raw_interval)
    if months is None:
        raise UserError(
            ctx._(
                "“{interval}” is no interval I know: yearly, half-yearly, quarterly or monthly.",
                interval=raw_interval,
            )
        )
    if len(title) > MAX_TITLE:
        raise UserError(
            ctx._("That is too long: at most {limit} characters, please.", limit=MAX_TITLE)
        )
    try:
        due = parse_date(raw_due, now=ctx.now, tz=ctx.tz)
    except DateParseError as error:
        raise UserError(usage) from error
    found = match(name, await candidates(ctx.session, excluding=ctx.group.id))
    if len(found) != 1:
        names = ", ".join(c.name for c in found) or "–"
        raise UserError(
            ctx._("Please name exactly one registered group. Matching: {groups}", groups=names)
        )
    duty = await org_store.add_report_duty(
        ctx.session,
        owing_group_id=ctx.group.id,
        receiving_group_id=found[0].group_id,
        title=title,
        every_months=months,
        due_date=due,
        user_id=ctx.user.id,
        now=ctx.now,
    )
    return Reply(
        ctx._(
            "Report {number} “{title}” to {group}, {interval}, first due on {date}. The chairs "
            "are reminded {days} days before ({command} changes that).",
            number=report_label(duty.number),
            title=title,
            group=found[0].name,
            interval=_interval_text(ctx, months),
            date=format_date(due, ctx.language),
            days=ctx.services.settings.report_remind_days_before,
            command=f"{ctx.command_name('reportlead')} {report_label(duty.number)} 30",
        )
    )


async def set_lead(ctx: HandlerContext) -> Reply:
    """How many days before the due date the chairs are reminded of this report."""
    duty = await _duty(ctx)
    days = parse_lead(ctx.args["days"])
    if days is None:
        raise UserError(
            ctx._(
                "Please give the days before the due date as a number from 0 to {limit}, "
                "e.g. {command}",
                limit=MAX_LEAD_DAYS,
                command=f"{ctx.command_name('reportlead')} {report_label(duty.number)} 30",
            )
        )
    duty.remind_days_before = days
    return Reply(
        ctx._(
            "The chairs are reminded of {number} “{title}” {days} days before it is due "
            "(next due on {date}).",
            number=report_label(duty.number),
            title=duty.title,
            days=days,
            date=format_date(duty.due_date, ctx.language),
        )
    )


async def list_duties(ctx: HandlerContext) -> Reply:
    assert ctx.group is not None
    duties = await org_store.report_duties_of(ctx.session, ctx.group.id)
    if not duties:
        return Reply(
            ctx._(
                "No reports are owed to or by this group. A chair records one with {command}",
                command=ctx.command_name("reportduty"),
            )
        )
    names = await org_store.group_names(
        ctx.session, {d.owing_group_id for d in duties} | {d.receiving_group_id for d in duties}
    )
    lines = [ctx._("Reports between groups:")]
    for duty in duties:
        params = {
            "title": duty.title,
            "interval": _interval_text(ctx, duty.every_months),
            "date": format_date(duty.due_date, ctx.language),
        }
        if duty.owing_group_id == ctx.group.id:
            line = ctx._(
                "{number} “{title}” to {group}, {interval}, due {date}",
                number=report_label(duty.number),
                group=names.get(duty.receiving_group_id, "?"),
                **params,
            )
            if duty.remind_days_before is not None:
                line += " – " + ctx._("reminder {days} days before", days=duty.remind_days_before)
        else:
            line = ctx._(
                "“{title}” from {group}, {interval}, due {date}",
                group=names.get(duty.owing_group_id, "?"),
                **params,
            )
        lines.append(f"• {line}")
    return Reply("\n".join(lines))


async def _duty(ctx: HandlerContext) -> ReportDuty:
    assert ctx.group is not None
    raw = ctx.args["number"]
    number = parse_report_ref(raw)
    duty = (
        await org_store.report_duty(ctx.session, ctx.group.id, number)
        if number is not None
        else None
    )
    if duty is None:
        raise UserError(
            ctx._(
                "This group owes no report {number}. {command} lists them.",
                number=raw,
                command=ctx.command_name("reports"),
            )
        )
    return duty


async def delivered(ctx: HandlerContext) -> Reply:
    """The report is on the receiving group's next agenda, and its due date moves on."""
    assert ctx.group is not None
    duty = await _duty(ctx)
    receiving = await people.group_by_id(ctx.session, duty.receiving_group_id)
    upcoming = await minutes_store.scheduled_meetings_after(
        ctx.session, receiving.id, ctx.now, limit=1
    )
    t = Translator(receiving.language)
    title = t.gettext("Report: {title}", title=duty.title)
    if upcoming:
        meeting = upcoming[0]
        top = await agenda_store.add_item(
            ctx.session, meeting, title=title, presenter_name=ctx.group.name, now=ctx.now
        )
        there = t.gettext(
            "{group} delivered the report “{title}”: TOP {top} of meeting #{number}.",
            group=ctx.group.name,
            title=duty.title,
            top=top.position,
            number=meeting.number,
        )
    else:
        there = t.gettext(
            "{group} delivered the report “{title}”. No meeting is planned yet: please put it "
            "on the next agenda.",
            group=ctx.group.name,
            title=duty.title,
        )
    due = duty.due_date
    ctx.enqueued += await outbox.enqueue_for_group(
        ctx.session,
        receiving.id,
        dedupe_key=f"report:{duty.id}:{due.isoformat()}:delivered",
        purpose="report_delivered",
        message=OutgoingMessage(there),
        now=ctx.now,
    )
    duty.due_date = add_months(due, duty.every_months)
    duty.delivered_at = ctx.now
    return Reply(
        ctx._(
            "{number} delivered to {group}; it is on their next agenda. Next due on {date}.",
            number=report_label(duty.number),
            group=receiving.name,
            date=format_date(duty.due_date, ctx.language),
        )
        if upcoming
        else ctx._(
            "{number} delivered to {group}; they have no meeting planned yet and are asked to "
            "put it on their next agenda. Next due on {date}.",
            number=report_label(duty.number),
            group=receiving.name,
            date=format_date(duty.due_date, ctx.language),
        )
    )


COMMANDS = (
    Command(
        "reportduty",
        add_duty,
        N_("Record a report this group owes another group regularly"),
        german="berichtspflicht",
        args=(Arg("details", N_("group | title | interval | due"), kind=ArgKind.TEXT),),
        details=N_(
            "Interval: yearly, half-yearly, quarterly or monthly. Example: /reportduty AG "
            "Transfer | Annual report | yearly | 31.03.2022"
        ),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "reports",
        list_duties,
        N_("Reports this group owes and is owed"),
        german="berichte",
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "reportdelivered",
        delivered,
        N_("Report a delivered report: it goes on the receiving group's next agenda"),
        german="berichtgeliefert",
        args=(Arg("number", N_("number")),),
        details=N_("Example: /reportdelivered R-1"),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "reportlead",
        set_lead,
        N_("Set how many days before a report is due its chairs are reminded"),
        german="berichtvorlauf",
        args=(Arg("number", N_("number")), Arg("days", N_("days"), kind=ArgKind.TEXT)),
        details=N_(
            "Without it the chairs are reminded REPORT_REMIND_DAYS_BEFORE days (14) before. "
            "Example: /reportlead R-1 30"
        ),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
)
