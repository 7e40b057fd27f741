"""Decisions (Beschlüsse): record, correct, amend, list, search and show.

A decision belongs to the meeting running now (or `#N`) and to its current TOP. It is
numbered per group and year (B-2021-07). Once the meeting's minutes are approved it is
frozen; a later change is a new decision that amends it.
"""

from __future__ import annotations

from bot.core.enums import MinutesStatus, Role
from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.messages import Reply
from bot.core.numbers import decision_label
from bot.core.router import Arg, ArgKind, Command, Scope
from handlers.context import HandlerContext
from handlers.meetings.lookup import (
    ensure_not_approved,
    ensure_open,
    leading_meeting_ref,
    meeting_or_today,
)
from handlers.minutes.data import decision_value
from handlers.minutes.input_errors import input_error
from handlers.minutes.parsing import InputError, ParsedDecision, parse_decision, parse_decision_ref
from handlers.minutes.render import kind_text, outcome_suffix, top_text
from handlers.organisation.addressees import resolve_on_record
from handlers.organisation.status import forwarding_status
from storage import meetings as meeting_store
from storage import minutes as minutes_store
from storage.models import Decision, Meeting

EXAMPLE = N_("unanimous Recommendation to Strategiekreis: extend the checks.")
MAX_LIST = 30


def summary(ctx: HandlerContext, decision: Decision) -> str:
    """``B-2021-07 Empfehlung an Strategiekreis (einstimmig): Text`` in plain text."""
    value = decision_value(decision)
    line = f"{value.label} {kind_text(ctx.t, value.kind, value.addressee)}"
    return f"{line}{outcome_suffix(ctx.t, value)}: {value.text}"


def _parse(ctx: HandlerContext, text: str) -> ParsedDecision:
    try:
        return parse_decision(text)
    except InputError as error:
        raise input_error(ctx, error) from error


async def _decision(ctx: HandlerContext, raw: str) -> Decision:
    assert ctx.group is not None
    ref = parse_decision_ref(raw)
    decision = await minutes_store.decision_by_ref(ctx.session, ctx.group.id, *ref) if ref else None
    if decision is None:
        raise UserError(
            ctx._(
                "There is no decision {number} in this group. {command} lists them.",
                number=raw,
                command=ctx.command_name("decisions"),
            )
        )
    return decision


async def _store(
    ctx: HandlerContext, parsed: ParsedDecision, meeting: Meeting, amends: Decision | None
) -> Decision:
    assert ctx.group is not None
    ensure_not_approved(ctx, meeting)
    year = meeting.starts_at.astimezone(ctx.tz).year
    return await minutes_store.create_decision(
        ctx.session,
        group_id=ctx.group.id,
        year=year,
        meeting_id=meeting.id,
        agenda_item_id=await minutes_store.current_top_id(ctx.session, meeting),
        kind=parsed.kind.value,
        addressee=parsed.addressee,
        text=parsed.text,
        outcome=parsed.outcome.outcome.value,
        votes=(
            parsed.outcome.votes_for,
            parsed.outcome.votes_against,
            parsed.outcome.abstentions,
        ),
        amends_decision_id=amends.id if amends is not None else None,
        user_id=ctx.user.id,
        now=ctx.now,
    )


async def _recorded(ctx: HandlerContext, decision: Decision, meeting: Meeting) -> Reply:
    top = await minutes_store.top_number(ctx.session, decision.agenda_item_id)
    text = ctx._(
        "Decision recorded for #{meeting}, {top}:\n{decision}",
        meeting=meeting.number,
        top=top_text(ctx.t, top),
        decision=summary(ctx, decision),
    )
    if where := await resolve_on_record(ctx, decision):  # another group's inbox, later
        text += "\n" + where
    return Reply(text)


async def record(ctx: HandlerContext) -> Reply:
    number, text = await leading_meeting_ref(ctx, ctx.args["details"])
    if parse_decision_ref(text):  # "/beschluss B-2021-07" means: show it
        return await show(ctx, await _decision(ctx, text))
    parsed = _parse(ctx, text)
    meeting = await meeting_or_today(ctx, number)
    ensure_open(ctx, meeting)
    decision = await _store(ctx, parsed, meeting, None)
    return await _recorded(ctx, decision, meeting)


async def amend(ctx: HandlerContext) -> Reply:
    original = await _decision(ctx, ctx.args["number"])
    number, text = await leading_meeting_ref(ctx, ctx.args["details"])
    parsed = _parse(ctx, text)
    meeting = await meeting_or_today(ctx, number)
    ensure_open(ctx, meeting)
    decision = await _store(ctx, parsed, meeting, original)
    reply = await _recorded(ctx, decision, meeting)
    label = decision_label(original.year, original.number)
    return Reply(reply.text + "\n" + ctx._("It amends {label}.", label=label))


async def edit(ctx: HandlerContext) -> Reply:
    decision = await _decision(ctx, ctx.args["number"])
    label = decision_label(decision.year, decision.number)
    if await minutes_store.is_frozen(ctx.session, decision):
        raise UserError(
            ctx._(
                "{label} can no longer be changed: the minutes of its meeting are approved. "
                "Record an amendment instead: {command}",
                label=label,
                command=f"{ctx.command_name('amenddecision')} {label} …",
            )
        )
    parsed = _parse(ctx, ctx.args["details"])
    decision.kind, decision.addressee = parsed.kind.value, parsed.addressee
    decision.text, decision.outcome = parsed.text, parsed.outcome.outcome.value
    decision.votes_for = parsed.outcome.votes_for
    decision.votes_against = parsed.outcome.votes_against
    decision.abstentions = parsed.outcome.abstentions
    decision.updated_at = ctx.now
    text = ctx._("Decision changed:\n{decision}", decision=summary(ctx, decision))
    if where := await resolve_on_record(ctx, decision):
        text += "\n" + where
    return Reply(text)


