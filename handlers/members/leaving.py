"""What leaving a group's chat means, and what the bot's own removal means.

The chat IS the group: writing a command there makes a member (see the dispatcher), and
leaving, being removed or banned from the group's last chat ends the membership. An ended
membership is kept as history ("member until …") but gets nothing of the group any more:
the storage queries that pick recipients skip it, and what was already queued for the
person about the group is dropped (recorded, not sent). Admin rights that came from an
admin chat end with it (see handlers/admins/directory.py).
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.core.i18n import Translator
from bot.core.messages import OutgoingMessage
from handlers.members.audience import language_of
from storage import outbox, people, platform_state
from storage.db import Session

log = logging.getLogger(__name__)

PURPOSE_BOT_REMOVED = "bot_removed"
PURPOSE_BOT_NOT_ADMIN = "bot_not_admin"
ASKED_FOR_ADMIN = "asked-for-admin"  # platform_state key prefix: the chat was asked once


async def member_left(
    session: Session, platform: str, chat_id: str, platform_user_id: str, now: datetime
) -> bool:
    """A person left a group's chat; returns whether their membership ended."""
    left = await people.leave_chat(session, platform, chat_id, platform_user_id, now)
    if left is None:
        return False
    dropped = await outbox.drop_for_former_member(
        session, user_id=left.user_id, group_id=left.group.id, now=now
    )
    log.info(
        "person %s left group %s (%s messages to them dropped)",
        left.user_id,
        left.group.id,
        dropped,
    )
    return True


async def bot_removed(session: Session, platform: str, chat_id: str, now: datetime) -> int:
    """The bot was removed from a chat: mark a group's chat gone and tell its chairs in the
    group's other chats, or privately when there are none. Returns how many were queued."""
    gone = await people.mark_chat_gone(session, platform, chat_id, now)
    if gone is None:
        return 0
    group = gone.group

    def note(t: Translator) -> OutgoingMessage:
        return OutgoingMessage(
            t.gettext(
                "I was removed from the chat “{chat}” of {group}. I no longer see or write "
                "anything there; add me again and send a command there to bring it back.",
                chat=gone.title or chat_id,
                group=group.name,
            )
        )

    key = f"bot-removed:{platform}:{chat_id}:{now.isoformat()}"
    if gone.remaining:
        return await outbox.enqueue_for_group(
            session,
            group.id,
            dedupe_key=key,
            purpose=PURPOSE_BOT_REMOVED,
            message=note(Translator(group.language)),
            now=now,
        )
    queued = 0
    for chair in await people.chairs_of(session, group.id):
        queued += await outbox.enqueue_to_person(
            session,
            user_id=chair.id,
            dedupe_key=f"{key}:{chair.id}",
            purpose=PURPOSE_BOT_REMOVED,
            message=note(Translator(language_of(chair, group))),
            now=now,
            group_id=group.id,
        )
    return queued


def admin_request(t: Translator) -> str:
    """What the chat is told when the bot is no admin there: what is lost, how to fix it."""
    return t.gettext(
        "Please make me an admin of this chat (chairs: ask whoever owns it). Until then the "
        "platform does not tell me when someone leaves or is removed: before each "
        "invitation, reminder or link I send privately I have to ask whether the person is "
        "still here, and the member list may still show people who left."
    )


async def first_admin_request(session: Session, platform: str, chat_id: str, now: datetime) -> bool:
    """True only the first time a chat is to be asked for admin rights: it is asked once
    per chat ever, not at every start nor at every demotion (a chair told once knows)."""
    key = f"{ASKED_FOR_ADMIN}:{chat_id}"
    if await platform_state.get_state(session, platform, key) is not None:
        return False
    await platform_state.set_state(session, platform, key, now.isoformat(), now)
    return True


async def bot_not_admin(
    session: Session, platform: str, chat_id: str, now: datetime, *, default_language: str
) -> int:
    """The platform shows the bot who leaves only while it is an admin of the chat: say so
    in the chat (where its chairs and admins are), once per chat, in its group's language
    (a chat not yet registered: the bot's), so the admin who is about to register it knows
    what is lost and how to fix it."""
    if not await first_admin_request(session, platform, chat_id, now):
        return 0
    group = await people.group_for_chat(session, platform, chat_id)
    text = admin_request(Translator(group.language if group else default_language))
    return int(
        await outbox.enqueue(
            session,
            dedupe_key=f"bot-not-admin:{platform}:{chat_id}",
            purpose=PURPOSE_BOT_NOT_ADMIN,
            platform=platform,
            chat_id=chat_id,
            group_id=group.id if group else None,
            message=OutgoingMessage(text),
            now=now,
        )
    )
