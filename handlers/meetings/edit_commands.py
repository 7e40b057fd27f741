"""Edit one meeting (title, time, place or video link, description) and show it in full."""

from __future__ import annotations

from bot.core.enums import Role
from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.messages import Reply
from bot.core.quotes import unquote
from bot.core.router import Arg, ArgKind, Command, Scope
from bot.core.text import is_video_link
from handlers.agenda.commands import agenda_lines
from handlers.agenda.live_commands import attendance_lines
from handlers.context import HandlerContext
from handlers.meetings.actions import held_already
from handlers.meetings.commands import (
    describe,
    future_start,
    past_or_future_start,
    read_place,
    read_when,
    tell_group,
)
from handlers.meetings.lookup import ensure_not_approved, ensure_open, meeting_by_arg
from storage import meetings as meeting_store

MEETING_FIELDS = {
    "title": "title",
    "titel": "title",
    "time": "time",
    "zeit": "time",
    "datum": "time",
    "date": "time",
    "place": "place",
    "ort": "place",
    "link": "place",
    "video": "place",
    "description": "description",
    "beschreibung": "description",
}


async def edit(ctx: HandlerContext) -> Reply:
    meeting = await meeting_by_arg(ctx, ctx.args["number"])
    ensure_open(ctx, meeting)
    ensure_not_approved(ctx, meeting)
    field, value = ctx.args["field"], (ctx.args.get("value") or "").strip()
    if field == "title":
        title = unquote(value)
        if not title or len(title) > 200:
            raise UserError(ctx._("Please give a title of at most 200 characters."))
        meeting.title = title
    elif field == "time":
        when, rest = read_when(ctx, value)
        if rest:
            raise UserError(ctx._("I did not understand the extra words: {value}", value=rest))
        # A meeting recorded afterwards may have its time corrected into the past too.
        starts_at = past_or_future_start(ctx, when) if held_already(meeting, ctx.now) else None
        meeting.starts_at = starts_at or future_start(ctx, when)
        meeting.ends_at = when.end_at()
    elif field == "place":
        meeting.location = read_place(ctx, value)
    else:
        if len(value) > 4000:
            raise UserError(ctx._("The description is too long (at most 4000 characters)."))
        meeting.description = value or None
    meeting_store.mark_changed(meeting, ctx.now)
    return await tell_group(ctx, meeting, ctx._("Meeting changed:"))


async def show(ctx: HandlerContext) -> Reply:
    meeting = await meeting_by_arg(ctx, ctx.args["number"])
    lines = [describe(ctx, meeting).split("\n   ", 1)[0]]
    if meeting.location:
        video = is_video_link(meeting.location)
        label = ctx._("Video conference") if video else ctx._("Place")
        lines.append(f"{label}: {meeting.location}")
    if meeting.description:
        lines.append(meeting.description)
    counts = (await meeting_store.rsvp_counts(ctx.session, [meeting.id])).get(meeting.id, {})
    lines.append(
        ctx._(
            "Replies: {yes} yes, {maybe} maybe, {no} no",
            yes=counts.get("yes", 0),
            maybe=counts.get("maybe", 0),
            no=counts.get("no", 0),
        )
    )
    lines += ["", ctx._("Agenda:"), *await agenda_lines(ctx, meeting)]
    attendance = await attendance_lines(ctx, meeting)
    if attendance:
        lines += ["", *attendance]
    return Reply("\n".join(lines))


COMMANDS = (
    Command(
        "editmeeting",
        edit,
        N_("Change a meeting: title, time, place or link, description"),
        german="sitzungaendern",
        args=(
            Arg("number", N_("number")),
            Arg(
                "field",
                N_("field"),
                kind=ArgKind.CHOICE,
                choices=MEETING_FIELDS,
                display={"de": "titel|zeit|ort|beschreibung", "en": "title|time|place|description"},
            ),
            Arg("value", N_("value"), kind=ArgKind.TEXT, max_length=4000, required=False),
        ),
        details=N_(
            "Examples: /sitzungaendern 3 titel AG-Sitzung Juli; /sitzungaendern 3 zeit "
            "16.06.2027 10-12 Uhr; /sitzungaendern 3 ort https://meet.example.org/ag (a link "
            "means a video conference); /sitzungaendern 3 beschreibung Bitte Folien vorab "
            "senden. Everything attached to the meeting stays."
        ),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "showmeeting",
        show,
        N_("Show one meeting in full: agenda, replies, attendance"),
        german="sitzunginfo",
        args=(Arg("number", N_("number")),),
        details=N_("Example: /sitzunginfo 3"),
        scope=Scope.GROUP,
        needs_group=True,
    ),
)
