"""Calendar subscription feeds: what a group's or a person's feed contains, its validator,
a cache of serialized feeds keyed by that validator, and each event's kept text for the
rebuild after a change (handlers/calendar/fragments.py).

A feed is assembled from *sources*. Each source answers two questions: a cheap `version`
(aggregate queries only, no rows loaded) and the `events` themselves. The ETag is a hash
of every source's version, so a conditional GET is answered from a few small queries
without building anything. The person feed's sources are `PERSON_SOURCES`: other features
(action items, authorization deadlines) add a source there and nothing else changes.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from bot.core.enums import FeedKind
from bot.core.i18n import Translator
from handlers.advisors.deadlines_feed import AuthorizationDeadlinesSource
from handlers.calendar.events import EventStyle, action_item_event, meeting_event, series_events
from handlers.calendar.feed_source import FeedScope, FeedSource, SourceVersion
from handlers.calendar.fragments import FragmentCache, meeting_fragments
from handlers.calendar.ics import CalendarEvent, Fragment, assemble_feed, feed_fragment, render_feed
from handlers.context import Services
from handlers.members.presence import still_member
from storage import calendar as calendar_store
from storage import people
from storage.db import Session
from storage.models import CalendarFeed, Meeting

# Bump when the rendering changes, so clients holding an old ETag get the new text.
FEED_FORMAT = "1"
FEED_PATH = "/calendar/{token}.ics"


class MeetingsSource:
    """The meetings of the scope's groups: single meetings, and each series as one RRULE
    event with its exceptions; cancelled single meetings stay in, marked cancelled."""

    name = "meetings"

    async def version(self, session: Session, scope: FeedScope) -> SourceVersion:
        tag, latest = await calendar_store.meetings_version(session, scope.group_ids)
        return SourceVersion(tag, latest)

    async def fragments(
        self, session: Session, scope: FeedScope, style: EventStyle, cache: FragmentCache
    ) -> list[Fragment]:
        """What `events` gives, serialised, each event's text reused while its rows are
        unchanged (handlers/calendar/fragments.py)."""
        return await meeting_fragments(session, scope, style, cache)

    async def events(
        self, session: Session, scope: FeedScope, style: EventStyle
    ) -> list[CalendarEvent]:
        groups = {group.id: group for group in scope.groups}
        meetings = await calendar_store.meetings_of_groups(session, scope.group_ids)
        agendas = await calendar_store.agendas_of_groups(session, scope.group_ids)
        occurrences: dict[int, list[Meeting]] = {}
        events: list[CalendarEvent] = []
        for meeting in meetings:
            if meeting.series_id is not None and meeting.recurrence_id is not None:
                occurrences.setdefault(meeting.series_id, []).append(meeting)
                continue
            events.append(
                meeting_event(
                    meeting,
                    groups[meeting.group_id],
                    style,
                    stamp=meeting.updated_at,
                    agenda=agendas.get(meeting.id, ()),
                )
            )
        series = await calendar_store.series_by_id(session, list(occurrences))
        for series_id, rows in occurrences.items():
            one = series[series_id]
            events += series_events(
                one, rows, groups[one.group_id], style, stamp=one.updated_at, agendas=agendas
            )
        return events


class ActionItemsSource:
    """A person's open action items with a due date, as all-day events."""

    name = "action_items"

    async def version(self, session: Session, scope: FeedScope) -> SourceVersion:
        if scope.user is None:
            return SourceVersion("-", None)
        tag, latest = await calendar_store.action_items_version(session, scope.user.id)
        return SourceVersion(tag, latest)

    async def events(
        self, session: Session, scope: FeedScope, style: EventStyle
    ) -> list[CalendarEvent]:
        if scope.user is None:
            return []
        items = await calendar_store.action_items_of_person(session, scope.user.id)
        groups = {group.id: group for group in scope.groups}
        for group_id in {item.group_id for item in items} - set(groups):
            try:
                groups[group_id] = await people.group_by_id(session, group_id)
            except LookupError:
                continue
        return [
            action_item_event(item, groups[item.group_id], style, item.due_date)
            for item in items
            if item.due_date is not None and item.group_id in groups
        ]


GROUP_SOURCES: tuple[FeedSource, ...] = (MeetingsSource(),)
# A person's feed. Extension point: another feature adds its source object here; see
# FeedSource for the two methods it needs.
PERSON_SOURCES: tuple[FeedSource, ...] = (
    MeetingsSource(),
    ActionItemsSource(),
    AuthorizationDeadlinesSource(),
)


@dataclass(frozen=True, slots=True)
class Validator:
    etag: str  # without quotes
    last_modified: datetime | None


@runtime_checkable
class FragmentSource(Protocol):
    """A source whose events are many and change one at a time (the meetings): it hands
    out serialised events and keeps the unchanged ones' text in `cache`."""

    async def fragments(
        self, session: Session, scope: FeedScope, style: EventStyle, cache: FragmentCache
    ) -> list[Fragment]: ...


