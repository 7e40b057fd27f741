"""Date polls (Terminabfrage) and surveys: create, answer, close, pick the date.

The poll message is the interface: buttons answer, and the message is edited in place
with the new overview. Every chat of the group gets the poll (through the outbox), and the
typed `/abstimmen` works wherever buttons cannot (console, Matrix with many slots).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from zoneinfo import ZoneInfo

from bot.core.dates import format_date
from bot.core.enums import PollKind, PollStatus, Role
from bot.core.errors import UserError
from bot.core.i18n import N_, Translator
from bot.core.messages import KeptReply, OutgoingMessage, Reply
from bot.core.numbers import small_number
from bot.core.router import Arg, ArgKind, Command, Scope
from handlers.context import HandlerContext
from handlers.meetings import commands as meeting_handlers
from handlers.meetings.actions import bring_about
from handlers.members.audience import audience
from handlers.members.presence import still_members
from handlers.polls.actions import close, poll_tally, post_everywhere, sync_shown
from handlers.polls.ballot import (
    REFUSALS,
    BallotRefused,
    answer_dates,
    check_open,
    check_options,
    choose,
)
from handlers.polls.tally import (
    PollInputError,
    PollSpec,
    Tally,
    parse_date_poll,
    parse_survey,
    parse_vote,
)
from handlers.polls.view import (
    closed_headline,
    option_text,
    pick_buttons,
    render,
    shows_poll,
    vote_buttons,
    vote_hint,
)
from storage import meetings as meeting_store
from storage import outbox, people
from storage import polls as poll_store
from storage.models import Meeting, Poll

DATE_EXAMPLE = '"Juni-Sitzung" 15.06. 9-12 Uhr; 17.06. 14-16 Uhr; 22.06. 10 Uhr bis 14.06.'
SURVEY_EXAMPLE = '"Welche Themen?" Digitalisierung; Nachfolge; Fachkräfte mehrfach'

POLL_ERRORS = {
    "quotes": N_("A quotation mark is not closed."),
    "no_title": N_("Please give the poll a title first, in quotes."),
    "title_too_long": N_("The title is too long: at most {limit} characters, please."),
    "survey_title": N_("Please put the question first, in quotes or ending with “?”."),
    "no_slots": N_("I found no date with a time in that."),
    "unreadable": N_("I could not read “{text}”."),
    "slot_needs_time": N_("Please add a time to {date}."),
    "slot_past": N_("{date} has passed already."),
    "duplicate": N_("An option appears twice."),
    "few_options": N_("Please give at least {minimum} options."),
    "many_options": N_("At most {limit} options, please."),
    "option_too_long": N_("An option is too long: at most {limit} characters, please."),
    "deadline_past": N_("The deadline has passed already."),
    "deadline_after_slot": N_("The deadline must be before the last date."),
    "vote_syntax": N_("Please write the option numbers and your answer, e.g. {example}."),
}


def _input_error(ctx: HandlerContext, error: PollInputError, example: str) -> UserError:
    params = dict(error.params)
    if "date" in params:
        params["date"] = format_date(date.fromisoformat(params["date"]), ctx.language)
    params.setdefault("example", example)
    text = ctx._(POLL_ERRORS[error.code], **params)
    if error.code != "vote_syntax":
        text += "\n" + ctx._("Example: {example}", example=example)
    return UserError(text)


def _here(ctx: HandlerContext) -> tuple[str, str]:
    return (ctx.message.platform, ctx.message.chat.chat_id)


def _overview(ctx: HandlerContext, poll: Poll, result: Tally) -> Reply:
    hint = vote_hint(ctx.t, poll, ctx.command_name("vote"))
    buttons = vote_buttons(ctx.t, poll, ctx.tz, ctx.platform.max_buttons)
    return Reply(render(ctx.t, poll, result, ctx.tz, ctx.now, hint=hint), buttons=buttons)


# --- create ------------------------------------------------------------------------------


async def _create(ctx: HandlerContext, spec: PollSpec, kind: PollKind) -> Reply:
    assert ctx.group is not None
    if kind is PollKind.DATE:
        options = [
            poll_store.NewOption(starts_at=s.start_at(), ends_at=s.end_at()) for s in spec.slots
        ]
    else:
        options = [poll_store.NewOption(label=label) for label in spec.labels]
    poll = await poll_store.create_poll(
        ctx.session,
        group_id=ctx.group.id,
        kind=kind,
        title=spec.title,
        options=options,
        deadline=spec.deadline,
        allow_maybe=spec.allow_maybe,
        anonymous=spec.anonymous,
        created_by_user_id=ctx.user.id,
        now=ctx.now,
    )
    ctx.enqueued += await post_everywhere(
        ctx.session,
        ctx.services,
        ctx.group,
        poll,
        dedupe_key=poll_store.posted_key(poll.id),
        buttons_for="vote",
        headline=None,
        skip_chat=_here(ctx),
    )
    overview = _overview(ctx, poll, await poll_tally(ctx.session, poll))
    # The poll's message here is kept like its copies in the other chats (same key, with
    # the chat), so an answer from elsewhere edits it before anyone pressed a button on it.
    here = outbox.chat_key(poll_store.posted_key(poll.id), *_here(ctx))
    return dataclasses.replace(overview, record_as=KeptReply(here, ctx.group.id))


async def create_date_poll(ctx: HandlerContext) -> Reply:
    try:
        spec = parse_date_poll(ctx.args["details"], now=ctx.now, tz=ctx.tz)
    except PollInputError as error:
        raise _input_error(ctx, error, ctx.command_name("datepoll") + " " + DATE_EXAMPLE) from None
    return await _create(ctx, spec, PollKind.DATE)


async def create_survey(ctx: HandlerContext) -> Reply:
    try:
        spec = parse_survey(ctx.args["details"], now=ctx.now, tz=ctx.tz)
    except PollInputError as error:
        raise _input_error(ctx, error, ctx.command_name("survey") + " " + SURVEY_EXAMPLE) from None
    return await _create(ctx, spec, PollKind.MULTIPLE if spec.multiple else PollKind.SINGLE)


# --- answer ------------------------------------------------------------------------------


async def poll_by_arg(ctx: HandlerContext, raw: str | None) -> Poll:
    """Poll `#n` of this group, or its newest open poll when no number is given."""
    assert ctx.group is not None
    if raw is None:
        found = await poll_store.polls_of_group(ctx.session, ctx.group.id, open_only=True, limit=1)
        if not found:
            raise UserError(ctx._("There is no open poll in this group."))
        return found[0]
    number = raw.lstrip("#")
    wanted = small_number(number)
    poll = (
        await poll_store.poll_by_number(ctx.session, ctx.group.id, wanted)
        if wanted is not None
        else None
    )
    if poll is None:
        raise UserError(
            ctx._(
                "There is no poll #{number} in this group. {command} lists them.",
                number=number,
                command=ctx.command_name("polls"),
            )
        )
    return poll


async def vote(ctx: HandlerContext) -> Reply:
    example = ctx.command_name("vote") + " 2 " + ("ja" if ctx.language == "de" else "yes")
    try:
        command = parse_vote(ctx.args["choice"])
    except PollInputError as error:
        raise _input_error(ctx, error, example) from None
    poll = await poll_by_arg(ctx, None if command.poll_number is None else str(command.poll_number))
    try:
        check_open(poll, ctx.now)
        check_options(poll, (*command.answers, *command.bare))
        if poll.kind == PollKind.DATE.value:
            await _vote_on_dates(ctx, poll, command.answers, command.bare, example)
        else:
            await _vote_on_choices(ctx, poll, command.answers, command.bare)
    except BallotRefused as refused:
        raise UserError(ctx._(REFUSALS[refused.code], **refused.params)) from None
    pressed = ctx.message.callback_data is not None
    edit = pressed and await _pressed_on_poll(ctx, poll)
    if edit and ctx.message.message_id:
        platform, chat_id = _here(ctx)
        await poll_store.remember_message(
            ctx.session, poll.id, platform, chat_id, ctx.message.message_id, ctx.now
        )
    assert ctx.group is not None
    ctx.enqueued += await sync_shown(
        ctx.session, ctx.services, ctx.group, poll, skip_chat=_here(ctx) if edit else None
    )
    reply = _overview(ctx, poll, await poll_tally(ctx.session, poll))
    if not pressed:
        return reply
    return Reply(reply.text, reply.buttons, edit=edit, toast=ctx._("Saved"))


async def _pressed_on_poll(ctx: HandlerContext, poll: Poll) -> bool:
    """Is the message a button was pressed on this poll's own? Only then may the answer
    replace it: button data can be forged, and `/vote #1 1 yes` pressed on a meeting's
    message must not overwrite the meeting. Where the poll's message in this chat is known,
    it may be that one; any other message must show the poll in the text the platform
    reports for it (Telegram does). Without text (Matrix sends only the pressed message's own
    buttons) a message other than the known one is not the poll's."""
    known = (await poll_store.shown_in(ctx.session, poll.id)).get(_here(ctx))
    if ctx.message.message_id is not None and ctx.message.message_id == known:
        return True
    if ctx.message.text:
        return shows_poll(ctx.message.text, poll)
    return known is None


