"""The organisation above the working groups: the short names a group is addressed by, where
a recommendation or assignment is addressed, what arrived in a receiving group's inbox, and
the reports groups owe each other."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class GroupAlias(Base):
    """A short name a group's chair chose ("QS" for the AG Qualitätssicherung); `key` is the
    normalised form, unique across the organisation so an alias names one group only."""

    __tablename__ = "group_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(120))
    key: Mapped[str] = mapped_column(String(120), unique=True)
    set_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class DecisionAddressee(Base):
    """The registered group a recommendation or assignment is addressed to, as resolved when
    it was recorded or chosen by a minute-taker; without a row the addressee is only text."""

    __tablename__ = "decision_addressees"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(
        ForeignKey("decisions.id", ondelete="CASCADE"), unique=True
    )
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)


class InboxItem(Base):
    """A decision that reached a receiving group once the sender's minutes were approved,
    numbered per receiving group (E-3). Open until its chair puts it on an agenda, turns it
    into an action item or declines it; an amendment arrives as an item that `amends` it."""

    __tablename__ = "inbox_items"
    __table_args__ = (
        UniqueConstraint("decision_id", "receiving_group_id"),
        UniqueConstraint("receiving_group_id", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    receiving_group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    sending_group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), index=True
    )
    decision_id: Mapped[int] = mapped_column(
        ForeignKey("decisions.id", ondelete="CASCADE"), index=True
    )
    amends_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbox_items.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="SET NULL")
    )
    action_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("action_items.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class ReportDuty(Base):
    """A report one group owes another at regular intervals (a Fachgruppe to the AG Transfer,
    yearly), numbered per owing group (R-1). `due_date` moves on by `every_months` when it
    is delivered; `reminded_for` is the due date the chairs were last reminded of, so each
    due date is reminded of once."""

    __tablename__ = "report_duties"
    __table_args__ = (
        UniqueConstraint("owing_group_id", "number"),
        Index("ix_report_duties_due_date", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owing_group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    receiving_group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    every_months: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date]
    reminded_for: Mapped[date | None]
    # Days before the due date the chairs are reminded; None: REPORT_REMIND_DAYS_BEFORE.
    remind_days_before: Mapped[int | None] = mapped_column(Integer)
    delivered_at: Mapped[datetime | None]
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
