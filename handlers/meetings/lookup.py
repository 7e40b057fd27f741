"""Finding a meeting, a TOP or a member from what people type, always within this group."""

from __future__ import annotations

import re

from bot.core.enums import AgendaItemKind, AgendaItemStatus, MeetingStatus, MinutesStatus
from bot.core.errors import UserError
from bot.core.numbers import small_number, split_leading_ref
from handlers.context import HandlerContext
from storage import agenda as agenda_store
from storage import meetings as meeting_store
from storage import people
from storage.models import AgendaItem, Identity, Meeting

# A break is named by its order among the breaks: "Pause2", "Pause-2", "break 2", "☕2".
BREAK_REF = re.compile(r"^(?:PAUSE|BREAK|☕)[\s-]*(\d{1,3})?$")


async def meeting_by_arg(ctx: HandlerContext, raw: str | None) -> Meeting:
    """Meeting "3" or "#3" of this group; a number of another group finds nothing."""
    assert ctx.group is not None
    number = (raw or "").lstrip("#")
    meeting = (
        await meeting_store.meeting_by_number(ctx.session, ctx.group.id, wanted)
        if (wanted := small_number(number)) is not None
        else None
    )
    if meeting is None:
        raise UserError(
            ctx._(
                "There is no meeting #{number} in this group. {command} lists them.",
                number=number,
                command=ctx.command_name("meetings"),
            )
        )
    return meeting


async def meeting_from_text(
    ctx: HandlerContext, text: str | None, *, bare: bool = False
) -> tuple[Meeting, str]:
    """An explicit "#3 …" (or "3 …", see `leading_meeting_ref`) at the start of `text`, else
    the meeting the group is in today; returns the meeting and the rest of the text."""
    number, rest = await leading_meeting_ref(ctx, text, bare=bare)
    return await meeting_or_today(ctx, number), rest


_BARE_REF = re.compile(r"(\d{1,9})\s+(?=\S)")  # not "12:0:1", a vote


async def leading_meeting_ref(
    ctx: HandlerContext, text: str | None, *, bare: bool = False
) -> tuple[str | None, str]:
    """The meeting named at the start of `text` and the rest: "#3 …" always; a bare "3 …"
    when the command says it can only be a meeting (`bare`), or when the group has no
    meeting today and meeting 3 exists – then the number cannot mean anything else, while
    on a meeting day "/notiz 3 Betriebe machen mit" stays a note about three businesses."""
    assert ctx.group is not None
    number, rest = split_leading_ref(text)
    if number is not None:
        return number, rest
    stripped = (text or "").strip()
    match = _BARE_REF.match(stripped)
    if match is None:
        return None, stripped
    if not bare:
        if await agenda_store.active_meeting(ctx.session, ctx.group.id, ctx.now) is not None:
            return None, stripped
        wanted = small_number(match.group(1))
        if wanted is None or not await meeting_store.meeting_by_number(
            ctx.session, ctx.group.id, wanted
        ):
            return None, stripped
    return match.group(1), stripped[match.end() :].strip()


async def meeting_or_today(ctx: HandlerContext, number: str | None) -> Meeting:
    """Meeting `number` of this group when one is named, else the meeting the group is in
    today: for commands that parse their text before they look the meeting up."""
    assert ctx.group is not None
    if number is not None:
        return await meeting_by_arg(ctx, number)
    meeting = await agenda_store.active_meeting(ctx.session, ctx.group.id, ctx.now)
    if meeting is None:
        raise UserError(
            ctx._(
                "There is no meeting today. Name the meeting with its number first, e.g. {example}",
                example=f"{ctx.command_name(ctx.invoked_as)} #3 …",
            )
        )
    return meeting


def ensure_open(ctx: HandlerContext, meeting: Meeting) -> None:
    if meeting.status == MeetingStatus.CANCELLED.value:
        raise UserError(ctx._("Meeting #{number} was cancelled.", number=meeting.number))


def ensure_not_approved(ctx: HandlerContext, meeting: Meeting) -> None:
    """Approved minutes are what the group agreed on: nothing they show may change any more
    (notes, TOPs, attendance, decisions, action items, title, time, place). A later change is
    a chair's addendum, shown apart from them."""
    if meeting.minutes_status == MinutesStatus.APPROVED.value:
        raise UserError(
            ctx._(
                "The minutes of meeting #{number} are approved; nothing in them can be changed "
                "any more. A chair records a later change as an addendum: {command}",
                number=meeting.number,
                command=f"{ctx.command_name('addendum')} {meeting.number} …",
            )
        )


