"""What a calendar feed source is: the scope it answers for and the version it reports.

Kept apart from the feed builder so that features (advisors' deadlines, …) can define
sources without importing the builder that lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.enums import FeedKind
from bot.core.settings import Settings
from handlers.calendar.events import EventStyle
from handlers.calendar.ics import CalendarEvent
from storage.db import Session
from storage.models import CalendarFeed, Group, User


@dataclass(frozen=True, slots=True)
class FeedScope:
    """Whose feed this is: one group, or one person and the groups they belong to."""

    feed: CalendarFeed
    kind: FeedKind
    groups: tuple[Group, ...]
    user: User | None
    language: str
    settings: Settings  # what sources may need of the deployment (e.g. the advisor policy)

    @property
    def group_ids(self) -> list[int]:
        return [group.id for group in self.groups]


@dataclass(frozen=True, slots=True)
class SourceVersion:
    tag: str
    last_modified: datetime | None


class FeedSource(Protocol):
    """One kind of event in a feed (meetings, action items, authorization deadlines, …).

    A new kind for the personal feed implements these two methods and is added to
    `PERSON_SOURCES` (see handlers/advisors/deadlines_feed.py for the authorization deadlines).
    """

    name: str

    async def version(self, session: Session, scope: FeedScope) -> SourceVersion:
        """Cheap: must change whenever `events` would; must not load the events."""
        ...

    async def events(
        self, session: Session, scope: FeedScope, style: EventStyle
    ) -> list[CalendarEvent]: ...
