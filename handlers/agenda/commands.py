"""The agenda (Tagesordnung) of a meeting: TOP 1…n with presenter and planned time, breaks,
members' proposals that chairs accept or reject, and the last item "Verschiedenes"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.dates import parse_time_range
from bot.core.enums import AgendaItemKind, AgendaItemStatus, Role
from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.mentions import is_mention
from bot.core.messages import Button, Reply
from bot.core.quotes import unquote
from bot.core.router import Arg, ArgKind, Command, Scope
from handlers.context import HandlerContext
from handlers.meetings.commands import describe
from handlers.meetings.lookup import (
    ensure_not_approved,
    ensure_open,
    find_member_named,
    item_by_arg,
    meeting_by_arg,
    member_by_mention,
    member_names,
)
from storage import agenda as agenda_store
from storage.models import AgendaItem, Meeting

ITEM_EXAMPLE = "Bericht der Fachgruppe Handwerk | @anna | 10:30"
BREAK_TITLE = N_("Break")
STATUS_LABELS = {
    AgendaItemStatus.PROPOSED.value: N_("open"),
    AgendaItemStatus.REJECTED.value: N_("rejected"),
}


def _clock(ctx: HandlerContext, moment: datetime | None) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(ctx.tz)
    return f"{local.hour}:{local.minute:02d}" if ctx.language == "de" else local.strftime("%H:%M")


def presenter_text(item: AgendaItem, names: dict[int, str]) -> str:
    if item.presenter_user_id is not None:
        return names.get(item.presenter_user_id, item.presenter_name or "?")
    return item.presenter_name or ""


async def agenda_lines(ctx: HandlerContext, meeting: Meeting) -> list[str]:
    """The agenda as aligned lines: TOP, time, topic, presenter; then open proposals."""
    items = await agenda_store.items_of(ctx.session, meeting.id)
    names = await member_names(ctx)
    accepted = [i for i in items if i.status == AgendaItemStatus.ACCEPTED.value]
    proposals = [i for i in items if i.status != AgendaItemStatus.ACCEPTED.value]
    lines = []
    if not accepted:
        lines.append(ctx._("(no items yet)"))
    numbers = agenda_store.top_numbers(accepted)
    width = max((len(_clock(ctx, i.planned_start)) for i in accepted), default=0)
    label_width = max((len(f"TOP {n}") for n in numbers.values()), default=5)
    for item in accepted:
        marker = "▶ " if item.id == meeting.current_agenda_item_id else ""
        # A break keeps its time and place but no TOP number, as in the groups' invitations.
        label = f"TOP {numbers[item.id]}" if item.id in numbers else "☕"
        line = f"{marker}{label:<{label_width}}"
        if width:
            line += f" | {_clock(ctx, item.planned_start):>{width}}"
        line += f" | {item.title}"
        presenter = presenter_text(item, names)
        if presenter:
            line += f" | {presenter}"
        if item.continue_next_time:
            line += " ↻"
        lines.append(line)
    if proposals:
        lines.append(ctx._("Proposals:"))
        for item in proposals:
            by = names.get(item.proposed_by_user_id or 0, "?")
            presenter = presenter_text(item, names)
            lines.append(
                f"P{item.position} {item.title}"
                + (f" | {presenter}" if presenter else "")
                + " – "
                + ctx._("by {name}, {status}", name=by, status=ctx._(STATUS_LABELS[item.status]))
            )
    if any(i.continue_next_time for i in accepted):
        lines.append(ctx._("↻ = continued at the next meeting"))
    if len(numbers) < len(accepted):
        lines.append(
            ctx._(
                "☕ = break, without a TOP number; name it as pause1, pause2, … e.g. {example}",
                example=f"{ctx.command_name('edititem')} {meeting.number} pause1 zeit 12:30",
            )
        )
    return lines


async def item_label(ctx: HandlerContext, meeting: Meeting, item: AgendaItem) -> str:
    """ "TOP 3" as people received it in the invitation, or "☕ Mittagspause" for a break."""
    numbers = agenda_store.top_numbers(await agenda_store.accepted_items(ctx.session, meeting.id))
    if item.id in numbers:
        return ctx._("TOP {number}", number=numbers[item.id])
    return f"☕ {item.title}"


async def show(ctx: HandlerContext) -> Reply:
    meeting = await meeting_by_arg(ctx, ctx.args["number"])
    head = ctx._("Agenda of {meeting}", meeting=describe(ctx, meeting))
    return Reply("\n".join([head, *await agenda_lines(ctx, meeting)]))


@dataclass
class ItemFields:
    """What "Title | presenter | 10:30" says."""

    title: str
    presenter_user_id: int | None = None
    presenter_name: str | None = None
    planned_start: datetime | None = None


async def _parse_item(
    ctx: HandlerContext, meeting: Meeting, text: str, *, default_title: str = ""
) -> ItemFields:
    """ "Title | presenter | 10:30": presenter @member or free text, time of the day."""
    parts = [p.strip() for p in text.split("|")]
    title = unquote(parts[0]) or default_title
    if not title:
        raise UserError(ctx._("Please give the item a title, e.g. {example}", example=ITEM_EXAMPLE))
    if len(title) > 300:
        raise UserError(ctx._("The title is too long (at most 300 characters)."))
    if len(parts) > 3:
        raise UserError(
            ctx._(
                "Please write at most: title | presenter | time, e.g. {example}",
                example=ITEM_EXAMPLE,
            )
        )
    fields = ItemFields(title)
    rest = [p for p in parts[1:] if p]
    # The time may come second when there is no presenter ("Pause | 12:30").
    if rest and _looks_like_time(rest[-1]):
        fields.planned_start = _planned(ctx, meeting, rest.pop())
    if rest:
        fields.presenter_user_id, fields.presenter_name = await _presenter(ctx, rest[0])
    return fields


def _looks_like_time(text: str) -> bool:
    try:
        parse_time_range(text)
    except ValueError:
        return False
    return True


def _planned(ctx: HandlerContext, meeting: Meeting, text: str) -> datetime:
    start, _ = parse_time_range(text)
    day = meeting.starts_at.astimezone(ctx.tz).date()
    return datetime.combine(day, start).replace(tzinfo=ctx.tz)


async def _presenter(ctx: HandlerContext, text: str) -> tuple[int | None, str]:
    """A member (@name; their display name is kept for the minutes) or free text."""
    if len(text) > 200:
        raise UserError(ctx._("The presenter's name is too long (at most 200 characters)."))
    if is_mention(text):
        identity = await member_by_mention(ctx, text)
        return identity.user_id, identity.display_name
    if (member := await find_member_named(ctx, text)) is not None:  # a member's own name
        return member.user_id, member.display_name
    return None, text


async def _add(
    ctx: HandlerContext,
    meeting: Meeting,
    fields: ItemFields,
    *,
    kind: AgendaItemKind = AgendaItemKind.TOPIC,
    status: AgendaItemStatus = AgendaItemStatus.ACCEPTED,
) -> AgendaItem:
    return await agenda_store.add_item(
        ctx.session,
        meeting,
        title=fields.title,
        now=ctx.now,
        kind=kind,
        status=status,
        presenter_user_id=fields.presenter_user_id,
        presenter_name=fields.presenter_name,
        planned_start=fields.planned_start,
        proposed_by_user_id=ctx.user.id if status is AgendaItemStatus.PROPOSED else None,
    )


async def _editable_meeting(ctx: HandlerContext) -> Meeting:
    meeting = await meeting_by_arg(ctx, ctx.args["number"])
    ensure_open(ctx, meeting)
    ensure_not_approved(ctx, meeting)
    return meeting


async def _answer(ctx: HandlerContext, meeting: Meeting, headline: str) -> Reply:
    return Reply("\n".join([headline, *await agenda_lines(ctx, meeting)]))


async def add(ctx: HandlerContext) -> Reply:
    meeting = await _editable_meeting(ctx)
    fields = await _parse_item(ctx, meeting, ctx.args["item"])
    item = await _add(ctx, meeting, fields)
    label = await item_label(ctx, meeting, item)
    return await _answer(ctx, meeting, ctx._("{item} added.", item=label))


async def add_break(ctx: HandlerContext) -> Reply:
    meeting = await _editable_meeting(ctx)
    fields = await _parse_item(
        ctx, meeting, ctx.args.get("item") or "", default_title=ctx._(BREAK_TITLE)
    )
    item = await _add(ctx, meeting, fields, kind=AgendaItemKind.BREAK)
    label = await item_label(ctx, meeting, item)
    return await _answer(ctx, meeting, ctx._("{item} added.", item=label))


def _decision_buttons(
    ctx: HandlerContext, meeting: Meeting, item: AgendaItem
) -> tuple[tuple[Button, ...], ...]:
    prefix = ctx.platform.command_prefix
    ref = f"{meeting.number} P{item.position}"
    return Reply.rows(
        [
            Button(ctx._("Accept"), f"{prefix}accept {ref}"),
            Button(ctx._("Reject"), f"{prefix}reject {ref}"),
        ]
    )


async def propose(ctx: HandlerContext) -> Reply:
    meeting = await _editable_meeting(ctx)
    fields = await _parse_item(ctx, meeting, ctx.args["item"])
    item = await _add(ctx, meeting, fields, status=AgendaItemStatus.PROPOSED)
    return Reply(
        ctx._(
            "Proposal P{number} for meeting #{meeting}: {title}. A chair accepts it with {accept} "
            "or rejects it with {reject}.",
            number=item.position,
            meeting=meeting.number,
            title=item.title,
            accept=f"{ctx.command_name('accept')} {meeting.number} P{item.position}",
            reject=f"{ctx.command_name('reject')} {meeting.number} P{item.position}",
        ),
        buttons=_decision_buttons(ctx, meeting, item),
    )


async def accept(ctx: HandlerContext) -> Reply:
    meeting = await _editable_meeting(ctx)
    item = await item_by_arg(ctx, meeting, ctx.args["item"], proposal=True)
    if item.status == AgendaItemStatus.ACCEPTED.value:
        raise UserError(ctx._("This proposal was accepted already."))
    number = item.position
    await agenda_store.accept_item(ctx.session, meeting, item)
    label = await item_label(ctx, meeting, item)
    return await _answer(
        ctx, meeting, ctx._("Proposal P{proposal} is now {item}.", proposal=number, item=label)
    )


async def reject(ctx: HandlerContext) -> Reply:
    meeting = await _editable_meeting(ctx)
    item = await item_by_arg(ctx, meeting, ctx.args["item"], proposal=True)
    item.status = AgendaItemStatus.REJECTED.value
    return Reply(
        ctx._("Proposal P{number} was rejected: {title}", number=item.position, title=item.title),
        toast=ctx._("Rejected"),
    )


ITEM_FIELDS = {
    "title": "title",
    "titel": "title",
    "presenter": "presenter",
    "referent": "presenter",
    "referentin": "presenter",
    "präsentation": "presenter",
    "time": "time",
    "zeit": "time",
    "uhrzeit": "time",
}


async def edit(ctx: HandlerContext) -> Reply:
    meeting = await _editable_meeting(ctx)
    item = await item_by_arg(ctx, meeting, ctx.args["item"])
    field, value = ctx.args["field"], (ctx.args.get("value") or "").strip()
    if field == "title":
        title = unquote(value)
        if not title or len(title) > 300:
            raise UserError(ctx._("Please give a title of at most 300 characters."))
        item.title = title
    elif field == "presenter":
        if value:
            item.presenter_user_id, item.presenter_name = await _presenter(ctx, value)
        else:
            item.presenter_user_id = item.presenter_name = None
    else:
        item.planned_start = _planned(ctx, meeting, value) if value else None
    label = await item_label(ctx, meeting, item)
    return await _answer(ctx, meeting, ctx._("{item} changed.", item=label))


async def remove(ctx: HandlerContext) -> Reply:
    meeting = await _editable_meeting(ctx)
    item = await item_by_arg(ctx, meeting, ctx.args["item"])
    title = item.title
    await agenda_store.remove_item(ctx.session, meeting, item)
    return await _answer(ctx, meeting, ctx._("Removed: {title}", title=title))


async def move(ctx: HandlerContext) -> Reply:
    meeting = await _editable_meeting(ctx)
    item = await item_by_arg(ctx, meeting, ctx.args["item"])
    raw = ctx.args["position"].upper().removeprefix("TOP").strip()
    if not raw.isdecimal() or int(raw) < 1:
        raise UserError(ctx._("Please give the new place as a number, e.g. {example}", example="2"))
    if item.kind == AgendaItemKind.MISC.value:
        raise UserError(ctx._("“{title}” always stays last.", title=item.title))
    # The new place is a TOP number: the item goes where that TOP stands now.
    accepted = await agenda_store.accepted_items(ctx.session, meeting.id)
    numbers = agenda_store.top_numbers(accepted)
    target = next((i for i in accepted if numbers.get(i.id) == int(raw)), None)
    position = target.position if target is not None else len(accepted) + 1
    await agenda_store.move_item(ctx.session, meeting, item, position)
    if item.kind == AgendaItemKind.BREAK.value:
        headline = ctx._("“{title}” is now before TOP {number}.", title=item.title, number=raw)
    else:
        label = await item_label(ctx, meeting, item)
        headline = ctx._("“{title}” is now {item}.", title=item.title, item=label)
    return await _answer(ctx, meeting, headline)


async def carry_over(ctx: HandlerContext) -> Reply:
    meeting = await meeting_by_arg(ctx, ctx.args["number"])
    ensure_not_approved(ctx, meeting)
    item = await item_by_arg(ctx, meeting, ctx.args["item"])
    if item.kind == AgendaItemKind.BREAK.value:
        raise UserError(ctx._("A break is not carried over to the next meeting."))
    numbers = agenda_store.top_numbers(await agenda_store.accepted_items(ctx.session, meeting.id))
    item.continue_next_time = not item.continue_next_time
    if item.continue_next_time:
        text = ctx._(
            "TOP {number} “{title}” will be continued at the next meeting.",
            number=numbers[item.id],
            title=item.title,
        )
    else:
        text = ctx._(
            "TOP {number} “{title}” will no longer be carried over.",
            number=numbers[item.id],
            title=item.title,
        )
    return Reply(text)


_MEETING = Arg("number", N_("meeting"))
_TOP = Arg("item", N_("TOP"))

COMMANDS = (
    Command(
        "agenda",
        show,
        N_("Show the agenda of a meeting"),
        german="tagesordnung",
        args=(_MEETING,),
        details=N_("Example: /tagesordnung 3"),
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "additem",
        add,
        N_("Add a TOP: title | presenter | planned time"),
        german="tophinzu",
        args=(
            _MEETING,
            Arg("item", N_("title | presenter | time"), kind=ArgKind.TEXT, max_length=600),
        ),
        details=N_(
            "Example: /tophinzu 3 Bericht der Fachgruppe Handwerk | @anna | 10:30 – the "
            "presenter is a member (@name) or a name with organisation, e.g. "
            "“Dr. Weber (IHK Köln)”. Presenter and time are optional. New items go before "
            "“Verschiedenes / nächste Termine”, which stays last."
        ),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "addbreak",
        add_break,
        N_("Add a break to the agenda"),
        german="pause",
        args=(
            _MEETING,
            Arg("item", N_("title | time"), kind=ArgKind.TEXT, max_length=600, required=False),
        ),
        details=N_("Example: /pause 3 Mittagspause | 12:30"),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "propose",
        propose,
        N_("Propose an agenda item; a chair accepts or rejects it"),
        german="vorschlagen",
        args=(
            _MEETING,
            Arg("item", N_("title | presenter | time"), kind=ArgKind.TEXT, max_length=600),
        ),
        details=N_("Example: /vorschlagen 3 Erfahrungsaustausch Saarland | @bernd"),
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "accept",
        accept,
        N_("Accept a proposed agenda item"),
        german="annehmen",
        args=(_MEETING, Arg("item", N_("proposal"))),
        details=N_("Example: /annehmen 3 P1 – or use the button under the proposal."),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "reject",
        reject,
        N_("Reject a proposed agenda item"),
        german="ablehnen",
        args=(_MEETING, Arg("item", N_("proposal"))),
        details=N_("Example: /ablehnen 3 P1"),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "edititem",
        edit,
        N_("Change a TOP: title, presenter or time"),
        german="topaendern",
        args=(
            _MEETING,
            _TOP,
            Arg(
                "field",
                N_("field"),
                kind=ArgKind.CHOICE,
                choices=ITEM_FIELDS,
                display={"de": "titel|referent|zeit", "en": "title|presenter|time"},
            ),
            Arg("value", N_("value"), kind=ArgKind.TEXT, max_length=300, required=False),
        ),
        details=N_(
            "Example: /topaendern 3 2 referent Dr. Weber (IHK Köln) – an empty value removes "
            "the presenter or the time."
        ),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "removeitem",
        remove,
        N_("Remove a TOP from the agenda"),
        german="topentfernen",
        args=(_MEETING, _TOP),
        details=N_("Example: /topentfernen 3 2 – the following TOPs move up."),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "moveitem",
        move,
        N_("Move a TOP to another place in the agenda"),
        german="topverschieben",
        args=(_MEETING, _TOP, Arg("position", N_("new place"))),
        details=N_("Example: /topverschieben 3 5 2 – TOP 5 becomes TOP 2."),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "carryover",
        carry_over,
        N_("Mark a TOP to be continued at the next meeting (or undo it)"),
        german="vertagen",
        args=(_MEETING, _TOP),
        details=N_(
            "Example: /vertagen 3 4 – the TOP comes back on the agenda draft of the group's "
            "next meeting."
        ),
        role=Role.MINUTE_TAKER,
        scope=Scope.GROUP,
        needs_group=True,
    ),
)
