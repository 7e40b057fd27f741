"""Calendar invitations by direct message: an `.ics` file for each participant.

`meeting_changed` is the one call the meetings handlers make after a meeting was created,
changed or cancelled. Every participant gets the invitation through the outbox, in their
own language; the dedupe key holds the meeting's SEQUENCE, so each person gets each
version exactly once, however often it is triggered (restarts, a chair's resend).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from functools import partial
from zoneinfo import ZoneInfo

from bot.core.dates import ParsedWhen, format_when
from bot.core.enums import MeetingStatus, Role
from bot.core.errors import UserError
from bot.core.i18n import N_, Translator
from bot.core.mail import MailContent, MessageKind
from bot.core.messages import Document, OutgoingMessage, Reply
from bot.core.router import Arg, ArgKind, Command, Scope
from handlers.calendar.addresses import own_addresses
from handlers.calendar.events import EventStyle, attendee, meeting_event, series_events
from handlers.calendar.ics import ICS_MIME, Method, Party, render_invitation
from handlers.context import HandlerContext
from handlers.email.imip import for_recipient, invitation_mail
from handlers.email.routing import route_for, send_to_person
from handlers.meetings.lookup import meeting_by_arg
from handlers.members.audience import language_of
from handlers.members.presence import still_members
from handlers.personal_links.access import answer_links
from handlers.personal_links.guests import tell_meeting_guests
from storage import calendar as calendar_store
from storage import mail as mail_store
from storage import people
from storage import personal_links as link_store
from storage.models import AgendaItem, Group, Meeting, MeetingSeries, User

PURPOSE = "meeting_invitation"


def meeting_when(meeting: Meeting, tz: ZoneInfo, language: str) -> str:
    """The meeting's date and time as people read it: `15.06.2026, 9:00–12:00 Uhr`."""
    start = meeting.starts_at.astimezone(tz)
    end = meeting.ends_at.astimezone(tz) if meeting.ends_at else None
    same_day = end is not None and end.date() == start.date()
    return format_when(
        ParsedWhen(start.date(), start.time(), end.time() if same_day else None, tz), language
    )


def _style(ctx: HandlerContext, language: str) -> EventStyle:
    settings = ctx.services.settings
    rsvp = ctx.services.router.get("rsvp")
    alarm = settings.calendar_alarm_minutes
    return EventStyle(
        t=Translator(language),
        domain=ctx.services.calendar_domain,
        rsvp_command=ctx.platform.command_prefix + (rsvp.display_name(language) if rsvp else ""),
        alarm_before=timedelta(minutes=alarm) if alarm else None,
        organizer_address=ctx.services.calendar_organizer,
    )


def _attendees(
    everyone: list[tuple[User, str]], domain: str, reader: int | None, address: str | None
) -> tuple[Party, ...]:
    """All participants; only the reader by e-mail address (if known), the others by id."""
    return tuple(
        attendee(user.id, name, domain, address if user.id == reader else None)
        for user, name in everyone
    )


def invitation_file(
    meeting: Meeting,
    group: Group,
    ctx: HandlerContext,
    language: str,
    attendees: list[tuple[User, str]],
    agenda: list[AgendaItem],
    series: MeetingSeries | None = None,
    *,
    reader: int | None = None,
    reader_address: str | None = None,
) -> Document:
    """The `.ics` for this meeting's current version, texts in `language`. An occurrence
    of a series is sent as an override (series UID + RECURRENCE-ID). The `reader` it is
    for appears by `reader_address` (their own e-mail address) when known."""
    domain = ctx.services.calendar_domain
    event = meeting_event(
        meeting,
        group,
        _style(ctx, language),
        stamp=ctx.now,
        agenda=agenda,
        attendees=_attendees(attendees, domain, reader, reader_address),
        tzid=series.timezone if series is not None else None,
    )
    cancelled = meeting.status == MeetingStatus.CANCELLED.value
    content = render_invitation([event], Method.CANCEL if cancelled else Method.REQUEST)
    prefix = "sitzung" if language == "de" else "meeting"
    return Document(f"{prefix}-{meeting.number}.ics", content, ICS_MIME)


