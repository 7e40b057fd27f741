"""Meeting invitations as iMIP mail (RFC 6047): one mail per recipient whose calendar part
names that recipient, by their address, as the only ATTENDEE — nobody else's address is
ever disclosed — and the configured address as ORGANIZER, where calendar apps send their
answers. Updates keep the UID with a higher SEQUENCE; a cancellation is METHOD:CANCEL.

Pure: events in (from handlers.calendar.events, as they are), a `MailContent` out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from icalendar import Calendar

from bot.core.i18n import Translator
from bot.core.mail import MailContent, MessageKind
from handlers.calendar.ics import CalendarEvent, Method, Party, render_invitation
from handlers.email.texts import with_footer
from handlers.personal_links.mails import answer_lines


def for_recipient(
    events: Sequence[CalendarEvent], *, name: str, address: str, organizer: Party
) -> list[CalendarEvent]:
    """The events as this one recipient gets them: they alone attend, `organizer` invites."""
    me = (Party(name, f"mailto:{address}"),)
    return [replace(event, organizer=organizer, attendees=me) for event in events]


def _asking_for_reply(content: bytes) -> bytes:
    """ATTENDEE;RSVP=TRUE: calendar apps show accept/decline only when a reply is wanted."""
    calendar = Calendar.from_ical(content)
    for event in calendar.walk("VEVENT"):
        attendees = event.get("attendee")
        for attendee in attendees if isinstance(attendees, list) else [attendees]:
            if attendee is not None:
                attendee.params["RSVP"] = "TRUE"
    return calendar.to_ical()


def invitation_mail(
    t: Translator,
    events: Sequence[CalendarEvent],
    method: Method,
    *,
    subject: str,
    intro: Sequence[str],
    group: str,
    command: str,
    answers: Sequence[tuple[str, str]] = (),
) -> MailContent:
    """The mail: a readable text (and HTML twin) and the calendar part, in `t`'s language.
    `answers`: (label, URL) of the recipient's personal answer links, for mail apps without
    calendar buttons (handlers/personal_links)."""
    content = render_invitation(events, method)
    if method is Method.REQUEST:
        content = _asking_for_reply(content)
    first = events[0]
    lines = [*intro]
    if first.location:
        lines.append(t.gettext("Where: {place}", place=first.location))
    if first.description:
        lines += ["", first.description]
    if method is Method.REQUEST:
        lines += [
            "",
            t.gettext("Your calendar app shows buttons to accept or decline."),
        ]
        if answers:
            lines += ["", *answer_lines(t, answers)]
    text = with_footer("\n".join(lines), t, MessageKind.INVITATIONS, group=group, command=command)
    return MailContent(
        subject=subject,
        text=text,
        language=t.language,
        calendar=content,
        method=method.value,
    )
