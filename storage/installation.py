"""This installation's own identity and secrets, made once and kept in the database: they must
stay the same across restarts, be shared by every process on one database, and be unique to
this bot, also without any configuration."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime

from storage.db import Session
from storage.platform_state import get_state, insert_state_once

CALENDAR_DOMAIN = ("installation", "calendar_domain")
WEB_SECRET = ("installation", "web_secret")
WEBHOOK_SECRET = ("installation", "telegram_webhook_secret")


async def _made_once(
    session: Session, key: tuple[str, str], make: Callable[[], str], now: datetime
) -> str:
    """The stored value, or a new one: processes starting at once agree, the first insert wins
    and the others read it."""
    found = await get_state(session, *key)
    if found:
        return found
    await insert_state_once(session, *key, make(), now)
    found = await get_state(session, *key)
    assert found is not None
    return found


async def calendar_domain(session: Session, now: datetime) -> str:
    """The generated calendar domain, e.g. `ag-3f9c0d2e8a1b4c57.invalid`.

    `.invalid` is reserved (RFC 6761): such a name never belongs to anyone else, and a
    calendar app can never send mail to it by mistake.
    """
    return await _made_once(
        session, CALENDAR_DOMAIN, lambda: f"ag-{secrets.token_hex(8)}.invalid", now
    )


async def web_secret(session: Session, now: datetime) -> bytes:
    """The key the web pages sign their form tokens with: a form opened before a restart still
    posts after it."""
    return bytes.fromhex(await _made_once(session, WEB_SECRET, lambda: secrets.token_hex(32), now))


async def webhook_secret(session: Session, now: datetime) -> str:
    """The Telegram webhook secret when TELEGRAM_WEBHOOK_SECRET is not set: random, and the
    same for every process behind the load balancer."""
    return await _made_once(session, WEBHOOK_SECRET, lambda: secrets.token_urlsafe(32), now)
