"""The receiving group's inbox (Eingang): list what arrived from other groups; its chair puts
an item onto the next meeting's agenda, turns it into an action item, or declines it.

Items are numbered per receiving group (E-3) and looked up only in the chat's own group, so a
button or number from another group's chat can never touch this group's items.
"""

from __future__ import annotations

import re
from datetime import date

from bot.core.dates import DateParseError, format_date, parse_date
from bot.core.enums import InboxStatus, Role
from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.messages import Reply
from bot.core.numbers import action_label, decision_label
from bot.core.router import Arg, ArgKind, Command, Scope
from handlers.context import HandlerContext
from handlers.meetings.lookup import ensure_not_approved, ensure_open, meeting_by_arg
from handlers.minutes.render import kind_text
from handlers.organisation.forwarding import inbox_text
from handlers.organisation.numbers import item_label, parse_item_ref
from handlers.organisation.status import status_text, tell_sender
from storage import agenda as agenda_store
from storage import meetings as meeting_store
from storage import minutes as minutes_store
from storage import organisation as org_store
from storage import people
from storage.minutes import NewAssignee
from storage.models import Decision, InboxItem, Meeting

MAX_REASON = 1000
MAX_TITLE = 300
MAX_LIST = 30


async def _item(ctx: HandlerContext, raw: str) -> InboxItem:
    assert ctx.group is not None
    number = parse_item_ref(raw)
    item = (
        await org_store.item_by_number(ctx.session, ctx.group.id, number)
        if number is not None
        else None
    )
    if item is None:
        raise UserError(
            ctx._(
                "There is no inbox item {number} in this group. {command} lists them.",
                number=raw,
                command=ctx.command_name("inbox"),
            )
        )
    return item


async def _open_item(ctx: HandlerContext) -> tuple[InboxItem, Decision]:
    item = await _item(ctx, ctx.args["number"])
    if item.status != InboxStatus.OPEN.value:
        raise UserError(
            ctx._(
                "{item} was dealt with already: {status}.",
                item=item_label(item.number),
                status=status_text(ctx.t, item),
            )
        )
    decision = await minutes_store.decision_by_id(ctx.session, item.decision_id)
    assert decision is not None  # the item is deleted with its decision
    return item, decision


async def _sender_name(ctx: HandlerContext, item: InboxItem) -> str:
    return (await people.group_by_id(ctx.session, item.sending_group_id)).name


async def inbox(ctx: HandlerContext) -> Reply:
    assert ctx.group is not None
    raw = ctx.args.get("number")
    if raw:
        item = await _item(ctx, raw)
        decision = await minutes_store.decision_by_id(ctx.session, item.decision_id)
        assert decision is not None
        meeting = (
            await meeting_store.meeting_by_id(ctx.session, decision.meeting_id)
            if decision.meeting_id is not None
            else None
        )
        amended = await org_store.item_by_id(ctx.session, item.amends_item_id)
        sender = await _sender_name(ctx, item)
        text = inbox_text(ctx.t, ctx.tz, item, decision, sender, meeting, amended)
        return Reply(text + "\n" + ctx._("Status: {status}", status=status_text(ctx.t, item)))
    items = (await org_store.open_items(ctx.session, ctx.group.id))[:MAX_LIST]
    if not items:
        return Reply(ctx._("The inbox is empty: nothing from other groups is waiting."))
    names = await org_store.group_names(ctx.session, {i.sending_group_id for i in items})
    lines = [ctx._("Inbox (from other groups, not yet dealt with):")]
    for item in items:
        decision = await minutes_store.decision_by_id(ctx.session, item.decision_id)
        assert decision is not None
        lines.append(
            f"• {item_label(item.number)} {names.get(item.sending_group_id, '?')} "
            f"{decision_label(decision.year, decision.number)}: {decision.text}"
        )
    lines.append(
        ctx._(
            "Details: {command}",
            command=f"{ctx.command_name('inbox')} {item_label(items[0].number)}",
        )
    )
    return Reply("\n".join(lines))


async def _next_meeting(ctx: HandlerContext) -> Meeting:
    assert ctx.group is not None
    if raw := ctx.args.get("meeting"):
        meeting = await meeting_by_arg(ctx, raw)
        ensure_open(ctx, meeting)
        ensure_not_approved(ctx, meeting)
        return meeting
    upcoming = await minutes_store.scheduled_meetings_after(
        ctx.session, ctx.group.id, ctx.now, limit=1
    )
    if not upcoming:
        raise UserError(
            ctx._(
                "No meeting is planned yet. Plan one with {command}, then try again.",
                command=ctx.command_name("meeting"),
            )
        )
    return upcoming[0]


def _settle(ctx: HandlerContext, item: InboxItem, status: InboxStatus) -> None:
    item.status = status.value
    item.decided_at = ctx.now
    item.decided_by_user_id = ctx.user.id


