"""Personal web links and the guests who get them (models.personal_links).

A link's token is 32 bytes from `secrets` (256 bits); only its SHA-256 is stored, so a
leaked database opens nobody's ballot and looking a token up is one indexed equality query.
One row per link sent: a reminder or a changed meeting's mail carries a new link, and the
links in the person's earlier mails keep working (the bot cannot send an old link again, it
never kept the token). All of a person's links to a poll or meeting end together when the
chair revokes them.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, select, update

from storage.db import Session
from storage.email_addresses import address_key
from storage.models import Guest, PersonalLink, User

TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 100  # anything longer is not a token: no hashing of arbitrary input


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def add_guest(
    session: Session, *, name: str, address: str, added_by_user_id: int | None, now: datetime
) -> Guest:
    """The guest with this address (its name updated), or a new person with no chat
    account who is known by `name` and `address`."""
    key = address_key(address)
    guest = await session.scalar(select(Guest).where(Guest.address_key == key))
    if guest is not None:
        guest.name, guest.address = name, address.strip()
        await session.flush()
        return guest
    user = User(created_at=now)
    session.add(user)
    await session.flush()
    guest = Guest(
        user_id=user.id,
        name=name,
        address=address.strip(),
        address_key=key,
        added_by_user_id=added_by_user_id,
        created_at=now,
    )
    session.add(guest)
    await session.flush()
    return guest


async def guest_of(session: Session, user_id: int) -> Guest | None:
    return await session.scalar(select(Guest).where(Guest.user_id == user_id))


async def guest_names(session: Session, user_ids: Iterable[int]) -> dict[int, str]:
    """User id → the name a chair gave, for the guests among `user_ids`."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = await session.execute(select(Guest.user_id, Guest.name).where(Guest.user_id.in_(ids)))
    return {user_id: name for user_id, name in rows.all()}


def _target(poll_id: int | None, meeting_id: int | None) -> ColumnElement[bool]:
    assert (poll_id is None) != (meeting_id is None)
    if poll_id is not None:
        return PersonalLink.poll_id == poll_id
    return PersonalLink.meeting_id == meeting_id


async def issue(
    session: Session,
    *,
    user_id: int,
    group_id: int,
    now: datetime,
    poll_id: int | None = None,
    meeting_id: int | None = None,
    outside: bool = False,
) -> str:
    """A new token for this person in this poll or meeting (exactly one of them), next to
    the ones they hold already: the links in earlier mails keep working. Returned once,
    never stored. Once given to a guest (`outside`), their later links are too."""
    target = _target(poll_id, meeting_id)
    if not outside:
        outside = bool(
            await session.scalar(
                select(PersonalLink.id)
                .where(PersonalLink.user_id == user_id, target, PersonalLink.outside.is_(True))
                .limit(1)
            )
        )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        PersonalLink(
            token_hash=token_hash(token),
            user_id=user_id,
            group_id=group_id,
            poll_id=poll_id,
            meeting_id=meeting_id,
            outside=outside,
            created_at=now,
        )
    )
    await session.flush()
    return token


async def link_for_token(session: Session, token: str) -> PersonalLink | None:
    """The live link this token opens, or None: unknown and revoked look the same."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return await session.scalar(
        select(PersonalLink).where(
            PersonalLink.token_hash == token_hash(token), PersonalLink.revoked_at.is_(None)
        )
    )


async def live_links(
    session: Session, *, poll_id: int | None = None, meeting_id: int | None = None
) -> list[PersonalLink]:
    """Who holds a working link to a poll or a meeting: each person's newest live link,
    in the order they got their first one."""
    rows = await session.scalars(
        select(PersonalLink)
        .where(_target(poll_id, meeting_id), PersonalLink.revoked_at.is_(None))
        .order_by(PersonalLink.id)
    )
    newest: dict[int, PersonalLink] = {}
    for link in rows:
        newest[link.user_id] = link  # dicts keep the first insertion's place
    return list(newest.values())


async def revoke(
    session: Session,
    *,
    user_id: int,
    now: datetime,
    poll_id: int | None = None,
    meeting_id: int | None = None,
) -> int:
    """End every link this person holds to the poll or meeting (each mail's); returns how
    many were still live."""
    result = await session.execute(
        update(PersonalLink)
        .where(
            PersonalLink.user_id == user_id,
            _target(poll_id, meeting_id),
            PersonalLink.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def guests_of_group(session: Session, group_id: int) -> list[Guest]:
    """The guests who have (or had) a personal link in this group's polls or meetings."""
    return list(
        await session.scalars(
            select(Guest)
            .where(
                Guest.user_id.in_(
                    select(PersonalLink.user_id).where(PersonalLink.group_id == group_id)
                )
            )
            .order_by(Guest.id)
        )
    )
