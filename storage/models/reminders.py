"""Reminders: the once-only log of reminders that fell due, and group and personal
reminder settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class ReminderLog(Base):
    """Each reminder that fell due, exactly once: the unique key makes a second sweep (or a
    second bot process) a no-op, and the row is written together with the outbox message."""

    __tablename__ = "reminder_log"
    __table_args__ = (
        UniqueConstraint("kind", "subject", "recipient_id", "due_at"),
        Index("ix_reminder_log_unreported", "status", "reported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))  # e.g. "meeting:12"
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), index=True
    )
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[datetime]
    reported_at: Mapped[datetime | None]


class GroupReminderSettings(Base):
    """A group's default meeting-reminder offsets (minutes before the start)."""

    __tablename__ = "group_reminder_settings"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    meeting_offsets: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class UserReminderSettings(Base):
    """A person's own meeting-reminder offsets (overriding the group's) and muted kinds."""

    __tablename__ = "user_reminder_settings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    meeting_offsets: Mapped[str | None] = mapped_column(String(64))
    muted: Mapped[str] = mapped_column(String(128), default="")
    updated_at: Mapped[datetime]
