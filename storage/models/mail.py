"""Outbound e-mail: pending confirmation codes and each person's channel per kind of message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class EmailCode(Base):
    """The code mailed to a new address (double opt-in); only its hash is kept, and only
    until it is entered or replaced."""

    __tablename__ = "email_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True, index=True
    )
    address_key: Mapped[str] = mapped_column(String(320))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class ChannelPreference(Base):
    """How a person wants one kind of message (bot.core.mail.MessageKind): chat, email or
    both. No row: the default (chat where linked, else e-mail)."""

    __tablename__ = "channel_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime]
