"""Polls of a working group: date polls (Terminabfrage) and surveys.

Every lookup is scoped to one group, so a poll number guessed in another group finds
nothing. Tallying lives in handlers/polls/tally.py, rendering in handlers/polls/view.py (both pure);
this module only reads and writes rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.core.enums import OutboxStatus, PollKind, PollStatus
from storage.models import (
    Guest,
    Identity,
    Membership,
    OutboxMessage,
    Poll,
    PollMessage,
    PollOption,
    PollVote,
)


@dataclass(frozen=True, slots=True)
class NewOption:
    label: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class VoteRow:
    """One answer with the name to show (the voter's first chat account)."""

    user_id: int
    name: str
    position: int
    answer: str


async def create_poll(
    session: AsyncSession,
    *,
    group_id: int,
    kind: PollKind,
    title: str,
    options: Sequence[NewOption],
    deadline: datetime | None,
    allow_maybe: bool,
    anonymous: bool,
    created_by_user_id: int,
    now: datetime,
) -> Poll:
    last = await session.scalar(select(func.max(Poll.number)).where(Poll.group_id == group_id))
    poll = Poll(
        group_id=group_id,
        number=(last or 0) + 1,
        kind=kind.value,
        title=title,
        deadline=deadline,
        allow_maybe=allow_maybe,
        anonymous=anonymous,
        status=PollStatus.OPEN.value,
        created_at=now,
        created_by_user_id=created_by_user_id,
        options=[
            PollOption(
                position=index,
                label=option.label,
                starts_at=option.starts_at,
                ends_at=option.ends_at,
            )
            for index, option in enumerate(options, start=1)
        ],
    )
    session.add(poll)
    await session.flush()
    return poll


def _with_options(query: Select[tuple[Poll]]) -> Select[tuple[Poll]]:
    return query.options(selectinload(Poll.options))


async def poll_by_number(session: AsyncSession, group_id: int, number: int) -> Poll | None:
    return await session.scalar(
        _with_options(select(Poll).where(Poll.group_id == group_id, Poll.number == number))
    )


async def poll_by_id(session: AsyncSession, poll_id: int) -> Poll | None:
    """A poll found through something that already names it (a personal link)."""
    return await session.scalar(_with_options(select(Poll).where(Poll.id == poll_id)))


async def polls_of_group(
    session: AsyncSession, group_id: int, *, open_only: bool, limit: int = 20
) -> list[Poll]:
    """Newest first."""
    query = select(Poll).where(Poll.group_id == group_id)
    if open_only:
        query = query.where(Poll.status == PollStatus.OPEN.value)
    return list(
        await session.scalars(_with_options(query.order_by(Poll.number.desc()).limit(limit)))
    )


async def set_answers(
    session: AsyncSession,
    poll: Poll,
    user_id: int,
    answers: dict[int, str],
    now: datetime,
    *,
    replace_all: bool = False,
) -> None:
    """Store `answers` (option position -> answer); `replace_all` first forgets the
    person's other answers to this poll (single choice)."""
    by_position = {option.position: option for option in poll.options}
    if replace_all:
        await session.execute(
            delete(PollVote).where(PollVote.poll_id == poll.id, PollVote.user_id == user_id)
        )
    existing = {
        vote.option_id: vote
        for vote in await session.scalars(
            select(PollVote).where(PollVote.poll_id == poll.id, PollVote.user_id == user_id)
        )
    }
    for position, answer in answers.items():
        option = by_position[position]
        vote = existing.get(option.id)
        if vote is None:
            session.add(
                PollVote(
                    poll_id=poll.id,
                    option_id=option.id,
                    user_id=user_id,
                    answer=answer,
                    answered_at=now,
                )
            )
        else:
            vote.answer, vote.answered_at = answer, now
    await session.flush()


async def remove_answers(
    session: AsyncSession, poll: Poll, user_id: int, positions: Sequence[int]
) -> None:
    ids = [option.id for option in poll.options if option.position in positions]
    await session.execute(
        delete(PollVote).where(PollVote.option_id.in_(ids), PollVote.user_id == user_id)
    )
    await session.flush()


async def votes(session: AsyncSession, poll: Poll) -> list[VoteRow]:
    """All answers, in the order people first answered (stable display)."""
    positions = {option.id: option.position for option in poll.options}
    rows = list(
        await session.scalars(
            select(PollVote).where(PollVote.poll_id == poll.id).order_by(PollVote.id)
        )
    )
    names = await _names(session, {row.user_id for row in rows})
    return [
        VoteRow(row.user_id, names.get(row.user_id, "?"), positions[row.option_id], row.answer)
        for row in rows
    ]


async def _names(session: AsyncSession, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    names: dict[int, str] = {}
    identities = await session.scalars(
        select(Identity).where(Identity.user_id.in_(user_ids)).order_by(Identity.id)
    )
    for identity in identities:
        names.setdefault(identity.user_id, identity.display_name)
    guests = await session.execute(
        select(Guest.user_id, Guest.name).where(Guest.user_id.in_(user_ids - names.keys()))
    )
    for user_id, name in guests.all():  # people outside the chats, by the name a chair gave
        names[user_id] = name
    return names


async def voter_ids(session: AsyncSession, poll_id: int) -> set[int]:
    return set(
        await session.scalars(
            select(PollVote.user_id).where(PollVote.poll_id == poll_id).distinct()
        )
    )


async def member_ids(session: AsyncSession, group_id: int) -> list[int]:
    return list(
        await session.scalars(
            select(Membership.user_id)
            .where(Membership.group_id == group_id, Membership.left_at.is_(None))
            .order_by(Membership.id)
        )
    )


async def past_deadline(session: AsyncSession, now: datetime) -> list[Poll]:
    return list(
        await session.scalars(
            _with_options(
                select(Poll)
                .where(Poll.status == PollStatus.OPEN.value, Poll.deadline <= now)
                .order_by(Poll.id)
            )
        )
    )


async def due_for_reminder(
    session: AsyncSession, now: datetime, remind_from: datetime
) -> list[Poll]:
    """Open polls whose deadline lies within (now, remind_from] and that were not yet
    reminded of; `remind_from` is now + the reminder lead time."""
    return list(
        await session.scalars(
            _with_options(
                select(Poll)
                .where(
                    Poll.status == PollStatus.OPEN.value,
                    Poll.reminded_at.is_(None),
                    Poll.deadline > now,
                    Poll.deadline <= remind_from,
                )
                .order_by(Poll.id)
            )
        )
    )


def posted_key(poll_id: int) -> str:
    """Dedupe-key prefix of the outbox posts that show a new poll in the group's chats."""
    return f"poll:{poll_id}:created"


async def remember_message(
    session: AsyncSession, poll_id: int, platform: str, chat_id: str, message_id: str, now: datetime
) -> None:
    """The poll is shown in this message now (a button on it was pressed)."""
    existing = await session.scalar(
        select(PollMessage).where(
            PollMessage.poll_id == poll_id,
            PollMessage.platform == platform,
            PollMessage.chat_id == chat_id,
        )
    )
    if existing is None:
        session.add(
            PollMessage(
                poll_id=poll_id,
                platform=platform,
                chat_id=chat_id,
                message_id=message_id,
                updated_at=now,
            )
        )
    elif existing.message_id != message_id:
        existing.message_id, existing.updated_at = message_id, now
    await session.flush()


async def shown_in(session: AsyncSession, poll_id: int) -> dict[tuple[str, str], str]:
    """(platform, chat id) -> message id of every known message showing the poll: the posts
    the outbox delivered and the reply that started it (kept as a sent row under the same
    key prefix), overridden by messages people answered on."""
    found: dict[tuple[str, str], str] = {}
    # The group's rows first (an index), then the key: a prefix match alone reads the
    # whole outbox on SQLite (LIKE … ESCAPE never uses an index) and on PostgreSQL.
    group_id = select(Poll.group_id).where(Poll.id == poll_id).scalar_subquery()
    posts = await session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.group_id == group_id,
            OutboxMessage.dedupe_key.startswith(posted_key(poll_id) + ":", autoescape=True),
            OutboxMessage.status == OutboxStatus.SENT.value,
            OutboxMessage.platform_message_id.is_not(None),
        )
    )
    for post in posts:
        if post.chat_id is not None and post.platform_message_id is not None:
            found[(post.platform, post.chat_id)] = post.platform_message_id
    for shown in await session.scalars(select(PollMessage).where(PollMessage.poll_id == poll_id)):
        found[(shown.platform, shown.chat_id)] = shown.message_id
    return found


async def drop_pending(session: AsyncSession, dedupe_prefix: str) -> None:
    """Forget queued edits not yet picked up by the worker: only the newest view matters,
    so a busy poll does not queue one edit per answer behind a chat's rate limit."""
    await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.dedupe_key.startswith(dedupe_prefix, autoescape=True),
            OutboxMessage.status == OutboxStatus.PENDING.value,
        )
    )


async def has_voted(session: AsyncSession, user_id: int) -> bool:
    """Whether a person answered any poll (their erasure then needs a stand-in)."""
    found = await session.scalar(select(PollVote.id).where(PollVote.user_id == user_id))
    return found is not None


async def hand_votes_to(session: AsyncSession, user_id: int, stand_in_id: int) -> int:
    """Before a person is erased: their answers stay counted, but belong to `stand_in_id`, a
    person with no name or account, so they are anonymous. Returns how many answers."""
    result = await session.execute(
        update(PollVote).where(PollVote.user_id == user_id).values(user_id=stand_in_id)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
