"""Chat commands around personal links: a chair adds a person outside the chats to a poll
or a meeting (they get their link by e-mail), lists and revokes links; a member gets their
own poll link in a private chat."""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.core.enums import MeetingStatus, Role
from bot.core.errors import UserError
from bot.core.i18n import N_, Translator
from bot.core.mail import MailContent, to_outgoing
from bot.core.messages import OutgoingMessage, Reply
from bot.core.router import Arg, ArgKind, Command, Scope
from handlers.calendar.invitations import meeting_when
from handlers.context import HandlerContext
from handlers.meetings.actions import held_already
from handlers.meetings.lookup import meeting_by_arg
from handlers.personal_data.commands import FORMER_MEMBER
from handlers.personal_links.access import answer_links, name_of, poll_url
from handlers.personal_links.mails import meeting_link_mail, poll_link_mail
from handlers.polls.ballot import REFUSALS, BallotRefused, check_open
from handlers.polls.commands import poll_by_arg
from handlers.polls.view import TITLES, moment_text
from storage import mail as mail_store
from storage import outbox, people
from storage import personal_links as link_store
from storage.models import Guest, Meeting, PersonalLink, Poll

ADDRESS = re.compile(r"<?([^\s<>@,;]+@[^\s<>@,;]+\.[^\s<>@,;]+)>?[,;]?")
GUEST_EXAMPLES = {
    "pollguest": "3 Erika Muster erika.muster@example.org",
    "meetingguest": "2 Erika Muster erika.muster@example.org",
}
POLL_WORDS = ("abfrage", "umfrage", "poll", "survey")
MEETING_WORDS = ("sitzung", "meeting")


@dataclass(frozen=True)
class GuestInput:
    number: str
    name: str
    address: str


def parse_guest(text: str) -> GuestInput | None:
    """`3 Erika Muster erika@example.org` (or `#3 Erika Muster <erika@example.org>`)."""
    words = text.split()
    if len(words) < 3:
        return None
    found = ADDRESS.fullmatch(words[-1])
    name = " ".join(words[1:-1]).strip(" ,;\"'„“”")
    if found is None or not name or len(name) > 120 or len(found.group(1)) > 320:
        return None
    return GuestInput(words[0], name, found.group(1))


def _guest_input(ctx: HandlerContext, command: str) -> GuestInput:
    parsed = parse_guest(ctx.args["details"])
    if parsed is None:
        raise UserError(
            ctx._(
                "Please give the number, the person's name and their e-mail address, e.g. "
                "{example}",
                example=f"{ctx.command_name(command)} {GUEST_EXAMPLES[command]}",
            )
        )
    return parsed


def _open_poll(ctx: HandlerContext, poll: Poll) -> None:
    try:
        check_open(poll, ctx.now)
    except BallotRefused as refused:
        raise UserError(ctx._(REFUSALS[refused.code], **refused.params)) from None


def _answerable(ctx: HandlerContext, meeting: Meeting) -> None:
    if meeting.status == MeetingStatus.CANCELLED.value:
        raise UserError(ctx._("Meeting #{number} was cancelled.", number=meeting.number))
    if held_already(meeting, ctx.now):
        raise UserError(ctx._("This meeting has begun already; answers are closed."))


async def _add_guest(ctx: HandlerContext, given: GuestInput) -> tuple[Guest, Translator]:
    guest = await link_store.add_guest(
        ctx.session,
        name=given.name,
        address=given.address,
        added_by_user_id=ctx.user.id,
        now=ctx.now,
    )
    assert ctx.group is not None
    return guest, Translator(ctx.group.language)


async def _mail(ctx: HandlerContext, guest: Guest, link: str, mail: MailContent) -> None:
    """Queue the mail; its key names the link's current token hash, never the token."""
    assert ctx.group is not None
    ctx.enqueued += await mail_store.enqueue_mail(
        ctx.session,
        address=guest.address,
        dedupe_key=f"personal-link:{link}",
        purpose="personal_link",
        message=to_outgoing(mail),
        now=ctx.now,
        user_id=guest.user_id,
        group_id=ctx.group.id,
    )


async def _link_row(ctx: HandlerContext, token: str) -> PersonalLink:
    link = await link_store.link_for_token(ctx.session, token)
    assert link is not None
    return link