async def _vote_on_dates(
    ctx: HandlerContext, poll: Poll, answers: dict[int, str], bare: tuple[int, ...], example: str
) -> None:
    if bare or "toggle" in answers.values():
        syntax = POLL_ERRORS["vote_syntax"]
        raise UserError(ctx._(syntax, example=example))
    await answer_dates(ctx.session, poll, ctx.user.id, answers, ctx.now)


async def _vote_on_choices(
    ctx: HandlerContext, poll: Poll, answers: dict[int, str], bare: tuple[int, ...]
) -> None:
    """Typed numbers are the person's choices; `nein` takes one back; a button toggles a
    choice of a multiple-choice survey."""
    chosen = [*bare, *(p for p, a in answers.items() if a in ("yes", "maybe"))]
    dropped = [p for p, a in answers.items() if a == "no"]
    toggled = [p for p, a in answers.items() if a == "toggle"]
    if toggled:
        mine = {
            r.position
            for r in await poll_store.votes(ctx.session, poll)
            if r.user_id == ctx.user.id
        }
        dropped += [p for p in toggled if p in mine]
        chosen += [p for p in toggled if p not in mine]
    await choose(ctx.session, poll, ctx.user.id, chosen=chosen, dropped=dropped, now=ctx.now)


# --- show ---------------------------------------------------------------------------------