class FeedBuilder:
    """Builds feeds, remembers the last body per feed and each event's text (both bounded),
    counts real rebuilds."""

    def __init__(
        self,
        services: Services,
        *,
        group_sources: Sequence[FeedSource] = GROUP_SOURCES,
        person_sources: Sequence[FeedSource] = PERSON_SOURCES,
        cache_bytes: int = 32 * 1024 * 1024,
        fragment_bytes: int = 32 * 1024 * 1024,
    ) -> None:
        self.services = services
        self.sources = {
            FeedKind.GROUP: tuple(group_sources),
            FeedKind.PERSON: tuple(person_sources),
        }
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[int, tuple[str, bytes]] = OrderedDict()
        self._cached_bytes = 0
        self.fragments = FragmentCache(fragment_bytes)
        self.rebuilds = 0

    async def scope(self, session: Session, feed: CalendarFeed) -> FeedScope | None:
        settings = self.services.settings
        if feed.kind == FeedKind.GROUP.value and feed.group_id is not None:
            try:
                group = await people.group_by_id(session, feed.group_id)
            except LookupError:
                return None
            return FeedScope(feed, FeedKind.GROUP, (group,), None, group.language, settings)
        if feed.kind == FeedKind.PERSON.value and feed.user_id is not None:
            user = await people.find_user(session, feed.user_id)
            if user is None:
                return None
            groups = tuple(await calendar_store.groups_of_person(session, user.id))
            if groups and self.services.presence:
                kept = await self._still_in(session, user.id)
                groups = tuple(group for group in groups if group.id in kept)
            language = user.language or settings.bot_language
            return FeedScope(feed, FeedKind.PERSON, groups, user, language, settings)
        return None

    async def _still_in(self, session: Session, user_id: int) -> set[int]:
        """The groups a person's feed may show: asked like a private message (a Telegram
        group without the bot as admin reports nobody leaving). A departure found ends the
        membership (handlers/members/presence.py) and is committed here, in the feed's own
        session: a second transaction would wait for this one's SQLite write lock."""
        now = self.services.clock.now()
        for group_id in await people.current_group_ids(session, user_id):
            await still_member(self.services, session, group_id, user_id, now)
        kept = set(await people.current_group_ids(session, user_id))
        await session.commit()
        return kept

    async def validator(self, session: Session, scope: FeedScope) -> Validator:
        settings = self.services.settings
        parts = [
            FEED_FORMAT,
            scope.kind.value,
            str(scope.feed.id),
            scope.language,
            str(settings.calendar_refresh_minutes),
            self.services.calendar_domain,
            self.services.calendar_organizer,
        ]
        parts += [f"{g.id}/{g.name}/{g.timezone}/{g.language}" for g in scope.groups]
        latest: datetime | None = None
        for source in self.sources[scope.kind]:
            version = await source.version(session, scope)
            parts.append(f"{source.name}={version.tag}")
            if version.last_modified and (latest is None or version.last_modified > latest):
                latest = version.last_modified
        digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]
        return Validator(digest, latest or scope.feed.created_at)

    async def body(self, session: Session, scope: FeedScope, validator: Validator) -> bytes:
        """The serialized feed: from the cache when the validator still matches."""
        cached = self._cache.get(scope.feed.id)
        if cached is not None and cached[0] == validator.etag:
            self._cache.move_to_end(scope.feed.id)
            return cached[1]
        body = await self.render(session, scope)
        self._remember(scope.feed.id, validator.etag, body)
        return body

    async def render(self, session: Session, scope: FeedScope) -> bytes:
        """The feed from the events' kept text where their rows are unchanged: the same
        bytes as `render_whole` (tested), writing only what changed."""
        self.rebuilds += 1
        style = self._style(scope)
        fragments: list[Fragment] = []
        for source in self.sources[scope.kind]:
            if isinstance(source, FragmentSource):
                fragments += await source.fragments(session, scope, style, self.fragments)
            else:
                events = await source.events(session, scope, style)
                fragments += [feed_fragment(event) for event in events]
        name, description = self._title(scope, style.t)
        return assemble_feed(fragments, name=name, description=description, refresh=self._refresh())

    async def render_whole(self, session: Session, scope: FeedScope) -> bytes:
        """The feed written from scratch, every event from its rows: what `render` must
        equal byte for byte."""
        style = self._style(scope)
        events: list[CalendarEvent] = []
        for source in self.sources[scope.kind]:
            events += await source.events(session, scope, style)
        events.sort(key=lambda event: (event.start, event.uid))
        name, description = self._title(scope, style.t)
        return render_feed(events, name=name, description=description, refresh=self._refresh())

    def _style(self, scope: FeedScope) -> EventStyle:
        t = Translator(scope.language)
        rsvp = self.services.router.get("rsvp")
        return EventStyle(
            t=t,
            domain=self.services.calendar_domain,
            organizer_address=self.services.calendar_organizer,
            rsvp_command="/" + (rsvp.display_name(t.language) if rsvp else "rsvp"),
            group_in_summary=scope.kind is FeedKind.PERSON,
        )

    def _title(self, scope: FeedScope, t: Translator) -> tuple[str, str]:
        if scope.kind is FeedKind.GROUP:
            name = scope.groups[0].name
            return name, t.gettext("Meetings of {group}", group=name)
        return (
            t.gettext("My working groups"),
            t.gettext("Your meetings and deadlines in all your working groups"),
        )

    def _refresh(self) -> timedelta:
        return timedelta(minutes=self.services.settings.calendar_refresh_minutes)

    def _remember(self, feed_id: int, etag: str, body: bytes) -> None:
        old = self._cache.pop(feed_id, None)
        if old is not None:
            self._cached_bytes -= len(old[1])
        if len(body) > self.cache_bytes:
            return
        self._cache[feed_id] = (etag, body)
        self._cached_bytes += len(body)
        while self._cached_bytes > self.cache_bytes:
            _, (_, dropped) = self._cache.popitem(last=False)
            self._cached_bytes -= len(dropped)


def feed_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + FEED_PATH.format(token=token)
