"""Meetings: schedule, list, show, postpone and cancel (first part of the meetings issue)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.dates import ParsedWhen, check_horizon, find_whens, format_when, parse_when
from bot.core.enums import MeetingStatus, Role
from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.messages import Button, OutgoingMessage, Reply
from bot.core.quotes import unquote
from bot.core.router import Arg, ArgKind, Command, Scope
from handlers.context import HandlerContext
from handlers.meetings.actions import answer_meeting, bring_about, held_already, invite
from handlers.meetings.lookup import ensure_not_approved, meeting_by_arg
from handlers.meetings.series_occurrences import extend_series
from handlers.minutes.render import place_text
from storage import meetings as meeting_store
from storage.models import Meeting

EXAMPLE = '15.06.2027 9-12 Uhr "AG-Sitzung" | https://meet.example.org/ag'


def _when_of(meeting: Meeting, tz: ZoneInfo) -> ParsedWhen:
    start = meeting.starts_at.astimezone(tz)
    end = meeting.ends_at.astimezone(tz) if meeting.ends_at else None
    same_day = end is not None and end.date() == start.date()
    return ParsedWhen(start.date(), start.time(), end.time() if same_day else None, tz)


def describe(ctx: HandlerContext, meeting: Meeting) -> str:
    line = ctx._(
        "#{number} {title} – {when}",
        number=meeting.number,
        title=meeting.title,
        when=format_when(_when_of(meeting, ctx.tz), ctx.language),
    )
    if meeting.location:
        line += f"\n   {place_text(ctx.t, meeting.location)}"
    if meeting.status == MeetingStatus.CANCELLED.value:
        line += " " + ctx._("(cancelled)")
    return line


def read_when(ctx: HandlerContext, text: str) -> tuple[ParsedWhen, str]:
    """The date and time at the start of `text`, and the rest (the title)."""
    found = find_whens(text, now=ctx.now, tz=ctx.tz)
    if not found or text[: found[0][1]].strip():
        # The scanner skips impossible dates silently; parsing the first words again gives
        # the user the precise reason ("31.02." is no date) when there is one.
        first = text.split(" ", 1)[0]
        if any(char.isdigit() for char in first):
            parse_when(first, now=ctx.now, tz=ctx.tz)
        raise UserError(
            ctx._("Please start with the date and time, e.g. {example}", example=EXAMPLE)
        )
    when, _, end = found[0]
    if when.start is None:
        raise UserError(ctx._("Please add a time, e.g. {example}", example=EXAMPLE))
    return when, text[end:].strip()


def read_place(ctx: HandlerContext, raw: str) -> str | None:
    """The place or video link as typed, or None. It must fit on one line: a line break
    would cut the link in chats, and calendar files allow none in a URL."""
    place = raw.strip()
    if len(place) > 500:
        raise UserError(ctx._("The title or place is too long."))
    if len(place.splitlines()) > 1:
        raise UserError(ctx._("Please write the place or video link on one line."))
    return place or None


def past_or_future_start(ctx: HandlerContext, when: ParsedWhen) -> datetime:
    """The start of `when`, within the horizon; a past one records a meeting held already."""
    check_horizon(when.day, now=ctx.now, tz=ctx.tz)
    starts_at = when.start_at()
    assert starts_at is not None  # read_when insists on a time
    return starts_at


def future_start(ctx: HandlerContext, when: ParsedWhen) -> datetime:
    check_horizon(when.day, now=ctx.now, tz=ctx.tz)
    starts_at = when.start_at()
    if starts_at is None or starts_at < ctx.now:
        raise UserError(ctx._("That time has passed already."))
    return starts_at


async def schedule(ctx: HandlerContext) -> Reply:
    assert ctx.group is not None
    text, _, location = ctx.args["details"].partition("|")
    when, title = read_when(ctx, text.strip())
    title = unquote(title)
    if not title:
        raise UserError(ctx._("Please give the meeting a title, e.g. {example}", example=EXAMPLE))
    if len(title) > 200:
        raise UserError(ctx._("The title or place is too long."))
    place = read_place(ctx, location)
    starts_at = past_or_future_start(ctx, when)
    meeting = await bring_about(
        ctx, title=title, starts_at=starts_at, ends_at=when.end_at(), location=place
    )
    if held_already(meeting, ctx.now):
        # Minutes of a meeting already held: the group starts with last month's meeting, or
        # the minute-taker enters it afterwards.
        return await tell_group(
            ctx,
            meeting,
            ctx._(
                "Recorded afterwards – this meeting has already taken place, so nobody gets "
                "an invitation or a reminder. Agenda, attendance, notes, decisions and minutes "
                "work as usual:"
            ),
        )
    return await tell_group(ctx, meeting, ctx._("Meeting scheduled:"))


RSVP_CHOICES = {
    "yes": "yes",
    "ja": "yes",
    "no": "no",
    "nein": "no",
    "maybe": "maybe",
    "vielleicht": "maybe",
}
RSVP_LABELS = {"yes": N_("I'll come"), "maybe": N_("Maybe"), "no": N_("I can't come")}


def rsvp_buttons(ctx: HandlerContext, meeting: Meeting) -> tuple[tuple[Button, ...], ...]:
    command = ctx.platform.command_prefix + "rsvp"
    return Reply.rows(
        [
            Button(ctx._(RSVP_LABELS[answer]), f"{command} {meeting.number} {answer}")
            for answer in ("yes", "maybe", "no")
        ]
    )


async def tell_group(ctx: HandlerContext, meeting: Meeting, headline: str) -> Reply:
    """Answer here, and tell the group's other chats (e.g. its Matrix room) the same."""
    text = headline + "\n" + describe(ctx, meeting)
    await invite(ctx, meeting)
    await ctx.announce(
        dedupe_key=(
            f"meeting:{meeting.id}:{meeting.status}:{meeting.sequence}:"
            f"{meeting.updated_at.isoformat()}"
        ),
        purpose="meeting_change",
        message=OutgoingMessage(text),
        elsewhere_only=True,
    )
    if meeting.status == MeetingStatus.CANCELLED.value or held_already(meeting, ctx.now):
        return Reply(text)
    return Reply(text, buttons=rsvp_buttons(ctx, meeting))


