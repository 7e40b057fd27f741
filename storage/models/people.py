"""Who is who and where: people and their platform identities, working groups and their
chats, memberships, and the one-time codes that link a chat or an identity."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.core.enums import Role
from storage.models.base import Base


class User(Base):
    """A person, possibly known on several platforms (see Identity)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]

    identities: Mapped[list[Identity]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )


class Identity(Base):
    __tablename__ = "identities"
    __table_args__ = (
        UniqueConstraint("platform", "platform_user_id"),
        # @name finds a person whatever the case of their username: without this index
        # every @name in a command reads all identities of the platform.
        Index("ix_identities_username_lower", text("lower(username)")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(255), index=True)
    dm_chat_id: Mapped[str | None] = mapped_column(String(255))
    unreachable_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]

    user: Mapped[User] = relationship(back_populates="identities")


class Group(Base):
    """A working group (AG, Fachgruppe, …); it may span several chats."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    chats: Mapped[list[GroupChat]] = relationship(
        back_populates="group", cascade="all, delete-orphan", passive_deletes=True
    )


class GroupChat(Base):
    __tablename__ = "group_chats"
    __table_args__ = (UniqueConstraint("platform", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    # The bot was removed from this chat: nothing more is sent there (kept, so the group
    # and its history stay; a command from the chat again brings it back).
    gone_at: Mapped[datetime | None]

    group: Mapped[Group] = relationship(back_populates="chats")


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER.value)
    created_at: Mapped[datetime]
    role_granted_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # Left the group's last chat ("member until …"): kept as history, but an ended
    # membership gets nothing of the group any more. None while a member.
    left_at: Mapped[datetime | None]


class ChatDeparture(Base):
    """A person left one chat of a group that has several: their membership lasts while
    they may still be in another; leaving the last one ends it (Membership.left_at)."""

    __tablename__ = "chat_departures"
    __table_args__ = (UniqueConstraint("group_chat_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_chat_id: Mapped[int] = mapped_column(
        ForeignKey("group_chats.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    left_at: Mapped[datetime]


class LinkCode(Base):
    """A one-time code that links a second chat to a group, or a second identity to a person.

    Only a hash is stored; the code itself is shown once to the person who asked for it.
    """

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))  # "group", "identity" or "advisor"
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LinkRequest(Base):
    """An account asked to join the person who made an identity code: nothing is merged
    until that person confirms in their private chat (a code sent to the wrong hands must
    not hand over anyone's roles or identities)."""

    __tablename__ = "link_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    # the person who made the code and stays; the account that redeemed it and is absorbed
    target_user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    requester_user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
