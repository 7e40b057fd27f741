"""Meeting series: create from a phrase ("jeden 2. Donnerstag im Monat 9-10 Uhr"), list,
edit for all future occurrences, end. Single occurrences are ordinary meetings: /verschieben
and /absagen work on them and keep their recurrence id."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.dates import check_horizon, format_date, parse_date, parse_time_range
from bot.core.enums import MeetingStatus, Role
from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.messages import OutgoingMessage, Reply
from bot.core.quotes import unquote
from bot.core.router import Arg, ArgKind, Command, Scope
from handlers.calendar import invitations
from handlers.context import HandlerContext
from handlers.meetings.commands import describe, read_place
from handlers.meetings.series_occurrences import (
    HORIZON,
    at_clock,
    end_of,
    extend_series,
    materialize,
)
from handlers.meetings.series_rule import (
    SeriesParseError,
    SeriesSpec,
    describe_rule,
    first_occurrence,
    parse_series,
)
from storage import meetings as meeting_store
from storage.models import MeetingSeries

EXAMPLE = 'jeden 2. Donnerstag im Monat 9-10 Uhr "AG Transfer" | https://meet.example.org/ag'
SERIES_ERRORS = {
    "no_rule": N_(
        "I could not read “{text}” as a repetition. Start with e.g. “jeden 2. Donnerstag im "
        "Monat”, “alle 2 Wochen dienstags”, “wöchentlich montags” or “every other Tuesday”."
    ),
    "no_weekday": N_("On which weekday? E.g. “wöchentlich montags 9 Uhr”."),
    "no_time": N_("Please add the time after the repetition, e.g. “jeden Montag 9-10 Uhr”."),
    "bad_interval": N_("Every {text} weeks? Please use a number from 1 to 52."),
    "until_before": N_("The end date is before the first date."),
}
SHOWN_DATES = 3


def _parse(ctx: HandlerContext, text: str) -> SeriesSpec:
    try:
        return parse_series(text, now=ctx.now, tz=ctx.tz)
    except SeriesParseError as error:
        message = ctx._(SERIES_ERRORS[error.code], **{"text": "", **error.params})
        raise UserError(message + "\n" + ctx._("Example: {example}", example=EXAMPLE)) from None


async def _numbered(ctx: HandlerContext) -> list[MeetingSeries]:
    """The group's series; their number is their place in this list (S1, S2, …)."""
    assert ctx.group is not None
    return await meeting_store.series_of_group(ctx.session, ctx.group.id)


async def _series(ctx: HandlerContext) -> tuple[int, MeetingSeries]:
    raw = (ctx.args.get("series") or "").lstrip("#").upper().removeprefix("S")
    found = await _numbered(ctx)
    if not raw.isdecimal() or not 1 <= int(raw) <= len(found):
        raise UserError(
            ctx._(
                "There is no series S{number} in this group. {command} lists them.",
                number=raw,
                command=ctx.command_name("listseries"),
            )
        )
    return int(raw), found[int(raw) - 1]


def _clock_of(series: MeetingSeries) -> tuple[time, time | None]:
    tz = ZoneInfo(series.timezone)
    start = series.first_starts_at.astimezone(tz)
    end = end_of(series.first_starts_at, series.duration_minutes, tz)
    return start.time(), end.astimezone(tz).time() if end else None


def _until_of(series: MeetingSeries) -> date | None:
    for part in series.rrule.split(";"):
        key, _, value = part.partition("=")
        if key == "UNTIL":
            moment = datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
            return moment.astimezone(ZoneInfo(series.timezone)).date()
    return None


def series_text(ctx: HandlerContext, number: int, series: MeetingSeries) -> str:
    start, end = _clock_of(series)
    rule = describe_rule(series.rrule, start, end, ctx.language, _until_of(series))
    line = f"S{number} {series.title} – {rule}"
    if series.location:
        line += f"\n   {series.location}"
    if series.ended_at is not None:
        line += " " + ctx._("(ended)")
    return line


async def _upcoming_lines(ctx: HandlerContext, series: MeetingSeries) -> list[str]:
    upcoming = await meeting_store.future_occurrences(ctx.session, series.id, ctx.now)
    return ["  " + describe(ctx, meeting) for meeting in upcoming[:SHOWN_DATES]]


