"""The advisor registry: advisors, their authorizations and escalation steps, the
experience exchanges that renew an authorization, and advisor link codes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.enums import ListingStatus
from storage.models.base import Base


class Advisor(Base):
    """An authorized advisor of the public advisor database.

    `next_step_on` is derived from the history by the pure policy and kept up to date on
    every change, so the daily run finds due advisors by index instead of evaluating all.
    """

    __tablename__ = "advisors"
    # Advisors are looked up by e-mail whatever its case (`/berater a@b.de`).
    __table_args__ = (Index("ix_advisors_email_lower", text("lower(email)")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    institution: Mapped[str] = mapped_column(String(200), index=True)
    fields: Mapped[str] = mapped_column(String(500), default="")  # Beratungsfelder, "; "-joined
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default=ListingStatus.LISTED.value)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    next_step_on: Mapped[date | None] = mapped_column(Date, index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The regional network or area the advisor works in (free text, e.g. "Köln").
    region: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # What the advisor agreed to show on the public advisor list: comma-separated keys of
    # `handlers.advisors.consent.PublicField` ("name,fields"); empty: nothing is published.
    published: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # When that consent was last recorded or changed (None: never).
    published_changed_at: Mapped[datetime | None]
    # Mail to `email` bounced or was refused (SMTP 5xx): no letter goes there until the
    # address is changed (`/berateraendern N email=…`, the CSV import). Reason: the server's.
    email_unreachable_at: Mapped[datetime | None]
    email_unreachable_reason: Mapped[str | None] = mapped_column(Text)


class AdvisorAuthorization(Base):
    """One authorization (initial, or renewed by attending an Erfahrungsaustausch)."""

    __tablename__ = "advisor_authorizations"
    __table_args__ = (UniqueConstraint("advisor_id", "authorized_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    advisor_id: Mapped[int] = mapped_column(
        ForeignKey("advisors.id", ondelete="CASCADE"), index=True
    )
    authorized_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16))
    exchange_id: Mapped[int | None] = mapped_column(
        ForeignKey("experience_exchanges.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]


class AdvisorStep(Base):
    """An escalation step handled for an advisor: the audit trail and the once-only guard.

    The unique key is written in the same transaction as the outbox row, so two processes
    (or a restart) can never send the same step twice.
    """

    __tablename__ = "advisor_steps"
    __table_args__ = (UniqueConstraint("advisor_id", "step", "cycle_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    advisor_id: Mapped[int] = mapped_column(
        ForeignKey("advisors.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[str] = mapped_column(String(32))
    cycle_start: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(16))
    done_at: Mapped[datetime] = mapped_column(index=True)
    outbox_key: Mapped[str | None] = mapped_column(String(255))
    # When the step went into the institution summary / admin report (None: not yet).
    reported_at: Mapped[datetime | None] = mapped_column(index=True)
    # The letter had no experience exchange to offer before its deadline: admins are told.
    no_exchange: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ExperienceExchange(Base):
    """An Erfahrungsaustausch a partner offers; attending it renews an authorization."""

    __tablename__ = "experience_exchanges"

    id: Mapped[int] = mapped_column(primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime | None]
    provider: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(500))
    capacity: Mapped[int | None] = mapped_column(Integer)
    group_id: Mapped[int | None] = mapped_column(  # None: published for everyone
        ForeignKey("groups.id", ondelete="CASCADE"), index=True
    )
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]


class ExchangeAttendance(Base):
    __tablename__ = "exchange_attendance"
    __table_args__ = (UniqueConstraint("exchange_id", "advisor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exchange_id: Mapped[int] = mapped_column(
        ForeignKey("experience_exchanges.id", ondelete="CASCADE"), index=True
    )
    advisor_id: Mapped[int] = mapped_column(
        ForeignKey("advisors.id", ondelete="CASCADE"), index=True
    )
    recorded_at: Mapped[datetime]
    recorded_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class AdvisorLinkCode(Base):
    """Ties a one-time code (storage.linking, purpose "advisor") to a registry entry."""

    __tablename__ = "advisor_link_codes"

    link_code_id: Mapped[int] = mapped_column(
        ForeignKey("link_codes.id", ondelete="CASCADE"), primary_key=True
    )
    advisor_id: Mapped[int] = mapped_column(
        ForeignKey("advisors.id", ondelete="CASCADE"), index=True
    )


class AdvisorInstitution(Base):
    """Where a training institution gets its own summary of its advisors' reminders: a chat
    (`PLATFORM`, chat id) and an e-mail address (kept for the e-mail channel). `name` is
    the institution as written in the advisors' entries."""

    __tablename__ = "advisor_institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    chat_platform: Mapped[str | None] = mapped_column(String(16))
    chat_id: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