async def list_polls(ctx: HandlerContext) -> Reply:
    """`/abfragen` lists the open polls; `/abfragen 3` shows poll #3 again (with buttons)."""
    assert ctx.group is not None
    if ctx.args.get("number"):
        poll = await poll_by_arg(ctx, ctx.args["number"])
        result = await poll_tally(ctx.session, poll)
        if poll.status == PollStatus.OPEN.value:
            return _overview(ctx, poll, result)
        limit = ctx.platform.max_buttons
        return Reply(
            render(ctx.t, poll, result, ctx.tz, ctx.now),
            buttons=pick_buttons(ctx.t, poll, result, ctx.tz, ctx.now, limit),
        )
    found = await poll_store.polls_of_group(ctx.session, ctx.group.id, open_only=True)
    if not found:
        return Reply(
            ctx._(
                "No open polls. A chair starts one with {command}.",
                command=ctx.command_name("datepoll") + " " + DATE_EXAMPLE,
            )
        )
    lines = [ctx._("Open polls:")]
    for poll in found:
        result = await poll_tally(ctx.session, poll)
        lines.append(
            ctx._(
                "#{number} {title} – {n} answered",
                number=poll.number,
                title=poll.title,
                n=result.respondents,
            )
        )
    lines.append(
        ctx._("{command} shows one with its buttons.", command=ctx.command_name("polls") + " 1")
    )
    return Reply("\n".join(lines))


