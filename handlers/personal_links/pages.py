"""What the personal link pages show and do, as plain data for the web layer: a view over the
same tally, rules and storage the chat uses (handlers/polls, answer_meeting), never a copy.

Every function opens its own transaction, so the web layer needs no database; each answer
edits the poll's message in every chat (`sync_shown`) like a button press does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.core.enums import MeetingStatus, PollKind
from bot.core.i18n import Translator
from handlers.calendar.invitations import meeting_when
from handlers.context import Services
from handlers.meetings.actions import answer_meeting, held_already
from handlers.meetings.commands import RSVP_LABELS
from handlers.personal_links.access import RSVP_ANSWERS, Opened, name_of, open_link
from handlers.personal_links.mails import ANSWER_WORDS
from handlers.polls.actions import poll_tally, sync_shown
from handlers.polls.ballot import REFUSALS, BallotRefused, check_open, submit_ballot
from handlers.polls.view import TITLES, best_position, moment_text, option_text
from storage import meetings as meeting_store
from storage import polls as poll_store
from storage.db import Session


@dataclass(frozen=True)
class OptionRow:
    position: int
    text: str
    mine: str | None  # this person's answer: yes / maybe / no, or None
    counts: Mapping[str, int]
    names: Mapping[str, tuple[str, ...]]  # empty in an anonymous poll
    best: bool
    chosen: bool


@dataclass(frozen=True)
class PollPage:
    scope: str
    heading: str
    kind: str  # date, single, multiple
    facts: tuple[str, ...]
    person: str
    group: str
    options: tuple[OptionRow, ...]
    answers: tuple[str, ...]  # the answers a date poll takes, in order
    respondents: int
    refusal: str | None  # why answers are not taken now; None while open


@dataclass(frozen=True)
class RsvpPage:
    scope: str
    title: str
    group: str
    when: str
    location: str | None
    person: str
    mine: str | None
    counts: Mapping[str, int]
    refusal: str | None


class NotFound(LookupError):
    """No live link for this token: the page answers with a bare 404."""


class Refused(ValueError):
    """The answer is not taken (poll closed, deadline passed, meeting over); `message` is in
    the visitor's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _poll_refusal(t: Translator, opened: Opened, services: Services) -> str | None:
    assert opened.poll is not None
    try:
        check_open(opened.poll, services.clock.now())
    except BallotRefused as refused:
        return t.gettext(REFUSALS[refused.code], **refused.params)
    return None


async def _opened(session: Session, token: str) -> Opened:
    opened = await open_link(session, token)
    if opened is None:
        raise NotFound()
    return opened


async def poll_page(services: Services, token: str, language: str) -> PollPage:
    """The poll as its page shows it to the link's person, in `language`."""
    t = Translator(language)
    async with services.sessions() as session:
        opened = await _opened(session, token)
        poll = opened.poll
        if poll is None:
            raise NotFound()
        tz = ZoneInfo(opened.user.timezone or opened.group.timezone)
        now = services.clock.now()
        result = await poll_tally(session, poll)
        mine = {
            row.position: row.answer
            for row in await poll_store.votes(session, poll)
            if row.user_id == opened.user.id
        }
        best = best_position(poll, result, now)
        facts = []
        if poll.kind == PollKind.MULTIPLE.value:
            facts.append(t.gettext("several answers possible"))
        if poll.anonymous:
            facts.append(t.gettext("anonymous"))
        if poll.deadline is not None:
            facts.append(
                t.gettext("answers until {when}", when=moment_text(poll.deadline, tz, language))
            )
        rows = tuple(
            OptionRow(
                position=option.position,
                text=option_text(poll, option, tz, language),
                mine=mine.get(option.position),
                counts={a: result.options[option.position].count(a) for a in RSVP_ANSWERS},
                names=(
                    {}
                    if poll.anonymous
                    else {a: tuple(result.options[option.position].names[a]) for a in RSVP_ANSWERS}
                ),
                best=option.position == best,
                chosen=option.position == poll.chosen_position,
            )
            for option in poll.options
        )
        return PollPage(
            scope=opened.scope,
            heading=t.gettext(TITLES[poll.kind], number=poll.number, title=poll.title),
            kind=poll.kind,
            facts=tuple(facts),
            person=await name_of(session, opened.user.id),
            group=opened.group.name,
            options=rows,
            answers=("yes", "maybe", "no") if poll.allow_maybe else ("yes", "no"),
            respondents=result.respondents,
            refusal=_poll_refusal(t, opened, services),
        )


