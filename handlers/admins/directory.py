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

from sqlalchemy import select

from bot.core.i18n import Translator
from bot.core.messages import OutgoingMessage
from bot.core.settings import Settings
from storage import outbox
from storage.db import Session
from storage.models import Group, GroupChat, Identity, Membership, User


async def admin_group_ids(session: Session, settings: Settings) -> set[int]:
    groups: set[int] = set()
    for platform, chat_id in settings.admin_chat_refs:
        group_id = await session.scalar(
            select(GroupChat.group_id).where(
                GroupChat.platform == platform, GroupChat.chat_id == chat_id
            )
        )
        if group_id is not None:
            groups.add(group_id)
    return groups


async def is_admin(session: Session, settings: Settings, user_id: int) -> bool:
    identities = await session.execute(
        select(Identity.platform, Identity.platform_user_id).where(Identity.user_id == user_id)
    )
    listed = set(settings.admin_user_refs)
    if any((platform, ident) in listed for platform, ident in identities):
        return True
    groups = await admin_group_ids(session, settings)
    if not groups:
        return False
    member = await session.scalar(
        select(Membership.id).where(Membership.user_id == user_id, Membership.group_id.in_(groups))
    )
    return member is not None


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
        user_id = await session.scalar(
            select(Identity.user_id).where(
                Identity.platform == platform, Identity.platform_user_id == ident
            )
        )
        if user_id is not None and user_id not in user_ids:
            user_ids.append(user_id)
    return AdminDestinations(settings.admin_chat_refs, tuple(user_ids))


async def chat_language(session: Session, settings: Settings, platform: str, chat: str) -> str:
    """The language of the working group that owns a chat (else the bot's)."""
    language = await session.scalar(
        select(Group.language)
        .join(GroupChat, GroupChat.group_id == Group.id)
        .where(GroupChat.platform == platform, GroupChat.chat_id == chat)
    )
    return language or settings.bot_language


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
        user = await session.get(User, user_id)
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
