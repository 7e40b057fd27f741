"""The organisation's digest (Infodienst) and its steering body: where the digest goes,
how often, which digest periods were sent, what each group's chair lets appear, and which
group is the steering body (Strategiekreis) whose members may search across groups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class OrganisationSettings(Base):
    """One row (id 1) of organisation-wide choices admins make in the chat."""

    __tablename__ = "organisation_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest_frequency: Mapped[str] = mapped_column(String(16), default="weekly")
    steering_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime]


class DigestDestination(Base):
    """A chat (platform and chat id) or an e-mail address (platform "mail") the digest is
    sent to. `user_id` is set for a private chat: it gets the digest while that person is
    an admin."""

    __tablename__ = "digest_destinations"
    __table_args__ = (UniqueConstraint("platform", "target_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(254))
    target_key: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    added_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]


class DigestRun(Base):
    """A digest period that was sent: the unique `period_key` (W2021-23, M2021-06), written
    in the same transaction as the digest's outbox rows, makes every period go out once
    across processes and restarts; `until` is where the next digest's news start."""

    __tablename__ = "digest_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_key: Mapped[str] = mapped_column(String(16), unique=True)
    since: Mapped[datetime]
    until: Mapped[datetime] = mapped_column(index=True)
    sent_at: Mapped[datetime]


class DigestShare(Base):
    """A group chair's choice of what of the group appears in the digest and in the steering
    body's search: "approved" (default without a row: decisions of approved minutes and
    planned meetings), "forwarded" (only recommendations and assignments), "none"."""

    __tablename__ = "digest_shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), unique=True)
    share: Mapped[str] = mapped_column(String(16))
    set_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime]
