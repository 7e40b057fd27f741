"""SQLAlchemy models. Every timestamp is stored as UTC and read back as an aware datetime."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.core.enums import (
    ActionItemStatus,
    AgendaItemKind,
    AgendaItemStatus,
    DecisionKind,
    DecisionOutcome,
    ListingStatus,
    MeetingStatus,
    MinutesStatus,
    OutboxStatus,
    PollStatus,
    Role,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would otherwise hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}  # noqa: RUF012


class User(Base):
    """A person, possibly known on several platforms (see Identity)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]

    identities: Mapped[list[Identity]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )


class Identity(Base):
    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(255), index=True)
    dm_chat_id: Mapped[str | None] = mapped_column(String(255))
    unreachable_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]

    user: Mapped[User] = relationship(back_populates="identities")


class Group(Base):
    """A working group (AG, Fachgruppe, …); it may span several chats."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    chats: Mapped[list[GroupChat]] = relationship(
        back_populates="group", cascade="all, delete-orphan", passive_deletes=True
    )


class GroupChat(Base):
    __tablename__ = "group_chats"
    __table_args__ = (UniqueConstraint("platform", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]

    group: Mapped[Group] = relationship(back_populates="chats")


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER.value)
    created_at: Mapped[datetime]
    role_granted_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class OutboxMessage(Base):
    """A message to deliver later: written first, sent by the delivery worker.

    `dedupe_key` is unique per (purpose, recipient), so enqueueing the same reminder again
    after a restart is a no-op instead of a second message.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

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


class PlatformState(Base):
    """Small per-platform values that must survive restarts (e.g. Matrix's sync token)."""

    __tablename__ = "platform_state"
    __table_args__ = (UniqueConstraint("platform", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class ProcessedEvent(Base):
    """Platform events already handled, so a replayed sync never runs a command twice."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("platform", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(255))
    seen_at: Mapped[datetime] = mapped_column(index=True)


class LinkCode(Base):
    """A one-time code that links a second chat to a group, or a second identity to a person.

    Only a hash is stored; the code itself is shown once to the person who asked for it.
    """

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))  # "group", "identity" or "advisor"
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


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
    __table_args__ = (UniqueConstraint("group_id", "number"),)

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
    guest_name: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[datetime]
    recorded_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class MeetingNote(Base):
    """A discussion note ("Auszüge aus der Diskussion"), attached to the TOP current then."""

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


class Decision(Base):
    """A Beschluss, numbered per group and year (B-2021-07). Frozen once the minutes of its
    meeting are approved; a later change is a new decision that `amends` the original."""

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("group_id", "year", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="SET NULL"), index=True
    )
    agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(16), default=DecisionKind.DECISION.value)
    addressee: Mapped[str | None] = mapped_column(String(200))  # recommended to / assigned to
    text: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16), default=DecisionOutcome.NO_VOTE.value)
    votes_for: Mapped[int | None] = mapped_column(Integer)
    votes_against: Mapped[int | None] = mapped_column(Integer)
    abstentions: Mapped[int | None] = mapped_column(Integer)
    amends_decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("decisions.id", ondelete="SET NULL")
    )
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ActionItem(Base):
    """An Aufgabe, numbered per group (A-12); open items return on the next agenda."""

    __tablename__ = "action_items"
    __table_args__ = (
        UniqueConstraint("group_id", "number"),
        # Reminder sweeps look for open items by due date.
        Index("ix_action_items_status_due_date", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(16), default=ActionItemStatus.OPEN.value)
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="SET NULL"), index=True
    )
    agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="SET NULL")
    )
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id", ondelete="SET NULL"))
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class ActionItemAssignee(Base):
    """Who does it: a member (user_id) or a free-text name/organisation (name)."""

    __tablename__ = "action_item_assignees"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_item_id: Mapped[int] = mapped_column(
        ForeignKey("action_items.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(200))


class Advisor(Base):
    """An authorized advisor of the public advisor database.

    `next_step_on` is derived from the history by the pure policy and kept up to date on
    every change, so the daily run finds due advisors by index instead of evaluating all.
    """

    __tablename__ = "advisors"

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


class CalendarFeed(Base):
    """A calendar subscription URL. Only a hash of its token is stored: the URL is shown once
    to its owner, and a leaked database does not open anyone's calendar."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class MinutesObjection(Base):
    """A member's objection to a published minutes draft (Einspruch); the chair reads them
    before approving."""

    __tablename__ = "minutes_objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Poll(Base):
    """A date poll or survey of a working group; `number` counts per group, like meetings,
    so a number guessed in another group finds nothing."""

    __tablename__ = "polls"
    __table_args__ = (
        UniqueConstraint("group_id", "number"),
        Index("ix_polls_open_deadline", "status", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    deadline: Mapped[datetime | None]
    allow_maybe: Mapped[bool] = mapped_column(default=False)
    anonymous: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default=PollStatus.OPEN.value)
    chosen_position: Mapped[int | None] = mapped_column(Integer)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    reminded_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    options: Mapped[list[PollOption]] = relationship(
        back_populates="poll",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PollOption.position",
    )


class PollOption(Base):
    """A candidate slot (start, optional end) of a date poll, or a text choice of a survey."""

    __tablename__ = "poll_options"
    __table_args__ = (UniqueConstraint("poll_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1-based, as shown to people
    label: Mapped[str | None] = mapped_column(String(200))
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]

    poll: Mapped[Poll] = relationship(back_populates="options")


class PollVote(Base):
    """One person's answer to one option (changeable while the poll is open)."""

    __tablename__ = "poll_votes"
    __table_args__ = (UniqueConstraint("option_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    option_id: Mapped[int] = mapped_column(
        ForeignKey("poll_options.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    answer: Mapped[str] = mapped_column(String(8))
    answered_at: Mapped[datetime]


class PollMessage(Base):
    """Where a poll is shown: the message in one chat that is edited when answers change.

    Known from the outbox (posts to the group's other chats) or from the first button press
    on a message (the chat where the poll was started); one per chat, the latest wins.
    """

    __tablename__ = "poll_messages"
    __table_args__ = (UniqueConstraint("poll_id", "platform", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    message_id: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime]


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
