"""One-time codes that join a second chat to a group or a second identity to a person."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, PrimaryKeyConstraint, UniqueConstraint, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import Role
from storage.models import Base, Identity, LinkCode, LinkRequest, User

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes get typed by hand
CODE_LIFETIME = timedelta(hours=1)
REQUEST_LIFETIME = timedelta(days=1)  # the code's creator may not be at their phone
PENDING, CONFIRMED, REFUSED, WITHDRAWN = "pending", "confirmed", "refused", "withdrawn"


def code_hash(code: str) -> str:
    """What is stored for `code`: typed codes match with any case, dashes or spaces."""
    normalized = code.strip().upper().replace("-", "").replace(" ", "")
    return hashlib.sha256(normalized.encode()).hexdigest()


async def create_code(
    session: AsyncSession,
    *,
    purpose: str,
    now: datetime,
    group_id: int | None = None,
    user_id: int | None = None,
) -> str:
    """A fresh code like `K7QM-4XRT`; only its hash is stored."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    session.add(
        LinkCode(
            code_hash=code_hash(raw),
            purpose=purpose,
            group_id=group_id,
            user_id=user_id,
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    await session.flush()
    return f"{raw[:4]}-{raw[4:]}"


async def find_code(session: AsyncSession, code: str) -> LinkCode | None:
    """The record of a code just created (e.g. to tie it to what it links to)."""
    return await session.scalar(select(LinkCode).where(LinkCode.code_hash == code_hash(code)))


async def redeem(
    session: AsyncSession, code: str, *, purpose: str, now: datetime
) -> LinkCode | None:
    """The code's record if it is valid for `purpose`; it cannot be used again."""
    link = await session.scalar(
        select(LinkCode).where(LinkCode.code_hash == code_hash(code), LinkCode.purpose == purpose)
    )
    if link is None or link.used_at is not None or link.expires_at < now:
        return None
    link.used_at = now
    await session.flush()
    return link


@dataclass(frozen=True)
class Conflict:
    """What to do when both accounts hold a row about the same thing (`key`): one person has
    one RSVP per meeting, one ballot per poll, one attendance record per meeting.

    By default the kept account's rows stay and the absorbed account's are deleted;
    `newer_by` lets the more recent answer win instead (the person's latest word);
    `higher_role` keeps the kept row but with the higher of both roles.
    """

    key: tuple[str, ...]
    newer_by: str | None = None
    higher_role: bool = False


# Every reference to a person that can collide is decided here; `merge_users` refuses to run
# when the schema has a unique reference to users that is not listed (tests/linking guards it).
CONFLICTS: dict[tuple[str, str], Conflict] = {
    # both members of a group: one membership, the higher role, the kept row's history
    ("memberships", "user_id"): Conflict(("group_id",), higher_role=True),
    # both answered a meeting: the later answer is what the person said last
    ("rsvps", "user_id"): Conflict(("meeting_id",), newer_by="answered_at"),
    # both voted in a poll: the whole later ballot counts (never a mix: single choice polls)
    ("poll_votes", "user_id"): Conflict(("poll_id",), newer_by="answered_at"),
    # both recorded present: once is enough; the kept record stays
    ("attendance", "user_id"): Conflict(("meeting_id",)),
    # both assigned to a task: one assignee
    ("action_item_assignees", "user_id"): Conflict(("action_item_id",)),
    # a reminder both accounts got: the kept log row stays, so it is never sent again
    ("reminder_log", "recipient_id"): Conflict(("kind", "subject", "due_at")),
    # one person has one set of reminder settings: the kept account's
    ("user_reminder_settings", "user_id"): Conflict(()),
    # both left the same chat of a group: the later departure is the one that counts
    ("chat_departures", "user_id"): Conflict(("group_chat_id",), newer_by="left_at"),
    # one e-mail address per person: the kept account's
    ("email_addresses", "user_id"): Conflict(()),
    # a pending e-mail confirmation: the kept account's
    ("email_codes", "user_id"): Conflict(()),
    # one channel per kind of message: the kept account's choice
    ("channel_preferences", "user_id"): Conflict(("kind",)),
    # one guest record (name, address) per person: the kept account's
    ("guests", "user_id"): Conflict(()),
    # personal_links: not unique per person (one row per link sent), so a merge moves them
    # all and every link either account was sent keeps working
}


def person_references() -> list[Column[Any]]:
    """Every column in the schema that points at a person (a foreign key to users.id)."""
    return [
        fk.parent
        for table in Base.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == User.__tablename__ and fk.column.name == "id"
    ]


def is_unique_per_person(column: Column[Any]) -> bool:
    """Whether a row of `column`'s table may exist once per person (a unique constraint, a
    unique index or the primary key includes the column): moving it can collide."""
    table = column.table
    groups: list[set[str]] = [
        {c.name for c in constraint.columns}
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint | PrimaryKeyConstraint)
    ]
    groups += [{c.name for c in index.columns} for index in table.indexes if index.unique]
    return bool(column.unique) or any(column.name in group for group in groups)


class UnhandledReference(RuntimeError):
    """A table refers to people uniquely and no one decided how two accounts' rows merge."""