async def rsvp(ctx: HandlerContext) -> Reply:
    meeting = await _meeting(ctx)
    answer = ctx.args["answer"]
    if not await answer_meeting(ctx.session, meeting, ctx.user.id, answer, ctx.now):
        raise UserError(ctx._("Meeting #{number} was cancelled.", number=meeting.number))
    counts = (await meeting_store.rsvp_counts(ctx.session, [meeting.id])).get(meeting.id, {})
    return Reply(
        ctx._(
            "{name}: {answer} for #{number}. So far: {yes} yes, {maybe} maybe, {no} no.",
            name=ctx.message.sender.display_name,
            answer=ctx._(RSVP_LABELS[answer]),
            number=meeting.number,
            yes=counts.get("yes", 0),
            maybe=counts.get("maybe", 0),
            no=counts.get("no", 0),
        ),
        toast=ctx._("Saved: {answer}", answer=ctx._(RSVP_LABELS[answer])),
    )


async def list_meetings(ctx: HandlerContext) -> Reply:
    assert ctx.group is not None
    everything = ctx.args.get("which") == "all"
    await extend_series(ctx.session, ctx.now, group_id=ctx.group.id)
    found = await meeting_store.meetings_of_group(
        ctx.session, ctx.group.id, since=None if everything else ctx.now
    )
    if not found:
        return Reply(
            ctx._(
                "No upcoming meetings. A chair schedules one with {command}.",
                command=ctx.command_name("meeting") + " " + EXAMPLE,
            )
        )
    title = ctx._("All meetings:") if everything else ctx._("Upcoming meetings:")
    counts = await meeting_store.rsvp_counts(ctx.session, [m.id for m in found])
    lines = [title]
    for meeting in found:
        line = describe(ctx, meeting)
        if meeting.id in counts:
            answers = counts[meeting.id]
            line += "\n   " + ctx._(
                "Replies: {yes} yes, {maybe} maybe, {no} no",
                yes=answers.get("yes", 0),
                maybe=answers.get("maybe", 0),
                no=answers.get("no", 0),
            )
        lines.append(line)
    return Reply("\n".join(lines))


async def _meeting(ctx: HandlerContext) -> Meeting:
    return await meeting_by_arg(ctx, ctx.args["number"])


async def postpone(ctx: HandlerContext) -> Reply:
    meeting = await _meeting(ctx)
    ensure_not_approved(ctx, meeting)
    if meeting.status == MeetingStatus.CANCELLED.value:
        raise UserError(ctx._("Meeting #{number} was cancelled.", number=meeting.number))
    when, rest = read_when(ctx, ctx.args["when"])
    if rest:
        raise UserError(ctx._("I did not understand the extra words: {value}", value=rest))
    starts_at = future_start(ctx, when)
    meeting.starts_at, meeting.ends_at = starts_at, when.end_at()
    meeting_store.mark_changed(meeting, ctx.now)
    return await tell_group(ctx, meeting, ctx._("Meeting postponed:"))


async def cancel(ctx: HandlerContext) -> Reply:
    meeting = await _meeting(ctx)
    ensure_not_approved(ctx, meeting)
    meeting.status = MeetingStatus.CANCELLED.value
    meeting_store.mark_changed(meeting, ctx.now)
    return await tell_group(ctx, meeting, ctx._("Meeting cancelled:"))


COMMANDS = (
    Command(
        "meeting",
        schedule,
        N_("Schedule a meeting: date, time, title, place or link"),
        german="sitzung",
        args=(Arg("details", N_("date time title | place"), kind=ArgKind.TEXT, max_length=800),),
        details=N_(
            'Example: /sitzung 15.06.2027 9-12 Uhr "AG-Sitzung" | https://meet.example.org/ag '
            "– after the | comes the place or the video conference link."
        ),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "meetings",
        list_meetings,
        N_("List the upcoming meetings (or all)"),
        german="sitzungen",
        args=(
            Arg(
                "which",
                N_("all"),
                kind=ArgKind.CHOICE,
                required=False,
                choices={"all": "all", "alle": "all"},
                display={"de": "alle", "en": "all"},
            ),
        ),
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "postpone",
        postpone,
        N_("Move a meeting to another date"),
        german="verschieben",
        args=(
            Arg("number", N_("number")),
            Arg("when", N_("date time"), kind=ArgKind.TEXT, max_length=100),
        ),
        details=N_("Example: /verschieben 3 22.06.2027 9-12 Uhr"),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "rsvp",
        rsvp,
        N_("Say whether you come to a meeting: yes, maybe or no"),
        german="zusage",
        args=(
            Arg("number", N_("number")),
            Arg(
                "answer",
                N_("answer"),
                kind=ArgKind.CHOICE,
                choices=RSVP_CHOICES,
                display={"de": "ja|vielleicht|nein", "en": "yes|maybe|no"},
            ),
        ),
        details=N_("Example: /zusage 3 ja – or use the buttons under the meeting."),
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "cancelmeeting",
        cancel,
        N_("Cancel a meeting"),
        german="absagen",
        args=(Arg("number", N_("number")),),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
)
