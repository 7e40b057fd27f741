"""Feed events serialised once: a feed rebuilt after one change writes only that event.

Serialising is almost all of a feed's cost (icalendar writes every property of every
event), while a change touches one meeting. So each event's text is kept, keyed by
everything it is written from: the reader's style (language, domain, organizer, answer
command, whether the group is named), the group's id, name and zone, and the meeting's
row with its accepted agenda items' rows (a series: its row, every occurrence's and their
agendas). The text is written from the very rows that form its key (typed views of them,
holding only the fields the key covers: storage/calendar_rows.py). Equal keys write equal text,
so reuse is exact — not a guess from timestamps — and a cache in one process cannot go
stale when another process changes the database: the rows are read on every rebuild and
a changed row is a new key.

The cache is per process, least recently used first out, bounded by an estimate of the
bytes it holds (texts and keys).
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence

from handlers.calendar.events import EventStyle, meeting_event, series_events
from handlers.calendar.feed_source import FeedScope
from handlers.calendar.ics import Fragment, feed_fragment
from storage import calendar_rows as rows_store
from storage.calendar_rows import FeedRow
from storage.db import Session
from storage.models import Group

_ENTRY_OVERHEAD = 200  # the OrderedDict slot, the tuple and Fragment objects, roughly


def _size(value: object) -> int:
    """Bytes a key or text takes, roughly (containers and their items)."""
    if isinstance(value, tuple):
        return sys.getsizeof(value) + sum(_size(item) for item in value)
    return sys.getsizeof(value)


class FragmentCache:
    """Serialised events by key; evicts the least recently used beyond `max_bytes`."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[tuple[Fragment, ...], int]] = OrderedDict()
        self.bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> tuple[Fragment, ...] | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[0]

    def put(self, key: Hashable, fragments: tuple[Fragment, ...]) -> tuple[Fragment, ...]:
        size = _ENTRY_OVERHEAD + _size(key)
        size += sum(len(f.text) + _size(f.uid) + _ENTRY_OVERHEAD for f in fragments)
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= old[1]
        if size > self.max_bytes:
            return fragments
        self._entries[key] = (fragments, size)
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, (_, dropped) = self._entries.popitem(last=False)
            self.bytes -= dropped
        return fragments


def _values(rows: Sequence[FeedRow]) -> tuple[tuple[object, ...], ...]:
    """Rows as plain tuples for a key: equal values, equal key; a kept key holds no
    reference to the query result it came from."""
    return tuple(tuple(row) for row in rows)


def _group_key(group: Group) -> tuple[object, ...]:
    """What of the group an event's text says: its name, and the zone times are in."""
    return (group.id, group.name, group.timezone)


async def meeting_fragments(
    session: Session, scope: FeedScope, style: EventStyle, cache: FragmentCache
) -> list[Fragment]:
    """The scope's meetings as `MeetingsSource.events` writes them, serialised, in the same
    order (single meetings by start, then each series: master, overrides)."""
    groups = {group.id: group for group in scope.groups}
    group_keys = {group.id: _group_key(group) for group in scope.groups}
    style_key = style.cache_key
    meetings = await rows_store.meeting_rows(session, scope.group_ids)
    agendas, agenda_view = await rows_store.agenda_rows(session, scope.group_ids)
    fragments: list[Fragment] = []
    occurrences: dict[int, list[FeedRow]] = {}
    for row in meetings.rows:
        if row.series_id is not None and row.recurrence_id is not None:
            occurrences.setdefault(row.series_id, []).append(row)
            continue
        agenda = agendas.get(row.id, ())
        key = ("meeting", style_key, group_keys[row.group_id], tuple(row), _values(agenda))
        found = cache.get(key)
        if found is None:
            meeting = meetings.view(row)  # a Meeting's calendar fields, typed
            event = meeting_event(
                meeting,
                groups[row.group_id],
                style,
                stamp=meeting.updated_at,
                agenda=[agenda_view(item) for item in agenda],
            )
            found = cache.put(key, (feed_fragment(event),))
        fragments += found
    if not occurrences:
        return fragments
    series = await rows_store.series_rows(session, list(occurrences))
    by_id = {row.id: row for row in series.rows}
    for series_id, members in occurrences.items():
        own_agendas = tuple(agendas.get(row.id, ()) for row in members)
        one = by_id[series_id]
        key = (
            "series",
            style_key,
            group_keys[one.group_id],
            tuple(one),
            _values(members),
            tuple(_values(agenda) for agenda in own_agendas),
        )
        found = cache.get(key)
        if found is None:
            found = cache.put(
                key,
                _series_texts(
                    one, members, own_agendas, groups, style, series, meetings, agenda_view
                ),
            )
        fragments += found
    return fragments


def _series_texts(
    one: FeedRow,
    members: Sequence[FeedRow],
    own_agendas: tuple[tuple[FeedRow, ...], ...],
    groups: dict[int, Group],
    style: EventStyle,
    series: rows_store.FeedRows,
    meetings: rows_store.FeedRows,
    agenda_view: Callable[[FeedRow], tuple[object, ...]],
) -> tuple[Fragment, ...]:
    """A series is one unit: its master's EXDATEs and its overrides depend on every
    occurrence, so any change to one of them writes the series again."""
    master = series.view(one)  # a MeetingSeries' calendar fields, typed
    typed = [meetings.view(row) for row in members]
    events = series_events(
        master,
        typed,
        groups[master.group_id],
        style,
        stamp=master.updated_at,
        agendas={
            meeting.id: [agenda_view(item) for item in agenda]
            for meeting, agenda in zip(typed, own_agendas, strict=True)
            if agenda
        },
    )
    return tuple(feed_fragment(event) for event in events)
