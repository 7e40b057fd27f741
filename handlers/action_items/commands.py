"""Action items (Aufgaben): record with assignees and due date, change their status, list
a group's open or overdue items, and "my items" across all groups in the private chat."""

from __future__ import annotations

from datetime import date

from bot.core.dates import format_date
from bot.core.enums import ActionItemStatus, Role
from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.messages import Reply
from bot.core.numbers import action_label, decision_label
from bot.core.router import Arg, ArgKind, Command, Scope
from handlers.context import HandlerContext
from handlers.meetings.lookup import (
    ensure_not_approved,
    ensure_open,
    find_member,
    find_member_named,
    leading_meeting_ref,
    meeting_or_today,
)
from handlers.minutes.input_errors import input_error
from handlers.minutes.parsing import InputError, parse_action, parse_action_ref
from handlers.minutes.render import status_text, top_text
from storage import minutes as minutes_store
from storage import people
from storage.models import ActionItem, ActionItemAssignee

STATUS_CHOICES = {
    "offen": ActionItemStatus.OPEN.value,
    "open": ActionItemStatus.OPEN.value,
    "erledigt": ActionItemStatus.DONE.value,
    "done": ActionItemStatus.DONE.value,
    "verworfen": ActionItemStatus.DROPPED.value,
    "dropped": ActionItemStatus.DROPPED.value,
    "drop": ActionItemStatus.DROPPED.value,
}
LIST_CHOICES = {
    "offen": "open",
    "open": "open",
    "alle": "all",
    "all": "all",
    "ueberfaellig": "overdue",
    "überfällig": "overdue",
    "overdue": "overdue",
}


def _today(ctx: HandlerContext) -> date:
    return ctx.now.astimezone(ctx.tz).date()


def describe(
    ctx: HandlerContext,
    item: ActionItem,
    assignees: list[ActionItemAssignee],
    names: dict[int, str],
) -> str:
    """One item on one line: ``A-12 who: what – due date``, with its status unless open."""
    who = ", ".join(
        names.get(a.user_id, "?") if a.user_id is not None else (a.name or "?") for a in assignees
    )
    line = f"{action_label(item.number)} {who}: {item.text}"
    if item.due_date is not None:
        line += " – " + ctx._("due {date}", date=format_date(item.due_date, ctx.language))
        if item.status == ActionItemStatus.OPEN.value and item.due_date < _today(ctx):
            line += " ⚠ " + ctx._("overdue")
    if item.status != ActionItemStatus.OPEN.value:
        line += f" ({status_text(ctx.t, item.status)})"
    return line


async def _describe_all(ctx: HandlerContext, items: list[ActionItem]) -> list[str]:
    assignees = await minutes_store.assignees_of(ctx.session, [item.id for item in items])
    user_ids = {a.user_id for rows in assignees.values() for a in rows if a.user_id is not None}
    names = await people.display_names(ctx.session, user_ids, ctx.platform.name)
    labels = await minutes_store.decision_labels(ctx.session, [item.decision_id for item in items])
    lines = []
    for item in items:
        line = describe(ctx, item, assignees[item.id], names)
        if item.decision_id in labels:
            line += " " + ctx._("(re {label})", label=labels[item.decision_id])
        lines.append(line)
    return lines


async def _resolve(ctx: HandlerContext, mention: str) -> int:
    """A @mention of a member of this group → their user id."""
    identity = await find_member(ctx, mention)
    if identity is None:
        raise UserError(
            ctx._(
                "I don't know @{name} in this group. For people outside the bot, write the "
                "name without @.",
                name=mention,
            )
        )
    return identity.user_id


async def record(ctx: HandlerContext) -> Reply:
    assert ctx.group is not None
    number, text = await leading_meeting_ref(ctx, ctx.args["details"])
    try:
        parsed = parse_action(text, now=ctx.now, tz=ctx.tz)
    except InputError as error:
        raise input_error(ctx, error) from error
    meeting = await meeting_or_today(ctx, number)
    ensure_open(ctx, meeting)
    ensure_not_approved(ctx, meeting)
    assignees = []
    for assignee in parsed.assignees:
        if assignee.mention is not None:
            assignees.append(
                minutes_store.NewAssignee(user_id=await _resolve(ctx, assignee.mention))
            )
        elif (member := await find_member_named(ctx, assignee.name or "")) is not None:
            assignees.append(minutes_store.NewAssignee(user_id=member.user_id))
        else:
            assignees.append(minutes_store.NewAssignee(name=assignee.name))
    decision_id = None
    if parsed.decision_ref is not None:
        decision = await minutes_store.decision_by_ref(
            ctx.session, ctx.group.id, *parsed.decision_ref
        )
        if decision is None:
            raise UserError(
                ctx._(
                    "There is no decision {number} in this group. {command} lists them.",
                    number=decision_label(*parsed.decision_ref),
                    command=ctx.command_name("decisions"),
                )
            )
        decision_id = decision.id
    unique = list(dict.fromkeys(assignees))
    item = await minutes_store.create_action_item(
        ctx.session,
        group_id=ctx.group.id,
        text=parsed.text,
        due=parsed.due,
        assignees=unique,
        meeting_id=meeting.id,
        agenda_item_id=await minutes_store.current_top_id(ctx.session, meeting),
        decision_id=decision_id,
        user_id=ctx.user.id,
        now=ctx.now,
    )
    [line] = await _describe_all(ctx, [item])
    top = await minutes_store.top_number(ctx.session, item.agenda_item_id)
    return Reply(
        ctx._(
            "Action item recorded for #{meeting}, {top}:\n{item}",
            meeting=meeting.number,
            top=top_text(ctx.t, top),
            item=line,
        )
    )


