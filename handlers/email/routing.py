"""Which way a message to one person goes: chat, e-mail or both, as they chose per kind of
message (`/email <kind> chat|email|both`); without a choice, chat where they have a chat
account, else e-mail. A channel that cannot reach them falls back to the other one.

Nothing but the confirmation code goes to an unconfirmed address: a member's address
counts only once confirmed and while reachable. Advisors' registry addresses are the
initiative's own record and are used as they are (see handlers/advisors/escalation.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.core.mail import Channel, MailContent, MessageKind, to_outgoing
from bot.core.messages import OutgoingMessage
from storage import mail as mail_store
from storage import outbox
from storage.db import Session
from storage.email_addresses import confirmed_address


@dataclass(frozen=True, slots=True)
class Route:
    by_chat: bool
    address: str | None  # set: also (or only) by e-mail to this address

    @property
    def reachable(self) -> bool:
        return self.by_chat or self.address is not None


async def route_for(session: Session, user_id: int, kind: MessageKind) -> Route:
    has_chat = await mail_store.has_chat(session, user_id)
    address = await confirmed_address(session, user_id)
    chosen = (await mail_store.channels(session, user_id)).get(kind.value)
    channel = Channel(chosen) if chosen else (Channel.CHAT if has_chat else Channel.EMAIL)
    by_chat = has_chat and (channel.by_chat or address is None)
    by_mail = address is not None and (channel.by_mail or not has_chat)
    return Route(by_chat=by_chat, address=address if by_mail else None)


async def send_to_person(
    session: Session,
    *,
    user_id: int,
    kind: MessageKind,
    dedupe_key: str,
    purpose: str,
    chat: OutgoingMessage | Callable[[], OutgoingMessage],
    mail: Callable[[str], MailContent],
    now: datetime,
    group_id: int | None = None,
    expires_at: datetime | None = None,
) -> int:
    """Queue the message on the person's route; returns how many rows were new. `mail` gets
    the recipient's address (an invitation names it as ATTENDEE). The chat row keeps
    `dedupe_key` as it is; the mail row adds the address to it. `expires_at`: not sent
    after this, on either way (a meeting reminder once the meeting started)."""
    route = await route_for(session, user_id, kind)
    queued = 0
    if route.by_chat:
        queued += await outbox.enqueue_to_person(
            session,
            user_id=user_id,
            dedupe_key=dedupe_key,
            purpose=purpose,
            message=chat() if callable(chat) else chat,
            now=now,
            group_id=group_id,
            expires_at=expires_at,
        )
    if route.address is not None:
        queued += await mail_store.enqueue_mail(
            session,
            address=route.address,
            dedupe_key=dedupe_key,
            purpose=purpose,
            message=to_outgoing(mail(route.address)),
            now=now,
            user_id=user_id,
            group_id=group_id,
            expires_at=expires_at,
        )
    return queued
