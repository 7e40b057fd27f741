"""Reminder settings: when meeting reminders come, and which kinds a person mutes."""

from __future__ import annotations

from bot.core.enums import Role
from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.messages import Reply
from bot.core.reminder_offsets import OffsetError, format_offsets, parse_offsets
from bot.core.router import Arg, ArgKind, Command
from handlers.context import HandlerContext
from handlers.reminders.policy import (
    ReminderKind,
    store_offsets,
    stored_offsets,
)
from storage import reminders as reminder_store

KIND_NAMES = {
    ReminderKind.MEETING.value: N_("meetings"),
    ReminderKind.ACTION_ITEM.value: N_("tasks"),
    ReminderKind.DIGEST.value: N_("weekly overview"),
}
KIND_CHOICES = {
    "meetings": "meeting",
    "sitzungen": "meeting",
    "tasks": "action_item",
    "aufgaben": "action_item",
    "digest": "digest",
    "wochenuebersicht": "digest",
    "wochenübersicht": "digest",
    "all": "all",
    "alle": "all",
}
KIND_DISPLAY = {"de": "sitzungen|aufgaben|wochenuebersicht|alle", "en": "meetings|tasks|digest|all"}
DEFAULT_WORDS = {"default", "standard", "std"}
OFFSET_EXAMPLE = {"de": "1T 1Std", "en": "1d 1h"}

OFFSET_ERRORS = {
    "empty": N_("Please give the times before the meeting, e.g. {example}."),
    "unreadable": N_(
        "I cannot read “{value}”. Please write e.g. {example} (days, hours, minutes)."
    ),
    "range": N_("“{value}” is out of range: between 1 minute and 14 days, please."),
    "too_many": N_("At most four reminders per meeting, please."),
}


def _offsets_text(ctx: HandlerContext, offsets: tuple[int, ...]) -> str:
    return ctx._("{times} before the start", times=format_offsets(offsets, ctx.language))


def _default_offsets(ctx: HandlerContext) -> tuple[int, ...]:
    return parse_offsets(ctx.services.settings.reminder_meeting_offsets)


async def show(ctx: HandlerContext) -> Reply:
    mine = await reminder_store.user_settings(ctx.session, ctx.user.id)
    group_offsets = None
    if ctx.group is not None and not ctx.message.is_direct:
        group_settings = await reminder_store.group_settings(ctx.session, ctx.group.id)
        group_offsets = stored_offsets(group_settings.meeting_offsets if group_settings else None)
    lines = [ctx._("Meeting reminders:")]
    if ctx.group is not None and not ctx.message.is_direct:
        lines.append(
            ctx._(
                "This group: {offsets}",
                offsets=_offsets_text(ctx, group_offsets or _default_offsets(ctx)),
            )
        )
    own = stored_offsets(mine.meeting_offsets if mine else None)
    lines.append(
        ctx._("You: {offsets}", offsets=_offsets_text(ctx, own))
        if own
        else ctx._("You: as your groups set it")
    )
    muted = [k for k in (mine.muted.split(",") if mine else []) if k in KIND_NAMES]
    lines.append(
        ctx._("Muted: {kinds}", kinds=", ".join(ctx._(KIND_NAMES[k]) for k in muted))
        if muted
        else ctx._("Muted: nothing")
    )
    lines.append(
        ctx._(
            "Change with {times} {example} and {mute} / {unmute}.",
            times=ctx.command_name("remindertimes"),
            example=OFFSET_EXAMPLE.get(ctx.language, "1d 1h"),
            mute=ctx.command_name("mute"),
            unmute=ctx.command_name("unmute"),
        )
    )
    return Reply("\n".join(lines))


def _parse(ctx: HandlerContext, text: str) -> tuple[int, ...] | None:
    if text.strip().lower() in DEFAULT_WORDS:
        return None
    try:
        return parse_offsets(text)
    except OffsetError as exc:
        example = OFFSET_EXAMPLE.get(ctx.language, "1d 1h")
        raise UserError(ctx._(OFFSET_ERRORS[exc.code], value=exc.value, example=example)) from None


async def set_times(ctx: HandlerContext) -> Reply:
    offsets = _parse(ctx, ctx.args["times"])
    stored = store_offsets(offsets) if offsets else None
    if ctx.message.is_direct:
        await reminder_store.set_user_offsets(ctx.session, ctx.user.id, stored, ctx.now)
        if offsets is None:
            return Reply(ctx._("Your meeting reminders follow your groups again."))
        return Reply(
            ctx._("Your meeting reminders: {offsets}", offsets=_offsets_text(ctx, offsets))
        )
    if ctx.group is None:
        raise UserError(
            ctx._(
                "Please register this chat first with {register}.",
                register=ctx.command_name("register"),
            )
        )
    await reminder_store.set_group_offsets(ctx.session, ctx.group.id, stored, ctx.now)
    return Reply(
        ctx._(
            "Meeting reminders in this group: {offsets}",
            offsets=_offsets_text(ctx, offsets or _default_offsets(ctx)),
        )
    )


async def _change_muted(ctx: HandlerContext, mute: bool) -> Reply:
    chosen = ctx.args["kind"]
    kinds = set(KIND_NAMES) if chosen == "all" else {chosen}
    mine = await reminder_store.user_settings(ctx.session, ctx.user.id)
    muted = {k for k in (mine.muted.split(",") if mine else []) if k}
    muted = muted | kinds if mute else muted - kinds
    await reminder_store.set_user_muted(ctx.session, ctx.user.id, ",".join(sorted(muted)), ctx.now)
    names = ", ".join(ctx._(KIND_NAMES[k]) for k in sorted(kinds))
    if mute:
        return Reply(ctx._("Muted: {kinds}. No more reminders of this kind.", kinds=names))
    return Reply(ctx._("Reminders back on: {kinds}.", kinds=names))


async def mute(ctx: HandlerContext) -> Reply:
    return await _change_muted(ctx, True)


async def unmute(ctx: HandlerContext) -> Reply:
    return await _change_muted(ctx, False)


def _kind_arg() -> Arg:
    return Arg(
        "kind",
        N_("kind"),
        kind=ArgKind.CHOICE,
        choices=KIND_CHOICES,
        display=KIND_DISPLAY,
    )


COMMANDS = (
    Command(
        "reminders",
        show,
        N_("Show when you get reminders and which kinds you muted"),
        german="erinnerungen",
    ),
    Command(
        "remindertimes",
        set_times,
        N_("Set when meeting reminders come: for this group, or your own"),
        german="erinnerungszeiten",
        args=(Arg("times", N_("times"), kind=ArgKind.TEXT, max_length=100),),
        details=N_(
            "Example: /erinnerungszeiten 1T 2Std – one day (same clock time) and two hours "
            "before. In a group only chairs set it for the group; in a private chat it is "
            "your own and overrides the groups'. “standard” goes back to the default."
        ),
        role=Role.CHAIR,
    ),
    Command(
        "mute",
        mute,
        N_("Stop reminders of one kind (or all) for you"),
        german="stumm",
        args=(_kind_arg(),),
    ),
    Command(
        "unmute",
        unmute,
        N_("Get reminders of one kind (or all) again"),
        german="laut",
        args=(_kind_arg(),),
    ),
)