async def item_by_arg(
    ctx: HandlerContext, meeting: Meeting, raw: str | None, *, proposal: bool = False
) -> AgendaItem:
    """TOP "3" (breaks do not count), break "Pause2" (the second break), or proposal
    "P2"/"V2" of this meeting."""
    text = (raw or "").strip().upper().removeprefix("TOP").strip()
    items = await agenda_store.items_of(ctx.session, meeting.id)
    break_ref = BREAK_REF.match(text)
    if break_ref and not proposal:
        breaks = [i for i in items if is_break(i)]
        wanted = int(break_ref.group(1) or 1)
        if 1 <= wanted <= len(breaks):
            return breaks[wanted - 1]
        raise UserError(
            ctx._(
                "Meeting #{meeting} has no break {number}. {command} shows the agenda.",
                meeting=meeting.number,
                number=wanted,
                command=f"{ctx.command_name('agenda')} {meeting.number}",
            )
        )
    wants_proposal = proposal or text[:1] in ("P", "V")
    number = text[1:] if text[:1] in ("P", "V") else text
    if wants_proposal:
        proposed = agenda_store.proposals(items)
        if number.isdecimal() and 1 <= int(number) <= len(proposed):
            return proposed[int(number) - 1]
    else:
        numbers = agenda_store.top_numbers(items)
        for item in items:
            if number.isdecimal() and numbers.get(item.id) == int(number):
                return item
    if wants_proposal:
        raise UserError(
            ctx._(
                "Meeting #{meeting} has no proposal P{number}. {command} shows the agenda.",
                meeting=meeting.number,
                number=number,
                command=f"{ctx.command_name('agenda')} {meeting.number}",
            )
        )
    raise UserError(
        ctx._(
            "Meeting #{meeting} has no TOP {number}. {command} shows the agenda.",
            meeting=meeting.number,
            number=number,
            command=f"{ctx.command_name('agenda')} {meeting.number}",
        )
    )


def is_break(item: AgendaItem) -> bool:
    accepted = item.status == AgendaItemStatus.ACCEPTED.value
    return accepted and item.kind == AgendaItemKind.BREAK.value


async def find_member(ctx: HandlerContext, mention: str) -> Identity | None:
    """The one way every command that takes people finds a member of this group: by
    username (`@anna`, a full Matrix ID `@bernd:example.org`, which a mention pill arrives
    as), by a Matrix ID's local part alone (`@bernd`), or by display name (`@Clara` or
    `Clara Conrad`) when exactly one member has it. None otherwise: others are unknown
    here, even if the bot knows them from another group."""
    assert ctx.group is not None
    found = await people.find_identity_by_username(ctx.session, ctx.message.platform, mention)
    if found is not None:
        if await people.membership(ctx.session, ctx.group.id, found.user_id) is None:
            return None
        return found
    return await find_member_named(ctx, mention.removeprefix("@"), local_part=True)


async def find_member_named(
    ctx: HandlerContext, name: str, *, local_part: bool = False
) -> Identity | None:
    """The one member of this group whose display name is `name` (or, with `local_part`,
    whose Matrix ID starts with `@name:`), ignoring case; None if none or several are."""
    assert ctx.group is not None
    wanted = " ".join(name.split()).casefold()
    if not wanted:
        return None
    rows = await people.members_with_identities(ctx.session, ctx.group.id, ctx.message.platform)
    identities = [i for _, i in rows if i is not None and i.platform == ctx.message.platform]
    for matches in (
        lambda i: local_part and _local_part(i.username) == wanted,
        lambda i: " ".join((i.display_name or "").split()).casefold() == wanted,
    ):
        found = {i.user_id: i for i in identities if matches(i)}
        if len(found) == 1:
            return next(iter(found.values()))
    return None


def _local_part(username: str | None) -> str | None:
    """`bernd` of a Matrix ID `@bernd:example.org`; None for other usernames."""
    if not username or not username.startswith("@") or ":" not in username:
        return None
    return username[1:].split(":", 1)[0].casefold()


async def member_by_mention(ctx: HandlerContext, mention: str) -> Identity:
    """A member of this group named as @username; anyone else is refused with a hint."""
    found = await find_member(ctx, mention)
    if found is None:
        raise UserError(
            ctx._(
                "I don't know {mention} yet. They need to send a command in this chat first "
                "(e.g. {join}), or reply to one of their messages.",
                mention=mention,
                join=ctx.command_name("join"),
            )
        )
    return found


async def member_names(ctx: HandlerContext) -> dict[int, str]:
    """Display names of this group's members, by user id (the identity on this platform
    when they have one)."""
    assert ctx.group is not None
    rows = await people.members_with_identities(ctx.session, ctx.group.id, ctx.message.platform)
    return {m.user_id: i.display_name for m, i in rows if i is not None}
