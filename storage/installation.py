"""This installation's own identity, made once and kept in the database: calendar UIDs must
stay the same across restarts and be unique to this bot, also without a configured domain."""

from __future__ import annotations

import secrets
from datetime import datetime

from storage.db import Session
from storage.platform_state import get_state, insert_state_once

CALENDAR_DOMAIN = ("installation", "calendar_domain")


async def calendar_domain(session: Session, now: datetime) -> str:
    """The generated calendar domain, e.g. `ag-3f9c0d2e8a1b4c57.invalid`; made on first use.

    `.invalid` is reserved (RFC 6761): such a name never belongs to anyone else, and a
    calendar app can never send mail to it by mistake. Two processes starting at once on one
    database agree: the first insert wins, the other reads it.
    """
    found = await get_state(session, *CALENDAR_DOMAIN)
    if found:
        return found
    await insert_state_once(session, *CALENDAR_DOMAIN, f"ag-{secrets.token_hex(8)}.invalid", now)
    found = await get_state(session, *CALENDAR_DOMAIN)
    assert found is not None
    return found


WEB_SECRET = ("installation", "web_secret")


async def web_secret(session: Session, now: datetime) -> bytes:
    """The key the web pages sign their form tokens with; made on first use, kept so a form
    opened before a restart still posts after it, and shared by every process on one database.
    """
    found = await get_state(session, *WEB_SECRET)
    if not found:
        await insert_state_once(session, *WEB_SECRET, secrets.token_hex(32), now)
        found = await get_state(session, *WEB_SECRET)
    assert found is not None
    return bytes.fromhex(found)