# --- close and decide ---------------------------------------------------------------------


async def close_poll(ctx: HandlerContext) -> Reply:
    assert ctx.group is not None
    poll = await poll_by_arg(ctx, ctx.args["number"])
    if poll.status != PollStatus.OPEN.value:
        raise UserError(ctx._("Poll #{number} is closed.", number=poll.number))
    close(poll, ctx.now)
    result = await poll_tally(ctx.session, poll)
    headline = closed_headline(ctx.t, poll, result, ctx.tz, ctx.now)
    ctx.enqueued += await post_everywhere(
        ctx.session,
        ctx.services,
        ctx.group,
        poll,
        dedupe_key=f"poll:{poll.id}:closed",
        buttons_for="pick",
        headline=closed_headline(
            Translator(ctx.group.language), poll, result, ZoneInfo(ctx.group.timezone), ctx.now
        ),
        skip_chat=_here(ctx),
    )
    ctx.enqueued += await sync_shown(ctx.session, ctx.services, ctx.group, poll, skip_chat=None)
    buttons = pick_buttons(ctx.t, poll, result, ctx.tz, ctx.now, ctx.platform.max_buttons)
    return Reply(headline + "\n" + render(ctx.t, poll, result, ctx.tz, ctx.now), buttons=buttons)


async def pick_date(ctx: HandlerContext) -> list[Reply]:
    """The chair fixes the date: the meeting is created, the group told, voters get a DM."""
    assert ctx.group is not None
    poll = await poll_by_arg(ctx, ctx.args["number"])
    if poll.kind != PollKind.DATE.value:
        raise UserError(ctx._("Poll #{number} is a survey, not a date poll.", number=poll.number))
    if poll.meeting_id is not None:
        meeting = await meeting_store.meeting_by_id(ctx.session, poll.meeting_id)
        raise UserError(
            ctx._(
                "The date for poll #{number} is fixed already: meeting #{meeting}.",
                number=poll.number,
                meeting=meeting.number if meeting else "?",
            )
        )
    raw = ctx.args["option"]
    position = small_number(raw)
    option = next((o for o in poll.options if o.position == position), None)
    if option is None:
        raise UserError(
            ctx._("Poll #{number} has no option {option}.", number=poll.number, option=raw)
        )
    assert option.starts_at is not None
    if option.starts_at <= ctx.now:
        raise UserError(ctx._("That time has passed already."))
    if poll.status == PollStatus.OPEN.value:
        close(poll, ctx.now)
    meeting = await bring_about(
        ctx, title=poll.title, starts_at=option.starts_at, ends_at=option.ends_at, location=None
    )
    poll.chosen_position, poll.meeting_id = option.position, meeting.id
    await _tell_about_date(ctx, poll, meeting)
    ctx.enqueued += await sync_shown(ctx.session, ctx.services, ctx.group, poll, skip_chat=None)
    result = await poll_tally(ctx.session, poll)
    announcement = Reply(
        _date_fixed_text(ctx.t, poll, meeting, ctx.tz),
        buttons=meeting_handlers.rsvp_buttons(ctx, meeting),
    )
    if ctx.message.callback_data is None:
        return [announcement]
    edit = await _pressed_on_poll(ctx, poll)
    return [Reply(render(ctx.t, poll, result, ctx.tz, ctx.now), edit=edit), announcement]


def _date_fixed_text(t: Translator, poll: Poll, meeting: Meeting, tz: ZoneInfo) -> str:
    option = next(o for o in poll.options if o.position == poll.chosen_position)
    return t.gettext(
        "📌 The date for “{title}” is fixed: {when} (meeting #{meeting}).",
        title=poll.title,
        when=option_text(poll, option, tz, t.language),
        meeting=meeting.number,
    )