def ballot_from_form(kind: str, fields: Mapping[str, list[str]]) -> dict[int, str]:
    """The form's fields as a ballot: `option-<n>` = answer for a date poll, `choice` = the
    chosen options' numbers for a survey. Unreadable fields are left out (unanswered)."""
    ballot: dict[int, str] = {}
    if kind == PollKind.DATE.value:
        for name, values in fields.items():
            number = name.removeprefix("option-")
            if number != name and number.isdigit() and values and values[-1] in RSVP_ANSWERS:
                ballot[int(number)] = values[-1]
        return ballot
    for value in fields.get("choice", []):
        if value.isdigit():
            ballot[int(value)] = "yes"
    return ballot


async def answer_poll(
    services: Services, token: str, fields: Mapping[str, list[str]], language: str
) -> None:
    """Store the posted ballot with the chat's rules, then edit the poll in every chat."""
    t = Translator(language)
    async with services.sessions.begin() as session:
        opened = await _opened(session, token)
        poll = opened.poll
        if poll is None:
            raise NotFound()
        try:
            await submit_ballot(
                session,
                poll,
                opened.user.id,
                ballot_from_form(poll.kind, fields),
                services.clock.now(),
            )
        except BallotRefused as refused:
            raise Refused(t.gettext(REFUSALS[refused.code], **refused.params)) from None
        queued = await sync_shown(session, services, opened.group, poll, skip_chat=None)
    if queued:
        services.wake_outbox()


def _rsvp_refusal(t: Translator, opened: Opened, services: Services) -> str | None:
    assert opened.meeting is not None
    if opened.meeting.status == MeetingStatus.CANCELLED.value:
        return t.gettext("Meeting #{number} was cancelled.", number=opened.meeting.number)
    if held_already(opened.meeting, services.clock.now()):
        return t.gettext("This meeting has begun already; answers are closed.")
    return None


async def rsvp_page(services: Services, token: str, language: str) -> RsvpPage:
    t = Translator(language)
    async with services.sessions() as session:
        opened = await _opened(session, token)
        meeting = opened.meeting
        if meeting is None:
            raise NotFound()
        tz = ZoneInfo(opened.user.timezone or opened.group.timezone)
        answers = await meeting_store.rsvps_of(session, meeting.id)
        counts = {a: sum(1 for answer in answers.values() if answer == a) for a in RSVP_ANSWERS}
        return RsvpPage(
            scope=opened.scope,
            title=meeting.title,
            group=opened.group.name,
            when=meeting_when(meeting, tz, language),
            location=meeting.location,
            person=await name_of(session, opened.user.id),
            mine=answers.get(opened.user.id),
            counts=counts,
            refusal=_rsvp_refusal(t, opened, services),
        )


def rsvp_label(t: Translator, answer: str) -> str:
    """An answer as the chat's buttons say it: "I'll come", "Maybe", "I can't come"."""
    return t.gettext(RSVP_LABELS[answer])


def answer_word(t: Translator, answer: str) -> str:
    """An answer as the mail's links say it: Zusage, Vielleicht, Absage."""
    return t.gettext(ANSWER_WORDS[answer])


async def answer_rsvp(services: Services, token: str, answer: str, language: str) -> None:
    """The same answer as /zusage gives (answer_meeting), for the link's person."""
    t = Translator(language)
    if answer not in RSVP_ANSWERS:
        raise NotFound()
    async with services.sessions.begin() as session:
        opened = await _opened(session, token)
        if opened.meeting is None:
            raise NotFound()
        refusal = _rsvp_refusal(t, opened, services)
        if refusal is not None:
            raise Refused(refusal)
        await answer_meeting(session, opened.meeting, opened.user.id, answer, services.clock.now())