async def _item(ctx: HandlerContext, raw: str) -> ActionItem:
    assert ctx.group is not None
    number = parse_action_ref(raw)
    item = (
        await minutes_store.action_by_number(ctx.session, ctx.group.id, number) if number else None
    )
    if item is None:
        raise UserError(
            ctx._(
                "There is no action item {number} in this group. {command} lists them.",
                number=raw,
                command=ctx.command_name("tasks"),
            )
        )
    return item


async def is_chair(ctx: HandlerContext) -> bool:
    """A chair, or a chat admin whose role no chair has set (as the dispatcher rules)."""
    if ctx.role is Role.CHAIR:
        return True
    member = ctx.member
    if member is None or member.role_granted_by_user_id is not None:
        return False
    message = ctx.message
    return await ctx.platform.is_chat_admin(message.chat.chat_id, message.sender.user_id)


async def _set_status(ctx: HandlerContext, item: ActionItem, status: str) -> Reply:
    assignees = (await minutes_store.assignees_of(ctx.session, [item.id]))[item.id]
    mine = any(a.user_id == ctx.user.id for a in assignees)
    if not mine and not await is_chair(ctx):
        raise UserError(
            ctx._(
                "Only the people assigned to {label} or a chair may change its status.",
                label=action_label(item.number),
            )
        )
    item.status, item.updated_at = status, ctx.now
    if status == ActionItemStatus.OPEN.value:
        item.closed_at, item.closed_by_user_id = None, None
    else:
        item.closed_at, item.closed_by_user_id = ctx.now, ctx.user.id
    [line] = await _describe_all(ctx, [item])
    return Reply(
        ctx._(
            "{label} is now {status}.",
            label=action_label(item.number),
            status=status_text(ctx.t, status),
        )
        + "\n"
        + line
    )


async def change_status(ctx: HandlerContext) -> Reply:
    return await _set_status(ctx, await _item(ctx, ctx.args["number"]), ctx.args["status"])


async def done(ctx: HandlerContext) -> Reply:
    return await _set_status(ctx, await _item(ctx, ctx.args["number"]), ActionItemStatus.DONE.value)


async def list_items(ctx: HandlerContext) -> Reply:
    assert ctx.group is not None
    which = ctx.args.get("which") or "open"
    if which == "overdue":
        items = await minutes_store.action_items_of_group(
            ctx.session, ctx.group.id, due_before=_today(ctx)
        )
        title, empty = ctx._("Overdue action items:"), ctx._("No action item is overdue.")
    elif which == "all":
        items = await minutes_store.action_items_of_group(
            ctx.session, ctx.group.id, statuses=[s.value for s in ActionItemStatus], limit=100
        )
        title, empty = ctx._("All action items:"), ctx._("No action items yet.")
    else:
        items = await minutes_store.action_items_of_group(ctx.session, ctx.group.id)
        title, empty = ctx._("Open action items:"), ctx._("No open action items.")
    if not items:
        return Reply(empty)
    lines = [title, *(f"• {line}" for line in await _describe_all(ctx, items))]
    return Reply("\n".join(lines))


async def my_items(ctx: HandlerContext) -> Reply:
    rows = await minutes_store.action_items_of_user(ctx.session, ctx.user.id)
    if not rows:
        return Reply(ctx._("You have no open action items."))
    lines = [ctx._("Your open action items:")]
    described = await _describe_all(ctx, [item for item, _ in rows])
    for (_, group), line in zip(rows, described, strict=True):
        lines.append(f"• {group.name}: {line}")
    lines.append(
        ctx._(
            "When one is done, say so in its group: {command}",
            command=ctx.command_name("done") + " A-1",
        )
    )
    return Reply("\n".join(lines))


COMMANDS = (
    Command(
        "task",
        record,
        N_("Record an action item: who, what, by when"),
        german="aufgabe",
        args=(Arg("details", N_("who: what by date"), kind=ArgKind.TEXT, max_length=3300),),
        details=N_(
            "Format: [#meeting] who[, who…]: what [by date] [for B-2021-07]. Who is a member "
            "(@name) or any name or organisation. It is attached to today's meeting and its "
            "current TOP. Example: /task @bernd, IHK Köln: send the forms to Anna by 15.07."
        ),
        role=Role.MINUTE_TAKER,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "tasks",
        list_items,
        N_("List the group's action items: open, all or overdue"),
        german="aufgaben",
        args=(
            Arg(
                "which",
                N_("which"),
                kind=ArgKind.CHOICE,
                required=False,
                choices=LIST_CHOICES,
                display={"de": "offen|alle|ueberfaellig", "en": "open|all|overdue"},
            ),
        ),
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "done",
        done,
        N_("Mark one of your action items as done"),
        german="erledigt",
        args=(Arg("number", N_("number")),),
        details=N_("Example: /done A-12"),
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "taskstatus",
        change_status,
        N_("Set an action item to open, done or dropped"),
        german="aufgabenstatus",
        args=(
            Arg("number", N_("number")),
            Arg(
                "status",
                N_("status"),
                kind=ArgKind.CHOICE,
                choices=STATUS_CHOICES,
                display={"de": "offen|erledigt|verworfen", "en": "open|done|dropped"},
            ),
        ),
        details=N_("Assignees and chairs may do this. Example: /taskstatus A-12 dropped"),
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "mytasks",
        my_items,
        N_("Your open action items in all your groups"),
        german="meineaufgaben",
        scope=Scope.PRIVATE,
    ),
)
