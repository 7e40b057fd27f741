"""Admins: the deployment's role above chairs (configured, not granted in chat).

An admin is a person with an account listed in ADMIN_USERS, or a member of a working group
that owns one of the ADMIN_CHATS. Admin-only features (the advisor registry) are used in a
private chat or in such an admin chat, never in another group, so registry data is not
shown to a working group that has no business with it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.i18n import Translator
from bot.core.messages import OutgoingMessage
from bot.core.settings import Settings
from storage import outbox, people
from storage.db import Session


async def admin_group_ids(session: Session, settings: Settings) -> set[int]:
    groups: set[int] = set()
    for platform, chat_id in settings.admin_chat_refs:
        group = await people.group_for_chat(session, platform, chat_id)
        if group is not None:
            groups.add(group.id)
    return groups


async def is_admin(session: Session, settings: Settings, user_id: int) -> bool:
    listed = set(settings.admin_user_refs)
    identities = await people.identities_of(session, user_id)
    if any((i.platform, i.platform_user_id) in listed for i in identities):
        return True
    groups = await admin_group_ids(session, settings)
    if not groups:
        return False
    return await people.is_member_of_any(session, user_id, groups)


@dataclass(frozen=True)
class AdminDestinations:
    """Where reports for admins go: the admin chats, and listed admins' private chats."""

    chats: tuple[tuple[str, str], ...]
    user_ids: tuple[int, ...]

    def __bool__(self) -> bool:
        return bool(self.chats or self.user_ids)


async def admin_destinations(session: Session, settings: Settings) -> AdminDestinations:
    user_ids: list[int] = []
    for platform, ident in settings.admin_user_refs:
        user_id = await people.user_id_of_identity(session, platform, ident)
        if user_id is not None and user_id not in user_ids:
            user_ids.append(user_id)
    return AdminDestinations(settings.admin_chat_refs, tuple(user_ids))


async def chat_language(session: Session, settings: Settings, platform: str, chat: str) -> str:
    """The language of the working group that owns a chat (else the bot's)."""
    group = await people.group_for_chat(session, platform, chat)
    return (group.language if group else None) or settings.bot_language


async def tell_admins(
    session: Session,
    settings: Settings,
    *,
    dedupe_key: str,
    purpose: str,
    text: Callable[[Translator], str | None],
    now: datetime,
    chats: Sequence[tuple[str, str]] | None = None,
) -> int:
    """Queue a note to the admin chats (or `chats`) and to each listed admin, each in their
    language, once per `dedupe_key`; an empty text is not sent. Returns how many queued."""
    admins = await admin_destinations(session, settings)
    queued = 0
    for platform, chat in admins.chats if chats is None else chats:
        body = text(Translator(await chat_language(session, settings, platform, chat)))
        if body:
            queued += await outbox.enqueue(
                session,
                dedupe_key=f"{dedupe_key}:{platform}:{chat}",
                purpose=purpose,
                platform=platform,
                chat_id=chat,
                message=OutgoingMessage(body),
                now=now,
            )
    for user_id in admins.user_ids:
        user = await people.find_user(session, user_id)
        body = text(Translator((user.language if user else None) or settings.bot_language))
        if body:
            queued += await outbox.enqueue_to_person(
                session,
                user_id=user_id,
                dedupe_key=f"{dedupe_key}:user:{user_id}",
                purpose=purpose,
                message=OutgoingMessage(body),
                now=now,
            )
    return queued
