"""Meetings as calendar events: what an invitation and a feed say about a meeting (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.i18n import Translator
from handlers.calendar_ics import CalendarEvent, Party, uid_for
from storage.models import Group, Meeting, MeetingStatus


@dataclass(frozen=True, slots=True)
class EventStyle:
    """How events are written for one reader: their language, the bot's domain and prefix."""

    t: Translator
    domain: str
    rsvp_command: str  # e.g. "/zusage", as the reader writes it
    alarm_before: timedelta | None = None
    group_in_summary: bool = False  # a person's feed mixes groups: say which one


def meeting_uid(meeting: Meeting, domain: str) -> str:
    return uid_for("meeting", meeting.id, domain)


def organizer(group: Group, domain: str) -> Party:
    """The group organizes its meetings; answers go through the chat, not by e-mail."""
    return Party(group.name, f"mailto:noreply@{domain}")


def attendee(user_id: int, name: str, domain: str) -> Party:
    return Party(name, f"urn:x-ag-assistant:{domain}:user:{user_id}")


def _is_link(location: str | None) -> bool:
    return bool(location) and location.lower().startswith(("https://", "http://"))  # type: ignore[union-attr]


def meeting_description(meeting: Meeting, group: Group, style: EventStyle) -> str:
    t = style.t
    lines = [t.gettext("{group}, meeting #{number}", group=group.name, number=meeting.number)]
    if meeting.location and _is_link(meeting.location):
        lines += ["", t.gettext("Link: {link}", link=meeting.location)]
    lines += [
        "",
        t.gettext(
            "Reply in the group chat: {command} {number} yes|maybe|no",
            command=style.rsvp_command,
            number=meeting.number,
        ),
    ]
    return "\n".join(lines)


def meeting_event(
    meeting: Meeting,
    group: Group,
    style: EventStyle,
    *,
    sequence: int,
    stamp: datetime,
    attendees: tuple[Party, ...] = (),
) -> CalendarEvent:
    cancelled = meeting.status == MeetingStatus.CANCELLED.value
    summary = meeting.title
    if style.group_in_summary:
        summary = f"{group.name}: {summary}"
    if cancelled:
        summary = style.t.gettext("Cancelled: {title}", title=summary)
    return CalendarEvent(
        uid=meeting_uid(meeting, style.domain),
        summary=summary,
        start=meeting.starts_at,
        end=meeting.ends_at,
        tzid=group.timezone,
        stamp=stamp,
        sequence=sequence,
        description=meeting_description(meeting, group, style),
        location=meeting.location,
        url=meeting.location if _is_link(meeting.location) else None,
        cancelled=cancelled,
        organizer=organizer(group, style.domain),
        attendees=attendees,
        alarm_before=style.alarm_before,
        last_modified=meeting.updated_at,
    )