async def _tell_about_date(ctx: HandlerContext, poll: Poll, meeting: Meeting) -> None:
    """The group's other chats, and every person who answered (in their language)."""
    assert ctx.group is not None
    group_t = Translator(ctx.group.language)
    group_tz = ZoneInfo(ctx.group.timezone)
    await ctx.announce(
        dedupe_key=f"poll:{poll.id}:fixed",
        purpose="poll",
        message=OutgoingMessage(_date_fixed_text(group_t, poll, meeting, group_tz)),
        elsewhere_only=True,
    )
    voters = await poll_store.voter_ids(ctx.session, poll.id)
    current = await still_members(ctx.services, ctx.session, ctx.group.id, voters, ctx.now)
    for user_id in sorted(current):
        user = await people.find_user(ctx.session, user_id)
        if user is None:
            continue
        t, tz = audience(user, ctx.group)
        text = (
            _date_fixed_text(t, poll, meeting, tz)
            + "\n"
            + t.gettext("(Group: {group})", group=ctx.group.name)
        )
        try:
            ctx.enqueued += await outbox.enqueue_to_person(
                ctx.session,
                user_id=user_id,
                dedupe_key=f"poll:{poll.id}:fixed:{user_id}",
                purpose="poll_result",
                message=OutgoingMessage(text),
                now=ctx.now,
                group_id=ctx.group.id,
            )
        except LookupError:
            continue


NUMBER = Arg("number", N_("number"))

COMMANDS = (
    Command(
        "datepoll",
        create_date_poll,
        N_("Start a date poll: title, candidate dates, optional deadline"),
        german="terminabfrage",
        args=(Arg("details", N_("title dates"), kind=ArgKind.TEXT, max_length=1500),),
        details=N_(
            'Example: /terminabfrage "Juni-Sitzung" 15.06. 9-12 Uhr; 17.06. 14-16 Uhr; '
            "22.06. 10 Uhr bis 14.06. – dates separated by ; or new lines. "
            "“bis <date>” sets the deadline, “notfalls” adds the answer “if need be”, "
            "“anonym” hides the names."
        ),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "survey",
        create_survey,
        N_("Start a survey: a question and its choices"),
        german="umfrage",
        args=(Arg("details", N_("question choices"), kind=ArgKind.TEXT, max_length=1500),),
        details=N_(
            'Example: /umfrage "Welche Themen?" Digitalisierung; Nachfolge; Fachkräfte '
            "– “mehrfach” allows several choices, “anonym” hides the names, "
            "“bis <date>” sets the deadline."
        ),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "vote",
        vote,
        N_("Answer a poll: option numbers and yes / if need be / no"),
        german="abstimmen",
        args=(Arg("choice", N_("numbers answer"), kind=ArgKind.TEXT, max_length=200),),
        details=N_(
            "Examples: /abstimmen 2 ja – /abstimmen 1 3 ja 2 nein – /abstimmen #4 2 notfalls "
            "(without #number: the newest open poll). In a survey: /abstimmen 2. "
            "Or use the buttons under the poll."
        ),
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "polls",
        list_polls,
        N_("List the open polls, or show one again"),
        german="abfragen",
        args=(Arg("number", N_("number"), required=False),),
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "closepoll",
        close_poll,
        N_("Close a poll and show the result"),
        german="abfrageende",
        args=(NUMBER,),
        details=N_("Example: /abfrageende 1 – then pick the date with the buttons."),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "pickdate",
        pick_date,
        N_("Fix the date of a date poll: creates the meeting and tells everyone"),
        german="terminwahl",
        args=(NUMBER, Arg("option", N_("option"))),
        details=N_("Example: /terminwahl 1 2 – poll 1, date 2."),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
)