async def create(ctx: HandlerContext) -> Reply:
    assert ctx.group is not None
    text, _, location = ctx.args["details"].partition("|")
    spec = _parse(ctx, text.strip())
    title = unquote(spec.rest)
    if not title:
        raise UserError(ctx._("Please give the series a title, e.g. {example}", example=EXAMPLE))
    if len(title) > 200:
        raise UserError(ctx._("The title or place is too long."))
    place = read_place(ctx, location)
    first = first_occurrence(spec, now=ctx.now, tz=ctx.tz)
    if first is None:
        raise UserError(ctx._("This series has no date in the future."))
    duration = None
    if spec.end is not None:
        duration = (spec.end.hour * 60 + spec.end.minute) - (
            spec.start.hour * 60 + spec.start.minute
        )
    series = await meeting_store.create_series(
        ctx.session,
        group_id=ctx.group.id,
        title=title,
        rrule=spec.rrule(ctx.tz),
        first_starts_at=first,
        timezone=ctx.tz.key,
        duration_minutes=duration,
        location=place,
        created_by_user_id=ctx.user.id,
        now=ctx.now,
    )
    await materialize(
        ctx.session, series, until=max(ctx.now + HORIZON, first + timedelta(minutes=1)), now=ctx.now
    )
    number = len(await _numbered(ctx))
    text = "\n".join(
        [
            ctx._("Meeting series created:"),
            series_text(ctx, number, series),
            ctx._("Next dates:"),
            *await _upcoming_lines(ctx, series),
        ]
    )
    await invitations.series_changed(ctx, series)
    await ctx.announce(
        dedupe_key=f"series:{series.id}:created",
        purpose="meeting_change",
        message=OutgoingMessage(text),
        elsewhere_only=True,
    )
    return Reply(text)


async def list_series(ctx: HandlerContext) -> Reply:
    assert ctx.group is not None
    await extend_series(ctx.session, ctx.now, group_id=ctx.group.id)
    found = await _numbered(ctx)
    if not found:
        return Reply(
            ctx._(
                "This group has no meeting series yet. A chair creates one with {command}.",
                command=ctx.command_name("series") + " " + EXAMPLE,
            )
        )
    lines = [ctx._("Meeting series:")]
    for number, series in enumerate(found, start=1):
        lines.append(series_text(ctx, number, series))
        if series.ended_at is None:
            lines += await _upcoming_lines(ctx, series)
    return Reply("\n".join(lines))


SERIES_FIELDS = {
    "title": "title",
    "titel": "title",
    "time": "time",
    "zeit": "time",
    "uhrzeit": "time",
    "place": "place",
    "ort": "place",
    "link": "place",
    "description": "description",
    "beschreibung": "description",
}


async def edit(ctx: HandlerContext) -> Reply:
    """Change the whole series: the series itself and every future occurrence that was not
    changed on its own (a moved occurrence keeps its date, but follows a new time)."""
    number, series = await _series(ctx)
    if series.ended_at is not None:
        raise UserError(ctx._("Series S{number} has ended.", number=number))
    field, value = ctx.args["field"], ctx.args["value"].strip()
    tz = ZoneInfo(series.timezone)
    upcoming = await meeting_store.future_occurrences(ctx.session, series.id, ctx.now)
    if field == "title":
        title = unquote(value)
        if not title or len(title) > 200:
            raise UserError(ctx._("Please give a title of at most 200 characters."))
        for meeting in upcoming:
            if meeting.title == series.title:
                meeting.title = title
                meeting_store.mark_changed(meeting, ctx.now)
        series.title = title
    elif field == "place":
        place = read_place(ctx, value)
        for meeting in upcoming:
            if meeting.location == series.location:
                meeting.location = place
                meeting_store.mark_changed(meeting, ctx.now)
        series.location = place
    elif field == "description":
        for meeting in upcoming:
            if meeting.description == series.description:
                meeting.description = value or None
        series.description = value or None
    else:
        start, end = parse_time_range(value)
        duration = None
        if end is not None:
            duration = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
        for meeting in upcoming:
            moved = meeting.recurrence_id is not None and meeting.starts_at != meeting.recurrence_id
            assert meeting.recurrence_id is not None
            meeting.recurrence_id = at_clock(meeting.recurrence_id, start, tz)
            if not moved:
                meeting.starts_at = meeting.recurrence_id
                meeting.ends_at = end_of(meeting.starts_at, duration, tz)
                meeting_store.mark_changed(meeting, ctx.now)
        series.first_starts_at = at_clock(series.first_starts_at, start, tz)
        series.duration_minutes = duration
    meeting_store.mark_series_changed(series, ctx.now)
    text = ctx._("Series changed:") + "\n" + series_text(ctx, number, series)
    await invitations.series_changed(ctx, series)
    await ctx.announce(
        dedupe_key=f"series:{series.id}:changed:{series.sequence}",
        purpose="meeting_change",
        message=OutgoingMessage(text),
        elsewhere_only=True,
    )
    return Reply(text)