def _text(meeting: Meeting, group: Group, language: str) -> str:
    t = Translator(language)
    when = meeting_when(meeting, ZoneInfo(group.timezone), language)
    if meeting.status == MeetingStatus.CANCELLED.value:
        headline = t.gettext("Cancelled: {title}", title=meeting.title)
    elif meeting.sequence > 0:
        headline = t.gettext("Changed: {title}", title=meeting.title)
    else:
        headline = t.gettext("Invitation: {title}", title=meeting.title)
    return "\n".join(
        [
            headline,
            f"{group.name} #{meeting.number} – {when}",
            t.gettext("Open the attached file to add it to your calendar."),
        ]
    )


def _organizer(ctx: HandlerContext, group: Group) -> Party:
    """Invitations by e-mail come from the configured address: calendar apps answer there."""
    return Party(group.name, f"mailto:{ctx.services.calendar_organizer}")


def _meeting_mail(
    ctx: HandlerContext,
    meeting: Meeting,
    group: Group,
    language: str,
    name: str,
    agenda: list[AgendaItem],
    series: MeetingSeries | None,
    answers: Sequence[tuple[str, str]],
    address: str,
) -> MailContent:
    """This version of the meeting as an iMIP mail to one member (see handlers.email.imip),
    with their personal Zusage / Vielleicht / Absage links (`answers`) when it invites."""
    event = meeting_event(
        meeting,
        group,
        _style(ctx, language),
        stamp=ctx.now,
        agenda=agenda,
        tzid=series.timezone if series is not None else None,
    )
    cancelled = meeting.status == MeetingStatus.CANCELLED.value
    headline, when, _ = _text(meeting, group, language).split("\n", 2)
    return invitation_mail(
        Translator(language),
        for_recipient([event], name=name, address=address, organizer=_organizer(ctx, group)),
        Method.CANCEL if cancelled else Method.REQUEST,
        subject=headline,
        intro=[headline, when],
        group=group.name,
        command=ctx.command_name("email"),
        answers=answers,
    )


async def _answer_links(
    ctx: HandlerContext, meeting: Meeting, user_id: int, dedupe_key: str, language: str
) -> list[tuple[str, str]]:
    """A member's personal answer links for the invitation mail about to be queued. Only
    when a mail goes out and was not queued before: each link issued is kept (hashed) until
    revoked, so none is made for a mail that is never sent."""
    if meeting.status == MeetingStatus.CANCELLED.value:
        return []
    route = await route_for(ctx.session, user_id, MessageKind.INVITATIONS)
    if route.address is None or await mail_store.mail_queued(
        ctx.session, dedupe_key, route.address
    ):
        return []
    token = await link_store.issue(
        ctx.session, user_id=user_id, group_id=meeting.group_id, meeting_id=meeting.id, now=ctx.now
    )
    return answer_links(Translator(language), ctx.services.settings.feed_base_url, token)


def _series_mail(
    ctx: HandlerContext,
    series: MeetingSeries,
    occurrences: list[Meeting],
    agendas: dict[int, list[AgendaItem]],
    group: Group,
    language: str,
    name: str,
    address: str,
) -> MailContent:
    t = Translator(language)
    events = series_events(
        series, occurrences, group, _style(ctx, language), stamp=ctx.now, agendas=agendas
    )
    headline = t.gettext("Meeting series: {title}", title=series.title)
    return invitation_mail(
        t,
        for_recipient(events, name=name, address=address, organizer=_organizer(ctx, group)),
        Method.REQUEST,
        subject=headline,
        intro=[headline, group.name],
        group=group.name,
        command=ctx.command_name("email"),
    )