async def show(ctx: HandlerContext, decision: Decision) -> Reply:
    lines = [summary(ctx, decision)]
    if decision.meeting_id is not None:
        meeting = await meeting_store.meeting_by_id(ctx.session, decision.meeting_id)
        if meeting is not None:
            top = await minutes_store.top_number(ctx.session, decision.agenda_item_id)
            lines.append(
                ctx._(
                    "Meeting #{number} {title}, {top}",
                    number=meeting.number,
                    title=meeting.title,
                    top=top_text(ctx.t, top),
                )
            )
            if meeting.minutes_status == MinutesStatus.APPROVED.value:
                lines.append(ctx._("Final: the minutes are approved."))
    if decision.amends_decision_id is not None:
        original = await minutes_store.decision_by_id(ctx.session, decision.amends_decision_id)
        if original is not None:
            lines.append(ctx._("Amends: {decision}", decision=summary(ctx, original)))
    for amendment in await minutes_store.amendments_of(ctx.session, decision.id):
        lines.append(ctx._("Amended by: {decision}", decision=summary(ctx, amendment)))
    if forwarded := (await forwarding_status(ctx, [decision])).get(decision.id):
        lines.append(forwarded.strip())
    return Reply("\n".join(lines))


async def list_or_search(ctx: HandlerContext) -> Reply:
    assert ctx.group is not None
    query = (ctx.args.get("query") or "").strip()
    if query and parse_decision_ref(query):
        return await show(ctx, await _decision(ctx, query))
    words = [word.strip('"') for word in query.split() if word.strip('"')][:10]
    found = await minutes_store.decisions_of_group(ctx.session, ctx.group.id, words, limit=MAX_LIST)
    if not found:
        if words:
            return Reply(ctx._("No decision contains “{query}”.", query=" ".join(words)))
        return Reply(
            ctx._(
                "No decisions yet. Minute-takers record them with {command}",
                command=f"{ctx.command_name('decision')} {ctx._(EXAMPLE)}",
            )
        )
    title = (
        ctx._("Decisions with “{query}”:", query=" ".join(words))
        if words
        else ctx._("Decisions (newest first):")
    )
    forwarded = await forwarding_status(ctx, found)  # where those sent to other groups stand
    lines = [title, *(f"• {summary(ctx, d)}{forwarded.get(d.id, '')}" for d in found)]
    lines.append(
        ctx._(
            "Details: {command}",
            command=f"{ctx.command_name('decisions')} "
            + decision_label(found[0].year, found[0].number),
        )
    )
    return Reply("\n".join(lines))


DECISION_HELP = N_(
    "Format: [#meeting] [result] [kind:] text. Result: unanimous, 12:0:1 "
    "(for:against:abstentions), “for 12 against 0 abstain 1” or “no vote”. Kind: “Recommendation "
    "to Strategiekreis:”, “Assignment to AG Qualitätssicherung:” or “Info:”. It is attached to "
    "today's meeting and its current TOP. Example: /decision unanimous Recommendation to "
    "Strategiekreis: extend the checks."
)

COMMANDS = (
    Command(
        "decision",
        record,
        N_("Record a decision of today's meeting"),
        german="beschluss",
        args=(Arg("details", N_("result, kind, text"), kind=ArgKind.TEXT, max_length=3100),),
        details=DECISION_HELP,
        role=Role.MINUTE_TAKER,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "decisions",
        list_or_search,
        N_("List decisions, search them by words, or show one (B-2021-07)"),
        german="beschluesse",
        args=(
            Arg(
                "query",
                N_("words or number"),
                kind=ArgKind.TEXT,
                required=False,
                max_length=300,
            ),
        ),
        details=N_(
            "Examples: /decisions – the latest; /decisions Strategiekreis checks – those "
            "containing all these words; /decisions B-2021-07 – one with its meeting, TOP and "
            "amendments."
        ),
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "editdecision",
        edit,
        N_("Correct a decision before its minutes are approved"),
        german="beschlussaendern",
        args=(
            Arg("number", N_("number")),
            Arg("details", N_("result, kind, text"), kind=ArgKind.TEXT, max_length=3100),
        ),
        details=N_(
            "Replaces result, kind and text. Example: /editdecision B-2021-07 12:0:1 The group "
            "adopts the guide."
        ),
        role=Role.MINUTE_TAKER,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "amenddecision",
        amend,
        N_("Record a decision that amends an earlier one"),
        german="aenderungsbeschluss",
        args=(
            Arg("number", N_("number")),
            Arg("details", N_("result, kind, text"), kind=ArgKind.TEXT, max_length=3100),
        ),
        details=N_(
            "For decisions whose minutes are approved. Example: /amenddecision B-2021-07 "
            "unanimous The deadline moves to 30.09."
        ),
        role=Role.MINUTE_TAKER,
        scope=Scope.GROUP,
        needs_group=True,
    ),
)
