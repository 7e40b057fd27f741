"""A command's own reply that could not be sent goes through the outbox instead of being
dropped: the chair who typed /sitzung during an outage gets the answer once the platform is
back, in order with everything else queued for that chat."""

from __future__ import annotations

from bot.core.messages import OutgoingMessage
from handlers.context import Services
from storage import outbox

PURPOSE = "command_reply"


async def queue_unsent_reply(
    services: Services, *, platform: str, chat_id: str, key: str, message: OutgoingMessage
) -> bool:
    """Queue the reply once per `key` (the command's message and the reply's place in the
    answer); True when it was new."""
    async with services.sessions.begin() as session:
        queued = await outbox.enqueue(
            session,
            dedupe_key=f"{PURPOSE}:{platform}:{key}",
            purpose=PURPOSE,
            platform=platform,
            chat_id=chat_id,
            message=message,
            now=services.clock.now(),
        )
    services.wake_outbox()
    return queued