async def end(ctx: HandlerContext) -> Reply:
    """End the series after a date (default: now): later occurrences are cancelled."""
    number, series = await _series(ctx)
    if series.ended_at is not None:
        raise UserError(ctx._("Series S{number} has ended.", number=number))
    tz = ZoneInfo(series.timezone)
    raw = ctx.args.get("date")
    if raw:
        last_day = check_horizon(parse_date(raw, now=ctx.now, tz=tz), now=ctx.now, tz=tz)
        next_day = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=tz)
        cutoff = max(next_day.astimezone(UTC), ctx.now)
    else:  # end now: nothing more from this moment on
        last_day, cutoff = ctx.now.astimezone(tz).date(), ctx.now
        series.ended_at = ctx.now
    until = (cutoff - timedelta(seconds=1)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    series.rrule = ";".join(
        [p for p in series.rrule.split(";") if not p.startswith("UNTIL=")] + [f"UNTIL={until}"]
    )
    cancelled = 0
    for meeting in await meeting_store.future_occurrences(ctx.session, series.id, ctx.now):
        if (meeting.recurrence_id or meeting.starts_at) >= cutoff:
            meeting.status = MeetingStatus.CANCELLED.value
            meeting_store.mark_changed(meeting, ctx.now)
            cancelled += 1
    meeting_store.mark_series_changed(series, ctx.now)
    text = ctx.ngettext(
        "Series S{number} ends on {date}; {n} later meeting was cancelled.",
        "Series S{number} ends on {date}; {n} later meetings were cancelled.",
        cancelled,
        number=number,
        date=format_date(last_day, ctx.language),
    )
    await invitations.series_changed(ctx, series)
    await ctx.announce(
        dedupe_key=f"series:{series.id}:ended:{series.sequence}",
        purpose="meeting_change",
        message=OutgoingMessage(text),
        elsewhere_only=True,
    )
    return Reply(text)


COMMANDS = (
    Command(
        "series",
        create,
        N_("Create a meeting series, e.g. every 2nd Thursday 9–10"),
        german="serie",
        args=(
            Arg("details", N_("repetition time title | place"), kind=ArgKind.TEXT, max_length=800),
        ),
        details=N_(
            'Example: /serie jeden 2. Donnerstag im Monat 9-10 Uhr "AG Transfer" | '
            "https://meet.example.org/ag – also “alle 2 Wochen dienstags 14 Uhr”, "
            "“wöchentlich montags 9 Uhr bis 31.12.2027”, “every other Tuesday 2pm”. "
            "Optional: “ab DATE”, “bis DATE”. The meetings of the next three months are "
            "created at once; each can be moved or cancelled on its own."
        ),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "listseries",
        list_series,
        N_("List the meeting series with their next dates"),
        german="serien",
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "editseries",
        edit,
        N_("Change a whole series: title, time, place or description"),
        german="serieaendern",
        args=(
            Arg("series", N_("series")),
            Arg(
                "field",
                N_("field"),
                kind=ArgKind.CHOICE,
                choices=SERIES_FIELDS,
                display={"de": "titel|zeit|ort|beschreibung", "en": "title|time|place|description"},
            ),
            Arg("value", N_("value"), kind=ArgKind.TEXT, max_length=800, required=False),
        ),
        details=N_(
            "Example: /serieaendern S1 zeit 10-11 Uhr – changes all future meetings of the "
            "series that were not changed on their own."
        ),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "endseries",
        end,
        N_("End a meeting series (today or after a date)"),
        german="serieende",
        args=(Arg("series", N_("series")), Arg("date", N_("date"), required=False)),
        details=N_(
            "Example: /serieende S1 31.12.2027 – later meetings of the series are cancelled."
        ),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
)