async def add_poll_guest(ctx: HandlerContext) -> Reply:
    """`/abfragegast 3 Erika Muster erika@example.org`: Erika gets a link to poll #3."""
    assert ctx.group is not None
    given = _guest_input(ctx, "pollguest")
    poll = await poll_by_arg(ctx, given.number)
    _open_poll(ctx, poll)
    guest, t = await _add_guest(ctx, given)
    token = await link_store.issue(
        ctx.session,
        user_id=guest.user_id,
        group_id=ctx.group.id,
        poll_id=poll.id,
        outside=True,
        now=ctx.now,
    )
    tz = ZoneInfo(ctx.group.timezone)
    mail = poll_link_mail(
        t,
        heading=t.gettext(TITLES[poll.kind], number=poll.number, title=poll.title),
        name=guest.name,
        chair=ctx.message.sender.display_name,
        group=ctx.group.name,
        deadline=moment_text(poll.deadline, tz, t.language) if poll.deadline else None,
        url=poll_url(ctx.services.settings.feed_base_url, token),
    )
    link = await _link_row(ctx, token)
    await _mail(ctx, guest, f"{link.id}:{link.token_hash[:16]}", mail)
    return Reply(
        ctx._(
            "{name} gets a personal link to poll #{number} by e-mail and can answer on the web "
            "page; the answers show here too. {command} lists the links and revokes one.",
            name=guest.name,
            number=poll.number,
            command=ctx.command_name("revokelink"),
        )
    )


async def add_meeting_guest(ctx: HandlerContext) -> Reply:
    """`/sitzungsgast 2 Erika Muster erika@example.org`: Erika gets an invitation to
    meeting #2 with Zusage / Vielleicht / Absage links."""
    assert ctx.group is not None
    given = _guest_input(ctx, "meetingguest")
    meeting = await meeting_by_arg(ctx, given.number)
    _answerable(ctx, meeting)
    guest, t = await _add_guest(ctx, given)
    token = await link_store.issue(
        ctx.session,
        user_id=guest.user_id,
        group_id=ctx.group.id,
        meeting_id=meeting.id,
        outside=True,
        now=ctx.now,
    )
    mail = meeting_link_mail(
        t,
        title=meeting.title,
        when=meeting_when(meeting, ZoneInfo(ctx.group.timezone), t.language),
        location=meeting.location,
        name=guest.name,
        chair=ctx.message.sender.display_name,
        group=ctx.group.name,
        answers=answer_links(t, ctx.services.settings.feed_base_url, token),
    )
    link = await _link_row(ctx, token)
    await _mail(ctx, guest, f"{link.id}:{link.token_hash[:16]}", mail)
    return Reply(
        ctx._(
            "{name} gets an invitation to meeting #{number} by e-mail, with links to accept "
            "or decline; the answer counts like a /zusage. {command} lists the links and "
            "revokes one.",
            name=guest.name,
            number=meeting.number,
            command=ctx.command_name("revokelink"),
        )
    )


async def revoke_link(ctx: HandlerContext) -> Reply:
    """`/linksperren abfrage 3` lists who has a working link to poll #3 (names only, once
    each however many mails they got); `/linksperren abfrage 3 Erika Muster` stops all of
    Erika's links to it at once."""
    assert ctx.group is not None
    words = ctx.args["details"].split()
    example = ctx.command_name("revokelink") + (
        " abfrage 3 Erika Muster" if ctx.language == "de" else " poll 3 Erika Muster"
    )
    if len(words) < 2 or words[0].lower() not in (*POLL_WORDS, *MEETING_WORDS):
        raise UserError(
            ctx._("Please name the poll or meeting and its number, e.g. {example}", example=example)
        )
    if words[0].lower() in POLL_WORDS:
        poll = await poll_by_arg(ctx, words[1])
        target = {"poll_id": poll.id}
        what = ctx._("poll #{number}", number=poll.number)
    else:
        meeting = await meeting_by_arg(ctx, words[1])
        target = {"meeting_id": meeting.id}
        what = ctx._("meeting #{number}", number=meeting.number)
    links = await link_store.live_links(ctx.session, **target)  # one per person
    named = [(await name_of(ctx.session, link.user_id), link) for link in links]
    wanted = " ".join(words[2:]).strip().casefold()
    if not wanted:
        if not named:
            return Reply(ctx._("Nobody has a personal link to {what}.", what=what))
        lines = [ctx._("Personal links to {what}:", what=what)]
        lines += [f"• {name}" for name, _ in named]
        lines.append(ctx._("{example} revokes one.", example=example))
        return Reply("\n".join(lines))
    matches = [link for name, link in named if name.casefold() == wanted]
    if not matches:
        raise UserError(
            ctx._("Nobody called {name} has a personal link to {what}.", name=wanted, what=what)
        )
    for link in matches:
        await link_store.revoke(ctx.session, user_id=link.user_id, now=ctx.now, **target)
    return Reply(
        ctx._(
            "The personal links to {what} (every e-mail's) no longer work. Answers given stay.",
            what=what,
        )
    )


