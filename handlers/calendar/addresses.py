"""Whose e-mail address the bot knows, for the ATTENDEE line of the invitation sent to that
very person: with their own address in it, calendar apps treat the file as an invitation
to them and offer accept / decline. Nobody's file ever carries another person's address."""

from __future__ import annotations

from collections.abc import Iterable

from storage import advisors as advisor_store
from storage import email_addresses
from storage.db import Session


async def own_addresses(session: Session, user_ids: Iterable[int]) -> dict[int, str]:
    """User id → the address to name them by: their confirmed address (`/email`), else the
    advisor registry's address of a linked advisor."""
    ids = list(set(user_ids))
    found = await advisor_store.registry_addresses(session, ids)
    found.update(await email_addresses.confirmed_addresses(session, ids))
    return found