async def _move(session: AsyncSession, column: Column[Any], keep_id: int, absorb_id: int) -> None:
    table = column.table
    rule = CONFLICTS.get((table.name, column.name))
    if rule is None and is_unique_per_person(column):
        raise UnhandledReference(f"{table.name}.{column.name}: add it to linking.CONFLICTS")
    if rule is not None:
        await _resolve(session, column, rule, keep_id, absorb_id)
    await session.execute(update(table).where(column == absorb_id).values({column.name: keep_id}))


def _key_of(row: Any, rule: Conflict) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in rule.key)


async def _resolve(
    session: AsyncSession, column: Column[Any], rule: Conflict, keep_id: int, absorb_id: int
) -> None:
    """Delete the losing account's rows for every thing both accounts have a row about."""
    table = column.table
    rows: dict[int, dict[tuple[Any, ...], list[Any]]] = {keep_id: {}, absorb_id: {}}
    for row in await session.execute(select(table).where(column.in_([keep_id, absorb_id]))):
        rows[getattr(row, column.name)].setdefault(_key_of(row, rule), []).append(row)
    for key in rows[keep_id].keys() & rows[absorb_id].keys():
        kept, absorbed = rows[keep_id][key], rows[absorb_id][key]
        loser = absorb_id
        if rule.newer_by is not None:
            latest = max(getattr(r, rule.newer_by) for r in absorbed)
            if latest > max(getattr(r, rule.newer_by) for r in kept):
                loser = keep_id
        match = [table.c[name] == value for name, value in zip(rule.key, key, strict=True)]
        if rule.higher_role:
            best = max((Role(r.role) for r in kept + absorbed), key=lambda role: role.rank)
            await session.execute(
                update(table).where(column == keep_id, *match).values(role=best.value)
            )
        await session.execute(delete(table).where(column == loser, *match))


async def merge_users(session: AsyncSession, keep: User, absorb: User) -> None:
    """Make two accounts one person: every row that refers to `absorb` (found by walking the
    schema's foreign keys to users, so a new table cannot be forgotten) moves to `keep`;
    where both have a row about the same thing, CONFLICTS decides which stays."""
    if keep.id == absorb.id:
        return
    keep_id, absorb_id = keep.id, absorb.id
    keep.language = keep.language or absorb.language
    keep.timezone = keep.timezone or absorb.timezone
    await session.flush()
    for column in person_references():
        await _move(session, column, keep_id, absorb_id)
    await session.execute(delete(User).where(User.id == absorb_id))
    await session.flush()
    session.expire_all()  # loaded objects still point at the absorbed account


async def request_link(
    session: AsyncSession, *, target_user_id: int, requester_user_id: int, now: datetime
) -> LinkRequest:
    """Record that `requester` redeemed `target`'s code; nothing merges until `target`
    confirms (`decide`)."""
    request = LinkRequest(
        target_user_id=target_user_id,
        requester_user_id=requester_user_id,
        status=PENDING,
        created_at=now,
        expires_at=now + REQUEST_LIFETIME,
    )
    session.add(request)
    await session.flush()
    return request


async def open_request(session: AsyncSession, request_id: int, now: datetime) -> LinkRequest | None:
    """A request still waiting for an answer, or None (unknown, answered or expired)."""
    request = await session.get(LinkRequest, request_id)
    if request is None or request.status != PENDING or request.expires_at < now:
        return None
    return request


async def decide(
    session: AsyncSession, request: LinkRequest, *, confirmed: bool, now: datetime
) -> None:
    """Answer a request; a confirmation merges the requester into the target.

    Other open requests of either person are withdrawn first: after the merge they would
    point at the merged person, and a confirmation shown for one account must never
    merge a different, larger one."""
    request.status = CONFIRMED if confirmed else REFUSED
    request.decided_at = now
    await session.flush()
    if confirmed:
        both = [request.target_user_id, request.requester_user_id]
        await session.execute(
            update(LinkRequest)
            .where(
                LinkRequest.status == PENDING,
                LinkRequest.id != request.id,
                LinkRequest.target_user_id.in_(both) | LinkRequest.requester_user_id.in_(both),
            )
            .values(status=WITHDRAWN, decided_at=now)
        )
        keep = await session.get(User, request.target_user_id)
        absorb = await session.get(User, request.requester_user_id)
        if keep is not None and absorb is not None:
            await merge_users(session, keep=keep, absorb=absorb)


async def split_identity(session: AsyncSession, identity: Identity, now: datetime) -> User:
    """Undo a link: `identity` becomes a person of its own again.

    Only the account itself moves back (with its private chat, language and time zone);
    everything merged (memberships and roles, answers, votes, attendance, tasks, calendar
    feeds, an advisor entry, the reminder log) stays with the remaining person, because
    after a merge no record says which account it came from.
    """
    person = await session.get(User, identity.user_id)
    alone = User(
        language=person.language if person else None,
        timezone=person.timezone if person else None,
        created_at=now,
    )
    session.add(alone)
    await session.flush()
    identity.user_id = alone.id
    await session.flush()
    session.expire_all()
    return alone
