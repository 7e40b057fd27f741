"""Meetings, series and action items as calendar events: what an invitation and a feed say
about them (pure: rows in, `CalendarEvent`s out)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from icalendar import vRecur

from bot.core.enums import AgendaItemKind, MeetingStatus
from bot.core.i18n import Translator
from bot.core.numbers import top_numbers
from handlers.calendar.ics import CalendarEvent, Party, uid_for
from handlers.minutes.render import place_text

if TYPE_CHECKING:
    from storage.models import ActionItem, AgendaItem, Group, Meeting, MeetingSeries


@dataclass(frozen=True, slots=True)
class EventStyle:
    """How events are written for one reader: their language, the bot's domain, and how
    they write the answer command."""

    t: Translator
    domain: str
    rsvp_command: str  # e.g. "/zusage"
    alarm_before: timedelta | None = None
    group_in_summary: bool = False  # a person's feed mixes groups: say which one
    organizer_address: str | None = None  # default: noreply@<domain>

    @property
    def cache_key(self) -> tuple[object, ...]:
        """Every field, the translator by its language (its catalogue is fixed per
        process): a feed reuses an event's text only under an equal key. A new field
        belongs here too."""
        return (
            self.t.language,
            self.domain,
            self.rsvp_command,
            self.alarm_before,
            self.group_in_summary,
            self.organizer_address,
        )


def series_uid(series_id: int, domain: str) -> str:
    return uid_for("series", series_id, domain)


def meeting_uid(meeting: Meeting, domain: str) -> str:
    """An occurrence of a series shares the series' UID (told apart by RECURRENCE-ID)."""
    if meeting.series_id is not None and meeting.recurrence_id is not None:
        return series_uid(meeting.series_id, domain)
    return uid_for("meeting", meeting.id, domain)


def organizer(group: Group, domain: str, address: str | None = None) -> Party:
    """The group organizes its meetings, under the configured organizer address (where
    calendar apps send answers), else a no-reply address of the bot's domain."""
    return Party(group.name, f"mailto:{address or f'noreply@{domain}'}")


def attendee(user_id: int, name: str, domain: str, email: str | None = None) -> Party:
    """A participant: by e-mail address where it is known (then calendar apps recognise
    their user as invited and offer to answer), else by an id only the bot understands.
    Pass `email` only for the person the file is sent to: nobody gets others' addresses."""
    if email:
        return Party(name, f"mailto:{email}")
    return Party(name, f"urn:x-ag-assistant:{domain}:user:{user_id}")


def _is_link(location: str | None) -> bool:
    return location is not None and location.lower().startswith(("https://", "http://"))


def _location(location: str | None, t: Translator) -> str | None:
    """LOCATION as the chat and the minutes say it: "Videokonferenz – https://…" for a link
    (clients still find the link in it; URL carries it bare), else the place as typed."""
    return place_text(t, location) if location else None


def agenda_lines(items: Sequence[AgendaItem], tz: ZoneInfo, t: Translator) -> list[str]:
    """`TOP 1 | 9:00 | Begrüßung | Anna Muster (IHK)`, numbered like /tagesordnung shows it
    (breaks have no TOP number)."""
    lines = []
    numbers = top_numbers((i.id, i.kind == AgendaItemKind.BREAK.value) for i in items)
    for item in items:
        title = f"☕ {item.title}" if item.kind == AgendaItemKind.BREAK.value else item.title
        number = numbers.get(item.id)
        parts = [t.gettext("TOP {number}", number=number) if number is not None else "☕"]
        if item.planned_start is not None:
            local = item.planned_start.astimezone(tz)
            parts.append(f"{local.hour}:{local.minute:02d}")
        parts.append(title)
        if item.presenter_name:
            parts.append(item.presenter_name)
        lines.append(" | ".join(parts))
    return lines


def meeting_description(
    meeting: Meeting, group: Group, style: EventStyle, agenda: Sequence[AgendaItem] = ()
) -> str:
    t = style.t
    lines = [t.gettext("{group}, meeting #{number}", group=group.name, number=meeting.number)]
    if meeting.description:
        lines += ["", meeting.description]
    if agenda:
        lines += ["", t.gettext("Agenda:"), *agenda_lines(agenda, ZoneInfo(group.timezone), t)]
    if _is_link(meeting.location):
        lines += ["", t.gettext("Video conference: {link}", link=meeting.location)]
    lines += [
        "",
        t.gettext(
            "Reply in the group chat: {command} {number} yes|maybe|no",
            command=style.rsvp_command,
            number=meeting.number,
        ),
    ]
    return "\n".join(lines)


def _summary(title: str, group: Group, style: EventStyle, cancelled: bool) -> str:
    summary = f"{group.name}: {title}" if style.group_in_summary else title
    return style.t.gettext("Cancelled: {title}", title=summary) if cancelled else summary


def meeting_event(
    meeting: Meeting,
    group: Group,
    style: EventStyle,
    *,
    stamp: datetime,
    agenda: Sequence[AgendaItem] = (),
    attendees: tuple[Party, ...] = (),
    tzid: str | None = None,
) -> CalendarEvent:
    """One meeting, or one occurrence of a series (then with the series' UID and zone).

    Feeds pass views holding only the fields in storage/calendar_rows.py instead of models
    (their text is cached under those rows): a field read here must be listed there."""
    cancelled = meeting.status == MeetingStatus.CANCELLED.value
    occurrence = meeting.series_id is not None and meeting.recurrence_id is not None
    return CalendarEvent(
        uid=meeting_uid(meeting, style.domain),
        summary=_summary(meeting.title, group, style, cancelled),
        start=meeting.starts_at,
        end=meeting.ends_at,
        tzid=tzid or group.timezone,
        stamp=stamp,
        sequence=meeting.sequence or 0,
        description=meeting_description(meeting, group, style, agenda),
        location=_location(meeting.location, style.t),
        url=meeting.location if _is_link(meeting.location) else None,
        cancelled=cancelled,
        organizer=organizer(group, style.domain, style.organizer_address),
        attendees=attendees,
        alarm_before=style.alarm_before,
        recurrence_id=meeting.recurrence_id if occurrence else None,
        last_modified=meeting.updated_at,
    )


