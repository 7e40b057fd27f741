"""Calendar subscriptions (.ics feeds)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


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


class CalendarRevision(Base):
    """A counter per group that database triggers raise whenever a row a calendar feed shows
    changes (meetings, series, agenda items, action items and their assignees, the group):
    feeds' ETags read it, so no write path can leave a feed's ETag stale (migration
    0016_feedrev_calendar_revisions)."""

    __tablename__ = "calendar_revisions"

    # No foreign key: deleting a group deletes its meetings, whose triggers write here.
    group_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(BigInteger)