async def my_link(ctx: HandlerContext) -> Reply:
    """`/meinlink 3`: the member's own link to poll #3, in their private chat (never in the
    group: whoever has the link answers in their name)."""
    assert ctx.group is not None
    poll = await poll_by_arg(ctx, ctx.args.get("number"))
    _open_poll(ctx, poll)
    token = await link_store.issue(
        ctx.session, user_id=ctx.user.id, group_id=ctx.group.id, poll_id=poll.id, now=ctx.now
    )
    link = await _link_row(ctx, token)
    url = poll_url(ctx.services.settings.feed_base_url, token)
    heading = ctx._(TITLES[poll.kind], number=poll.number, title=poll.title)
    text = "\n".join(
        [
            heading,
            ctx._("Your personal link to answer on the web:"),
            url,
            ctx._(
                "The link is yours alone: whoever opens it answers in your name. "
                "Please do not forward it."
            ),
        ]
    )
    try:
        ctx.enqueued += await outbox.enqueue_to_person(
            ctx.session,
            user_id=ctx.user.id,
            dedupe_key=f"personal-link:{link.id}:{link.token_hash[:16]}",
            purpose="personal_link",
            message=OutgoingMessage(text),
            now=ctx.now,
            group_id=ctx.group.id,
        )
    except LookupError:  # no chat account: cannot happen for someone who writes here
        raise UserError(ctx._("I cannot reach you in a private chat.")) from None
    return Reply(ctx._("I sent you your personal link in a private chat."))


async def erase_guest(ctx: HandlerContext) -> Reply:
    """`/gastloeschen Erika Muster`: a guest of this group asked to be forgotten (they have
    no chat to send /datenloeschen from). The same erasure: name, address and links go,
    their answers stay counted without a name."""
    assert ctx.group is not None
    wanted = ctx.args["name"].strip().casefold()
    guests = [
        guest
        for guest in await link_store.guests_of_group(ctx.session, ctx.group.id)
        if guest.name.casefold() == wanted
    ]
    if not guests:
        raise UserError(
            ctx._("There is no guest called {name} in this group.", name=ctx.args["name"])
        )
    for guest in guests:
        user = await people.find_user(ctx.session, guest.user_id)
        if user is not None:
            await people.delete_user(
                ctx.session,
                user,
                label=lambda language: Translator(language).gettext(FORMER_MEMBER),
                default_language=ctx.services.settings.bot_language,
                now=ctx.now,
            )
    return Reply(
        ctx._(
            "{name}'s name, address and personal links are deleted; their answers still "
            "count, without the name.",
            name=guests[0].name,
        )
    )


DETAILS = Arg("details", N_("number name address"), kind=ArgKind.TEXT, max_length=500)

COMMANDS = (
    Command(
        "pollguest",
        add_poll_guest,
        N_("Add a person outside the chat to a poll: they answer by a personal link"),
        german="abfragegast",
        args=(DETAILS,),
        details=N_(
            "Example: /abfragegast 3 Erika Muster erika.muster@example.org – Erika gets a "
            "personal link to poll #3 by e-mail and answers on a web page, with the same "
            "choices and rules as in the chat."
        ),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "meetingguest",
        add_meeting_guest,
        N_("Invite a person outside the chat to a meeting: they answer by links in the mail"),
        german="sitzungsgast",
        args=(DETAILS,),
        details=N_(
            "Example: /sitzungsgast 2 Erika Muster erika.muster@example.org – Erika gets an "
            "e-mail with the links Zusage / Vielleicht / Absage for meeting #2."
        ),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "revokelink",
        revoke_link,
        N_("List the personal links to a poll or meeting, or revoke one"),
        german="linksperren",
        args=(Arg("details", N_("poll|meeting number name"), kind=ArgKind.TEXT, max_length=200),),
        details=N_(
            "Examples: /linksperren abfrage 3 lists who has a link to poll #3; "
            "/linksperren abfrage 3 Erika Muster stops all of Erika's links to it; "
            "/linksperren sitzung 2 Erika Muster for meeting #2."
        ),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "guestdelete",
        erase_guest,
        N_("Delete a guest's name, address and links (their answers stay, without the name)"),
        german="gastloeschen",
        args=(Arg("name", N_("name"), kind=ArgKind.TEXT, max_length=120),),
        details=N_(
            "Example: /gastloeschen Erika Muster – for a person outside the chat who asked "
            "to be deleted."
        ),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "mylink",
        my_link,
        N_("Get your personal link to answer a poll on the web, in a private chat"),
        german="meinlink",
        args=(Arg("number", N_("number"), required=False),),
        details=N_(
            "Example: /meinlink 3 – without a number: the newest open poll. The link is for "
            "you alone."
        ),
        scope=Scope.GROUP,
        needs_group=True,
    ),
)