async def _confirmed_invitees(
    ctx: HandlerContext, group_id: int, wanted: set[int] | None
) -> list[tuple[User, str]]:
    """The group's members with their names, after asking the platform whether those to be
    invited (`wanted`, or all) are still in the group's chat: who left is not invited and
    not listed as an attendee."""
    everyone = await calendar_store.invitees(ctx.session, group_id)
    asked = {user.id for user, _ in everyone if wanted is None or user.id in wanted}
    current = await still_members(ctx.services, ctx.session, group_id, asked, ctx.now)
    return [(user, name) for user, name in everyone if user.id in current or user.id not in asked]


async def send_invitations(
    ctx: HandlerContext,
    meeting: Meeting,
    *,
    user_ids: Iterable[int] | None = None,
    key_suffix: str = "",
) -> int:
    """Queue this version's invitation to every participant (all members, or `user_ids`);
    returns how many were new. Without `key_suffix`, a person gets each version once."""
    group = ctx.group if ctx.group and ctx.group.id == meeting.group_id else None
    group = group or await people.group_by_id(ctx.session, meeting.group_id)
    wanted = set(user_ids) if user_ids is not None else None
    everyone = await _confirmed_invitees(ctx, group.id, wanted)
    agenda = await calendar_store.agenda_of_meeting(ctx.session, meeting.id)
    series = None
    if meeting.series_id is not None:
        found = await calendar_store.series_by_id(ctx.session, [meeting.series_id])
        series = found.get(meeting.series_id)
    readers = [user for user, _ in everyone if wanted is None or user.id in wanted]
    addresses = await own_addresses(ctx.session, [user.id for user in readers])
    files: dict[tuple[str, int | None], Document] = {}
    queued = 0
    for user, name in everyone:
        if wanted is not None and user.id not in wanted:
            continue
        language = language_of(user, group)
        address = addresses.get(user.id)
        # Everyone without a known address reads the same file; with one, their own.
        which = (language, user.id if address else None)
        if which not in files:
            files[which] = invitation_file(
                meeting,
                group,
                ctx,
                language,
                everyone,
                agenda,
                series,
                reader=user.id if address else None,
                reader_address=address,
            )
        dedupe_key = f"ics:{meeting.id}:{meeting.sequence}:{user.id}{key_suffix}"
        answers = await _answer_links(ctx, meeting, user.id, dedupe_key, language)
        created = await send_to_person(
            ctx.session,
            user_id=user.id,
            kind=MessageKind.INVITATIONS,
            dedupe_key=dedupe_key,
            purpose=PURPOSE,
            chat=OutgoingMessage(_text(meeting, group, language), document=files[which]),
            mail=partial(
                _meeting_mail, ctx, meeting, group, language, name, agenda, series, answers
            ),
            now=ctx.now,
            group_id=group.id,
        )
        queued += int(created)
    ctx.enqueued += queued
    return queued


async def series_changed(ctx: HandlerContext, series: MeetingSeries) -> int:
    """Hook for the series handlers: a series was created or changed (bump its `sequence`
    on a change first). Every member gets the whole series once per version: the RRULE,
    cancelled occurrences as EXDATE, changed ones as RECURRENCE-ID overrides."""
    group = await people.group_by_id(ctx.session, series.group_id)
    everyone = await _confirmed_invitees(ctx, group.id, None)
    occurrences = await calendar_store.occurrences_of_series(ctx.session, series.id)
    agendas = await calendar_store.agendas_of_groups(ctx.session, [group.id])
    domain = ctx.services.calendar_domain
    addresses = await own_addresses(ctx.session, [user.id for user, _ in everyone])
    files: dict[tuple[str, int | None], Document] = {}
    queued = 0
    for user, name in everyone:
        language = language_of(user, group)
        address = addresses.get(user.id)
        which = (language, user.id if address else None)
        if which not in files:
            events = series_events(
                series,
                occurrences,
                group,
                _style(ctx, language),
                stamp=ctx.now,
                agendas=agendas,
                attendees=_attendees(everyone, domain, user.id, address),
            )
            content = render_invitation(events, Method.REQUEST)
            prefix = "sitzungsreihe" if language == "de" else "meeting-series"
            files[which] = Document(f"{prefix}-{series.id}.ics", content, ICS_MIME)
        t = Translator(language)
        created = await send_to_person(
            ctx.session,
            user_id=user.id,
            kind=MessageKind.INVITATIONS,
            dedupe_key=f"ics-series:{series.id}:{series.sequence}:{user.id}",
            purpose=PURPOSE,
            chat=OutgoingMessage(
                t.gettext("Meeting series: {title}", title=series.title)
                + f"\n{group.name}\n"
                + t.gettext("Open the attached file to add it to your calendar."),
                document=files[which],
            ),
            mail=partial(_series_mail, ctx, series, occurrences, agendas, group, language, name),
            now=ctx.now,
            group_id=group.id,
        )
        queued += int(created)
    ctx.enqueued += queued
    return queued


