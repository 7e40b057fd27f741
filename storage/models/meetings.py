"""Meetings and what hangs off a meeting: series, RSVPs, agenda items, attendance and
discussion notes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.enums import AgendaItemKind, AgendaItemStatus, MeetingStatus, MinutesStatus
from storage.models.base import Base


class MeetingSeries(Base):
    """A recurring meeting ("every 2nd Thursday 9–10 Uhr"): an RRULE in the series' zone.

    Occurrences are materialized as Meeting rows (series_id, recurrence_id) ahead of time,
    so each can carry its own agenda, attendance and minutes, or be moved or cancelled.
    """

    __tablename__ = "meeting_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    rrule: Mapped[str] = mapped_column(String(500))  # RFC 5545 RRULE value, without "RRULE:"
    first_starts_at: Mapped[datetime]  # DTSTART
    timezone: Mapped[str] = mapped_column(String(64))  # local wall time follows this zone
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    # Occurrences exist as Meeting rows up to here (exclusive).
    materialized_until: Mapped[datetime]
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    ended_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class Meeting(Base):
    """A meeting of a working group; `number` counts per group, so ids never leak."""

    __tablename__ = "meetings"
    __table_args__ = (
        UniqueConstraint("group_id", "number"),
        # A group's meetings in time order (/sitzungen, the next meeting) without reading,
        # or sorting, the other groups' ten years of meetings.
        Index("ix_meetings_group_id_starts_at", "group_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime | None]
    location: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=MeetingStatus.SCHEDULED.value)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    description: Mapped[str | None] = mapped_column(Text)
    # An occurrence of a series: `recurrence_id` is its original start (UTC), kept when the
    # occurrence is moved, so calendars can match the override (RECURRENCE-ID).
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting_series.id", ondelete="SET NULL"), index=True
    )
    recurrence_id: Mapped[datetime | None]
    # Bumped on every change that calendars must see (iCalendar SEQUENCE).
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The TOP being discussed; notes, decisions and action items attach to it. No foreign
    # key: meetings and agenda items would reference each other.
    current_agenda_item_id: Mapped[int | None] = mapped_column(Integer)
    # When only a head count is recorded ("58 Teilnehmende").
    attendance_count: Mapped[int | None] = mapped_column(Integer)
    minutes_status: Mapped[str] = mapped_column(
        String(16), default=MinutesStatus.NONE.value, server_default=MinutesStatus.NONE.value
    )
    minutes_published_at: Mapped[datetime | None]
    objections_until: Mapped[datetime | None]
    minutes_approved_at: Mapped[datetime | None]


class Rsvp(Base):
    """A member's answer to a meeting invitation: yes, no or maybe (changeable)."""

    __tablename__ = "rsvps"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    answer: Mapped[str] = mapped_column(String(8))
    answered_at: Mapped[datetime]


class AgendaItem(Base):
    """A TOP of a meeting's agenda; `position` orders accepted items (TOP 1…n)."""

    __tablename__ = "agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16), default=AgendaItemKind.TOPIC.value)
    status: Mapped[str] = mapped_column(String(16), default=AgendaItemStatus.ACCEPTED.value)
    presenter_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    presenter_name: Mapped[str | None] = mapped_column(String(200))  # "Name (Organisation)"
    planned_start: Mapped[datetime | None]
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    proposed_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # "Wird in der nächsten Sitzung wieder aufgenommen": copied to the next agenda draft.
    continue_next_time: Mapped[bool] = mapped_column(Boolean, default=False)
    carried_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]


class Attendance(Base):
    """Who was there: a member (user_id) or a guest by free text (guest_name)."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    guest_name: Mapped[str | None] = mapped_column(String(200))  # someone not in the chat
    recorded_at: Mapped[datetime]
    recorded_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # Someone named but not in the chat is a participant ("Name, Organisation" in the
    # minutes) or, with `as_guest`, a guest; earlier rows were all guests.
    organisation: Mapped[str | None] = mapped_column(String(200))
    as_guest: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class MeetingNote(Base):
    """A discussion note ("Auszüge aus der Diskussion"), attached to the TOP current then; or,
    with `addendum`, a chair's later change to approved minutes, shown apart from them."""

    __tablename__ = "meeting_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="SET NULL")
    )
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    addendum: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