async def take_up(ctx: HandlerContext) -> Reply:
    item, decision = await _open_item(ctx)
    meeting = await _next_meeting(ctx)
    sender = await _sender_name(ctx, item)
    head = f"{kind_text(ctx.t, decision.kind, decision.addressee)} ({sender}, "
    head += f"{decision_label(decision.year, decision.number)}): "
    title = head + decision.text
    if len(title) > MAX_TITLE:
        title = title[: MAX_TITLE - 1] + "…"
    top = await agenda_store.add_item(
        ctx.session, meeting, title=title, presenter_name=sender, now=ctx.now
    )
    item.agenda_item_id = top.id
    _settle(ctx, item, InboxStatus.ON_AGENDA)
    await tell_sender(ctx, item, decision)
    return Reply(
        ctx._(
            "{item} is on the agenda of meeting #{number} on {date} as TOP {top}, presented by "
            "{sender}.",
            item=item_label(item.number),
            number=meeting.number,
            date=format_date(meeting.starts_at.astimezone(ctx.tz).date(), ctx.language),
            top=top.position,
            sender=sender,
        )
    )


_DUE = re.compile(r"(?:^|\s)(?:bis|until|by)\s+(\S+)$", re.IGNORECASE)


def _who_and_due(ctx: HandlerContext, text: str) -> tuple[str, date | None]:
    """ "Dr. Weber bis 15.07.2021": who, and the due date the digest counts as overdue after."""
    found = _DUE.search(text)
    if found is None:
        return text, None
    try:
        due = parse_date(found.group(1).rstrip("."), now=ctx.now, tz=ctx.tz)
    except DateParseError as error:
        raise UserError(ctx._("“{value}” is no date I can read.", value=found.group(1))) from error
    return text[: found.start()].strip(), due


async def into_task(ctx: HandlerContext) -> Reply:
    assert ctx.group is not None
    item, decision = await _open_item(ctx)
    sender = await _sender_name(ctx, item)
    who, due = _who_and_due(ctx, " ".join((ctx.args.get("who") or "").split()))
    who = who or ctx.group.name
    text = f"{decision.text} ({sender}, {decision_label(decision.year, decision.number)})"
    action = await minutes_store.create_action_item(
        ctx.session,
        group_id=ctx.group.id,
        text=text,
        due=due,
        assignees=[NewAssignee(name=who)],
        meeting_id=None,
        agenda_item_id=None,
        decision_id=None,  # the decision is another group's: its number means nothing here
        user_id=ctx.user.id,
        now=ctx.now,
    )
    item.action_item_id = action.id
    _settle(ctx, item, InboxStatus.ACTION)
    await tell_sender(ctx, item, decision)
    return Reply(
        ctx._(
            "{item} is now action item {action} for {who}.",
            item=item_label(item.number),
            action=action_label(action.number),
            who=who,
        )
    )


async def decline(ctx: HandlerContext) -> Reply:
    item, decision = await _open_item(ctx)
    reason = " ".join(ctx.args["reason"].split())
    if len(reason) > MAX_REASON:
        raise UserError(
            ctx._("That is too long: at most {limit} characters, please.", limit=MAX_REASON)
        )
    item.reason = reason
    _settle(ctx, item, InboxStatus.DECLINED)
    await tell_sender(ctx, item, decision)
    return Reply(
        ctx._(
            "{item} declined; {sender} is told your reason.",
            item=item_label(item.number),
            sender=await _sender_name(ctx, item),
        )
    )


def _number_arg() -> Arg:
    return Arg("number", N_("inbox item"))


COMMANDS = (
    Command(
        "inbox",
        inbox,
        N_("What other groups sent this group and is not yet dealt with"),
        german="eingang",
        args=(Arg("number", N_("inbox item"), required=False),),
        details=N_(
            "Recommendations and assignments of other groups arrive here once their minutes "
            "are approved. Example: /inbox E-3 shows one with its source."
        ),
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "takeup",
        take_up,
        N_("Put an inbox item onto the next meeting's agenda"),
        german="uebernehmen",
        args=(_number_arg(), Arg("meeting", N_("meeting number"), required=False)),
        details=N_(
            "It becomes a TOP presented by the sending group; the sender is told. Example: "
            "/takeup E-3 – or /takeup E-3 #5 for meeting 5."
        ),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "intotask",
        into_task,
        N_("Turn an inbox item into an action item"),
        german="alsaufgabe",
        args=(_number_arg(), Arg("who", N_("who"), kind=ArgKind.TEXT, required=False)),
        details=N_(
            "Without a name the group itself does it; “until DATE” at the end sets its due "
            "date. Example: /intotask E-3 Dr. Weber until 15.07.2021"
        ),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "decline",
        decline,
        N_("Decline an inbox item, with a reason for the sender"),
        german="zurueckweisen",
        args=(
            _number_arg(),
            Arg("reason", N_("reason"), kind=ArgKind.TEXT, max_length=MAX_REASON),
        ),
        details=N_("Example: /decline E-3 Not our remit; please ask the AG Transfer."),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
)