def _follows_rule(meeting: Meeting, series: MeetingSeries) -> bool:
    """True when the occurrence is exactly what the RRULE says (no override needed)."""
    duration = (
        timedelta(minutes=series.duration_minutes) if series.duration_minutes is not None else None
    )
    end = meeting.recurrence_id + duration if meeting.recurrence_id and duration else None
    return (
        meeting.starts_at == meeting.recurrence_id
        and meeting.ends_at == end
        and meeting.title == series.title
        and meeting.location == series.location
        and meeting.description == series.description
    )


def _last_start(series: MeetingSeries) -> datetime | None:
    """Where the series stops: when it was ended, or the UNTIL in its rule."""
    until = vRecur.from_ical(series.rrule).get("UNTIL")
    ends = [series.ended_at, *(until or ())]
    moments = [m if isinstance(m, datetime) else None for m in ends]
    known = [m.astimezone(UTC) for m in moments if m is not None and m.tzinfo is not None]
    return min(known) if known else None


def _has_own_agenda(items: Sequence[AgendaItem]) -> bool:
    """More than the "Verschiedenes" every occurrence gets by default: worth an override so
    the calendar shows this date's agenda (a bare draft would turn every date into one)."""
    return any(item.kind != AgendaItemKind.MISC.value for item in items)


def series_events(
    series: MeetingSeries,
    occurrences: Sequence[Meeting],
    group: Group,
    style: EventStyle,
    *,
    stamp: datetime,
    agendas: dict[int, list[AgendaItem]] | None = None,
    attendees: tuple[Party, ...] = (),
) -> list[CalendarEvent]:
    """The series as one RRULE event, cancelled occurrences as EXDATEs, and every
    occurrence that differs from the rule (moved, retitled, with an agenda) as an override
    with RECURRENCE-ID. (Feeds pass views, as to `meeting_event`.)"""
    agendas = agendas or {}
    last = _last_start(series)
    cancelled = tuple(
        m.recurrence_id
        for m in occurrences
        if m.status == MeetingStatus.CANCELLED.value
        and m.recurrence_id is not None
        and (last is None or m.recurrence_id <= last)  # past the end: no EXDATE needed
    )
    duration = series.duration_minutes
    t = style.t
    description = [t.gettext("{group}, meeting series", group=group.name)]
    if series.description:
        description += ["", series.description]
    if _is_link(series.location):
        description += ["", t.gettext("Video conference: {link}", link=series.location)]
    master = CalendarEvent(
        uid=series_uid(series.id, style.domain),
        summary=_summary(series.title, group, style, cancelled=False),
        start=series.first_starts_at,
        end=series.first_starts_at + timedelta(minutes=duration) if duration else None,
        tzid=series.timezone,
        stamp=stamp,
        sequence=series.sequence or 0,
        description="\n".join(description),
        location=_location(series.location, style.t),
        url=series.location if _is_link(series.location) else None,
        organizer=organizer(group, style.domain, style.organizer_address),
        attendees=attendees,
        alarm_before=style.alarm_before,
        rrule=series.rrule,
        until=series.ended_at,
        exdates=cancelled,
        last_modified=series.updated_at,
    )
    overrides = [
        replace(
            meeting_event(
                meeting,
                group,
                style,
                stamp=stamp,
                agenda=agendas.get(meeting.id, ()),
                attendees=attendees,
                tzid=series.timezone,
            ),
            # never below the master's: some clients drop an override older than its series
            sequence=max(meeting.sequence or 0, series.sequence or 0),
        )
        for meeting in occurrences
        if meeting.recurrence_id is not None
        and meeting.status != MeetingStatus.CANCELLED.value
        and (not _follows_rule(meeting, series) or _has_own_agenda(agendas.get(meeting.id, ())))
    ]
    return [master, *overrides]


def due_date_event(
    *,
    kind: str,
    key: object,
    summary: str,
    due: date,
    tzid: str,
    style: EventStyle,
    stamp: datetime,
    description: str = "",
    organizer_group: Group | None = None,
) -> CalendarEvent:
    """A deadline as an all-day event on its day (action items, authorization deadlines);
    UID `<kind>-<key>@<domain>`."""
    return CalendarEvent(
        uid=uid_for(kind, key, style.domain),
        summary=summary,
        start=datetime.combine(due, time(0), ZoneInfo(tzid)),
        tzid=tzid,
        stamp=stamp,
        all_day=True,
        description=description,
        organizer=(
            organizer(organizer_group, style.domain, style.organizer_address)
            if organizer_group
            else None
        ),
        last_modified=stamp,
    )


def action_item_event(
    item: ActionItem, group: Group, style: EventStyle, due: date
) -> CalendarEvent:
    """An open action item on its due day, in the group's calendar."""
    t = style.t
    text = " ".join(item.text.split())
    short = text if len(text) <= 80 else text[:79] + "…"
    return due_date_event(
        kind="action",
        key=item.id,
        summary=t.gettext("Due: {text}", text=short)
        + (f" ({group.name})" if style.group_in_summary else ""),
        due=due,
        tzid=group.timezone,
        style=style,
        stamp=item.updated_at,
        description=t.gettext(
            "Action item A-{number} of {group}:", number=item.number, group=group.name
        )
        + "\n"
        + item.text,
        organizer_group=group,
    )
