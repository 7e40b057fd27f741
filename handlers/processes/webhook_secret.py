"""The webhook secret all processes of one installation share, when none is configured."""

from __future__ import annotations

from handlers.context import Services
from storage import installation


async def shared_webhook_secret(services: Services) -> str:
    """Made by the first process to ask, read by the others (see storage/installation.py)."""
    async with services.sessions.begin() as session:
        return await installation.webhook_secret(session, services.clock.now())