async def meeting_changed(ctx: HandlerContext, meeting: Meeting) -> None:
    """Hook for the meetings handlers: a meeting was created, changed or cancelled. Members
    get the invitation; guests a chair invited by e-mail (/sitzungsgast) hear of it too."""
    await send_invitations(ctx, meeting)
    group = ctx.group if ctx.group and ctx.group.id == meeting.group_id else None
    group = group or await people.group_by_id(ctx.session, meeting.group_id)
    ctx.enqueued += await tell_meeting_guests(
        ctx.session,
        ctx.services,
        meeting,
        group,
        when=meeting_when(meeting, ZoneInfo(group.timezone), group.language),
        now=ctx.now,
    )


async def resend(ctx: HandlerContext) -> Reply:
    """`/einladung 3`: the invitation to me again; `/einladung 3 alle` (chair): to every
    member who has not had this version yet (e.g. who joined later)."""
    assert ctx.group is not None
    meeting = await meeting_by_arg(ctx, ctx.args["number"])
    # Here, not at the top: handlers.meetings.actions imports this module.
    from handlers.meetings.actions import held_already

    if held_already(meeting, ctx.now):  # the rule that sent no invitation when it was recorded
        raise UserError(
            ctx._(
                "Meeting #{number} has already taken place, so there is no calendar entry to "
                "send. {command} shows what was recorded.",
                number=meeting.number,
                command=f"{ctx.command_name('minutes')} {meeting.number}",
            )
        )
    if ctx.args.get("who") == "all":
        if ctx.role is None or not ctx.role.allows(Role.CHAIR):
            raise UserError(ctx._("Only a chair can send the invitation to everyone."))
        queued = await send_invitations(ctx, meeting)
        return Reply(
            ctx.ngettext(
                "Sent the invitation to {n} member who did not have it yet.",
                "Sent the invitation to {n} members who did not have it yet.",
                queued,
            )
        )
    await send_invitations(
        ctx, meeting, user_ids=[ctx.user.id], key_suffix=f":again:{ctx.now.isoformat()}"
    )
    return Reply(
        ctx._(
            "I sent you the calendar file for #{number} in a private message.",
            number=meeting.number,
        )
    )


COMMANDS = (
    Command(
        "invitation",
        resend,
        N_("Send me a meeting's calendar invitation (.ics) again, or (chair) to everyone"),
        german="einladung",
        args=(
            Arg("number", N_("number")),
            Arg(
                "who",
                N_("all"),
                kind=ArgKind.CHOICE,
                required=False,
                choices={"all": "all", "alle": "all"},
                display={"de": "alle", "en": "all"},
            ),
        ),
        details=N_(
            "Example: /einladung 3 – you get the file for meeting #3 by private message. "
            "A chair sends /einladung 3 alle to give it to every member who does not have "
            "the current version yet."
        ),
        scope=Scope.GROUP,
        needs_group=True,
    ),
)
