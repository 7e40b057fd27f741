"""Delivery bookkeeping: the outbox, per-platform state that survives restarts, and the
events already handled."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.enums import OutboxStatus
from storage.models.base import Base

OPEN_ROWS = text("status IN ('pending', 'sending', 'waiting_for_dm', 'uncertain')")


class OutboxMessage(Base):
    """A message to deliver later: written first, sent by the delivery worker.

    `dedupe_key` is unique per (purpose, recipient), so enqueueing the same reminder again
    after a restart is a no-op instead of a second message.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # On PostgreSQL only rows still to be sent (or to be reported) are in these indexes:
        # a million delivered rows make neither them nor the claiming slower.
        Index("ix_outbox_due", "status", "next_attempt_at", postgresql_where=OPEN_ROWS),
        Index("ix_outbox_lease", "status", "lease_until", postgresql_where=OPEN_ROWS),
        # Given-up messages nobody was told about yet (the e-mail channel's sweep): on
        # PostgreSQL only those rows, so the sweep does not read the delivered history.
        Index(
            "ix_outbox_failed_unreported",
            "platform",
            "status",
            postgresql_where=text("status = 'failed' AND reported_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    purpose: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    platform_message_id: Mapped[str | None] = mapped_column(String(64))
    # Set (and committed) right before the request goes out, cleared when the platform said
    # no; a dead worker's row with this set may have been delivered already.
    attempted_at: Mapped[datetime | None]
    # When admins were told about this row (an `uncertain` one); None: not yet.
    reported_at: Mapped[datetime | None]
    # When the payload (text, documents) was emptied: after OUTBOX_RETENTION_DAYS, or at a
    # person's erasure. Status and dedupe key stay, so nothing is ever sent twice.
    payload_purged_at: Mapped[datetime | None]
    # After this the message is pointless (a meeting reminder once the meeting started):
    # not sent but marked `expired` with the reason. None: useful however late.
    expires_at: Mapped[datetime | None]


class PlatformState(Base):
    """Small per-platform values that must survive restarts (e.g. Matrix's sync token)."""

    __tablename__ = "platform_state"
    __table_args__ = (UniqueConstraint("platform", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
    # The platform account a per-person record is about (who reacted how on Matrix), so the
    # person's erasure finds it; None for values that concern no one.
    account: Mapped[str | None] = mapped_column(String(255), index=True)


class ProcessedEvent(Base):
    """Platform events already handled, so a replayed sync never runs a command twice."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("platform", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(255))
    seen_at: Mapped[datetime] = mapped_column(index=True)
