"""A person's e-mail address: the channel for people who are not in the bot's chats.

One address per person. Nothing but the confirmation code is ever sent to an address until
`confirmed_at` is set (double opt-in); inbound calendar replies count only from a confirmed
address. A bounce or a permanent SMTP refusal sets `unreachable_at`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class EmailAddress(Base):
    __tablename__ = "email_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True, index=True
    )
    # Stored as given, compared case-insensitively through `address_key` (lower-cased).
    address: Mapped[str] = mapped_column(String(320))
    address_key: Mapped[str] = mapped_column(String(320), unique=True)
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    unreachable_at: Mapped[datetime | None]
    unreachable_reason: Mapped[str | None] = mapped_column(Text)
