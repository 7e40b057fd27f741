"""A command's reply that could not go out at once is handed to the outbox, not dropped.

Direct replies are sent from inside the sync loop's event callbacks: waiting there for a
rate limit or an outage would stop the bot from receiving anything. So a reply that fails
is queued (due after the homeserver's retry_after) and the callback returns at once. The
queued message keeps the transaction ids of the first attempt (`TX_KEY`): if that attempt
did reach the homeserver (an answer lost on the way back), the outbox's resend is
recognised as the same event and shown once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from bot.core.messages import EDIT_MESSAGE_ID, Button, Document, KeptReply, OutgoingMessage
from bot.core.rich_text import MARKDOWN_FORMAT, TEXT_FORMAT
from bot.outbox.ports import DeliveryError, RetryLater
from handlers.context import Services
from storage import outbox

log = logging.getLogger(__name__)

TX_KEY = "matrix_tx_key"  # the transaction-id stem of the first attempt
IN_REPLY_TO = "matrix_in_reply_to"
RETRY_SECONDS = 2.0  # a failure other than a rate limit: try again shortly


def reply_tx_key(trigger_event_id: str, index: int) -> str:
    """The transaction-id stem of a command's `index`-th reply: unique per triggering event
    (a command, or a tap on a button), the same for the first attempt and the outbox's."""
    return f"reply-{trigger_event_id}-{index}"


async def queue_reply(
    services: Services,
    platform: str,
    chat_id: str,
    *,
    text: str,
    buttons: tuple[tuple[Button, ...], ...],
    document: Document | None,
    tx_key: str,
    failure: DeliveryError,
    in_reply_to: str | None = None,
    edit_of: str | None = None,
    wake: Callable[[], None] | None = None,
    markdown: bool = False,
    kept: KeptReply | None = None,
) -> None:
    """Queue a reply whose direct send failed; the outbox sends it when the server allows
    (formatted again if it was Markdown). `kept`: where the reply is kept
    (`Reply.record_as`), under which the outbox then keeps the sent event's id."""
    extra = {TX_KEY: tx_key}
    if markdown:
        extra[TEXT_FORMAT] = MARKDOWN_FORMAT
    if in_reply_to:
        extra[IN_REPLY_TO] = in_reply_to
    if edit_of:
        extra[EDIT_MESSAGE_ID] = edit_of
    delay = failure.seconds if isinstance(failure, RetryLater) else RETRY_SECONDS
    now = services.clock.now()
    async with services.sessions.begin() as session:
        await outbox.enqueue(
            session,
            dedupe_key=kept.key if kept else f"{platform}:{tx_key}",
            purpose="reply",
            platform=platform,
            chat_id=chat_id,
            group_id=kept.group_id if kept else None,
            message=OutgoingMessage(text, buttons, document, extra),
            now=now,
            not_before=now + timedelta(seconds=delay),
        )
    log.warning(
        "%s: reply to %s could not be sent (%s); queued in the outbox for %.1fs from now",
        platform,
        chat_id,
        failure,
        delay,
    )
    if wake is not None:
        wake()
