"""Several bot processes on one database: which platform updates were handled (and by
whom, while in hand), and which process holds a job only one may do (Matrix sync)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class HandledUpdate(Base):
    """One update a platform delivered (Telegram's update_id), claimed by one process.

    `state` is `handling` while a process has it in hand (until `lease_until`; a crashed
    holder's claim is taken over when it runs out) and `handled` once its effects are
    committed. A second delivery of a handled update changes nothing; rows go after the
    retention (Telegram gives up redelivering after 24 hours)."""

    __tablename__ = "handled_updates"
    __table_args__ = (
        Index("ix_handled_updates_chat", "platform", "chat_id", "state"),
        Index("ix_handled_updates_finished", "finished_at"),
    )

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(128))
    lease_until: Mapped[datetime]
    received_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class ProcessLease(Base):
    """A job only one process may do at a time (`matrix_sync`): its holder renews
    `expires_at` while it runs; another process may take it only once it has run out."""

    __tablename__ = "process_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    acquired_at: Mapped[datetime]
    renewed_at: Mapped[datetime]
    expires_at: Mapped[datetime]
