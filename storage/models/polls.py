"""Date polls and surveys: options, votes, and the chat messages that show a poll."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.core.enums import PollStatus
from storage.models.base import Base


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

    Known from the outbox (posts to the group's other chats, and the reply that started the
    poll, kept there under the same key: storage.polls.shown_in) or from a button press on
    a message; here one per chat, the latest wins.
    """

    __tablename__ = "poll_messages"
    __table_args__ = (UniqueConstraint("poll_id", "platform", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    message_id: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime]
