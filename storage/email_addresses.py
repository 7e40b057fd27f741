"""Queries on people's e-mail addresses (see models.email)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from storage import advisors as advisor_store
from storage.db import Session
from storage.models import EmailAddress

REASON_LIMIT = 500  # characters of a server's diagnostic kept as the reason


def address_key(address: str) -> str:
    """The form addresses are compared in: mailbox names are case-insensitive in practice."""
    return address.strip().lower()


async def confirmed_user_id(session: Session, address: str) -> int | None:
    """The person whose confirmed address this is, or None (unknown or not confirmed)."""
    return await session.scalar(
        select(EmailAddress.user_id).where(
            EmailAddress.address_key == address_key(address),
            EmailAddress.confirmed_at.is_not(None),
        )
    )


async def confirmed_address(session: Session, user_id: int) -> str | None:
    """A person's confirmed, reachable address, or None."""
    return await session.scalar(
        select(EmailAddress.address).where(
            EmailAddress.user_id == user_id,
            EmailAddress.confirmed_at.is_not(None),
            EmailAddress.unreachable_at.is_(None),
        )
    )


@dataclass(frozen=True, slots=True)
class MarkedUnreachable:
    """Whose address a failed delivery was: the member it belongs to (confirmed or not) and
    the advisor registry entries that have it, as (number, name)."""

    user_id: int | None = None
    advisors: tuple[tuple[int, str], ...] = ()

    @property
    def marked(self) -> bool:
        """True if the address is known anywhere and was marked."""
        return self.user_id is not None or bool(self.advisors)


async def mark_unreachable(
    session: Session, address: str, reason: str, at: datetime
) -> MarkedUnreachable:
    """Record that mail to `address` cannot be delivered, wherever the address is known: a
    person's own address (`/email`) and the registry address of any advisor. The one way
    both a bounce and an SMTP refusal mark an address."""
    key = address_key(address)
    reason = reason[:REASON_LIMIT]
    row = await session.scalar(select(EmailAddress).where(EmailAddress.address_key == key))
    if row is not None:
        row.unreachable_at = at
        row.unreachable_reason = reason
    advisors = await advisor_store.mark_email_unreachable(session, key, reason, at)
    return MarkedUnreachable(
        user_id=row.user_id if row is not None else None,
        advisors=tuple((advisor.id, advisor.name) for advisor in advisors),
    )


async def confirmed_addresses(session: Session, user_ids: Iterable[int]) -> dict[int, str]:
    """`confirmed_address` of many people in one query: user id → address, for those with
    a confirmed, reachable address."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(EmailAddress.user_id, EmailAddress.address).where(
            EmailAddress.user_id.in_(ids),
            EmailAddress.confirmed_at.is_not(None),
            EmailAddress.unreachable_at.is_(None),
        )
    )
    return {user_id: address for user_id, address in rows}
