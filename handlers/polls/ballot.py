"""The rules of answering a poll, in one place: the chat's `/abstimmen` and buttons and the
personal web page both store answers through these functions, so a deadline, a missing
"if need be" or a single-choice survey is enforced the same way everywhere."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from bot.core.enums import PollKind, PollStatus
from bot.core.i18n import N_
from storage import polls as poll_store
from storage.db import Session
from storage.models import Poll

REFUSALS = {
    "closed": N_("Poll #{number} is closed."),
    "deadline": N_("The deadline of poll #{number} has passed."),
    "unknown_option": N_("Poll #{number} has no option {option}."),
    "no_maybe": N_("This poll has no “if need be”: please answer yes or no."),
    "single": N_("Only one answer is possible in this survey."),
}


class BallotRefused(ValueError):
    """An answer the poll's rules do not take; `code` keys REFUSALS, `params` fill it."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code, self.params = code, params


def check_open(poll: Poll, now: datetime) -> None:
    """Answers only while the poll is open and its deadline ahead (the sweep that closes it
    may run a little later)."""
    if poll.status != PollStatus.OPEN.value:
        raise BallotRefused("closed", number=poll.number)
    if poll.deadline is not None and now >= poll.deadline:
        raise BallotRefused("deadline", number=poll.number)


def check_options(poll: Poll, positions: Collection[int]) -> None:
    known = {o.position for o in poll.options}
    unknown = [p for p in positions if p not in known]
    if unknown:
        raise BallotRefused("unknown_option", number=poll.number, option=unknown[0])


async def answer_dates(
    session: Session, poll: Poll, user_id: int, answers: Mapping[int, str], now: datetime
) -> None:
    """Yes / if need be / no to slots of a date poll (other slots keep their answer)."""
    if "maybe" in answers.values() and not poll.allow_maybe:
        raise BallotRefused("no_maybe", number=poll.number)
    await poll_store.set_answers(session, poll, user_id, dict(answers), now)


async def choose(
    session: Session,
    poll: Poll,
    user_id: int,
    *,
    chosen: Collection[int],
    dropped: Collection[int],
    now: datetime,
) -> None:
    """Choices of a survey: `chosen` added, `dropped` taken back; a single-choice survey
    takes one choice, which replaces the person's earlier one."""
    single = poll.kind == PollKind.SINGLE.value
    if single and len(chosen) > 1:
        raise BallotRefused("single", number=poll.number)
    if dropped:
        await poll_store.remove_answers(session, poll, user_id, list(dropped))
    if chosen:
        await poll_store.set_answers(
            session, poll, user_id, dict.fromkeys(chosen, "yes"), now, replace_all=single
        )


async def submit_ballot(
    session: Session, poll: Poll, user_id: int, ballot: Mapping[int, str], now: datetime
) -> None:
    """A whole ballot at once (the web page's form): `ballot` maps every answered option to
    its answer ("yes" for a survey's choices); options it leaves out are unanswered."""
    check_open(poll, now)
    check_options(poll, ballot.keys())
    left_out = [o.position for o in poll.options if o.position not in ballot]
    if poll.kind == PollKind.DATE.value:
        if any(answer not in ("yes", "maybe", "no") for answer in ballot.values()):
            raise BallotRefused("no_maybe", number=poll.number)
        await answer_dates(session, poll, user_id, ballot, now)
        if left_out:
            await poll_store.remove_answers(session, poll, user_id, left_out)
        return
    await choose(session, poll, user_id, chosen=list(ballot), dropped=left_out, now=now)
