"""A command's own reply and the outbox. One that could not be sent goes through the outbox
instead of being dropped: the chair who typed /sitzung during an outage gets the answer once
the platform is back, in order with everything else queued for that chat. One the handler
wants to edit later (`Reply.record_as`) is kept there with its platform id once sent."""

from __future__ import annotations

import logging

from bot.core.messages import KeptReply, OutgoingMessage, Reply
from handlers.context import Services
from storage import outbox

log = logging.getLogger(__name__)

PURPOSE = "command_reply"


async def queue_unsent_reply(
    services: Services,
    *,
    platform: str,
    chat_id: str,
    key: str,
    message: OutgoingMessage,
    record_as: KeptReply | None = None,
) -> bool:
    """Queue the reply once per `key` (the command's message and the reply's place in the
    answer), or under the reply's own `record_as` key, so the outbox keeps the message's id
    there when it sends it (see `record_sent_reply`); True when it was new."""
    async with services.sessions.begin() as session:
        queued = await outbox.enqueue(
            session,
            dedupe_key=record_as.key if record_as else f"{PURPOSE}:{platform}:{key}",
            purpose=PURPOSE,
            platform=platform,
            chat_id=chat_id,
            group_id=record_as.group_id if record_as else None,
            message=message,
            now=services.clock.now(),
        )
    services.wake_outbox()
    return queued


async def record_sent_reply(
    services: Services, *, platform: str, chat_id: str, reply: Reply, message_id: str | None
) -> None:
    """A reply that asked to be kept (`Reply.record_as`) went out directly as `message_id`:
    kept as a sent outbox row under that key, the one place the bot looks up the messages it
    sent (a new poll's message in the chat it was started in is edited like its copies in
    the group's other chats). The reply is out already: failing to keep its id is logged,
    and then the first button press on it teaches the bot the id, as before."""
    if reply.record_as is None or message_id is None:
        return
    try:
        async with services.sessions.begin() as session:
            await outbox.record_sent(
                session,
                dedupe_key=reply.record_as.key,
                group_id=reply.record_as.group_id,
                purpose=PURPOSE,
                platform=platform,
                chat_id=chat_id,
                message=OutgoingMessage(reply.text, reply.buttons),
                platform_message_id=message_id,
                now=services.clock.now(),
            )
    except Exception:  # the message is out; never fail the update for its bookkeeping
        log.exception("%s: could not keep the id of the reply sent to %s", platform, chat_id)
