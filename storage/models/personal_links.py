"""Answering without the chat: people outside the chats whom a chair added by name and
e-mail address, and the personal links that stand for one person in one poll or meeting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class Guest(Base):
    """A person outside the chats, known by the name and address a chair gave: the address
    is used for nothing but their personal links (it is not a confirmed `/email` address)."""

    __tablename__ = "guests"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True, index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(320))
    address_key: Mapped[str] = mapped_column(String(320), unique=True)
    added_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]


class PersonalLink(Base):
    """A personal web link: whoever opens it answers as `user_id`, in one poll or one
    meeting (exactly one of `poll_id`, `meeting_id`). Only the SHA-256 of its token is
    stored. One row per link sent (each mail carries its own), so a person may hold several
    that all work, until the chair revokes them (`revoked_at`, all of the person's at once).
    `outside`: given to a guest, so it does not depend on a group membership."""

    __tablename__ = "personal_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    poll_id: Mapped[int | None] = mapped_column(
        ForeignKey("polls.id", ondelete="CASCADE"), index=True
    )
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    outside: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
