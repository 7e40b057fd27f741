"""Personal web links and the guests who get them (models.personal_links).

A link's token is 32 bytes from `secrets` (256 bits); only its SHA-256 is stored, so a
leaked database opens nobody's ballot and looking a token up is one indexed equality query.
One row per person and poll or meeting: issuing again replaces the token, so the newest
link sent is the one that works.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

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
    """A fresh token for this person in this poll or meeting (exactly one of them); a link
    issued before for the same stops working. Returned once, never stored."""
    assert (poll_id is None) != (meeting_id is None)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    target = (
        PersonalLink.poll_id == poll_id
        if poll_id is not None
        else PersonalLink.meeting_id == meeting_id
    )
    link = await session.scalar(select(PersonalLink).where(PersonalLink.user_id == user_id, target))
    if link is None:
        link = PersonalLink(
            user_id=user_id, group_id=group_id, poll_id=poll_id, meeting_id=meeting_id
        )
        session.add(link)
    link.token_hash, link.created_at, link.revoked_at = token_hash(token), now, None
    link.outside = link.outside or outside
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
    """The links of a poll or a meeting that still work, oldest first."""
    target = (
        PersonalLink.poll_id == poll_id
        if poll_id is not None
        else PersonalLink.meeting_id == meeting_id
    )
    return list(
        await session.scalars(
            select(PersonalLink)
            .where(target, PersonalLink.revoked_at.is_(None))
            .order_by(PersonalLink.id)
        )
    )


def revoke(link: PersonalLink, now: datetime) -> None:
    link.revoked_at = now


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
