"""Feed events serialised once: a feed rebuilt after one change writes only that event.

Serialising is almost all of a feed's cost (icalendar writes every property of every
event), while a change touches one meeting. So each event's text is kept, keyed by
everything it is written from: the reader's style (language, domain, organizer, answer
command, whether the group is named), the group's id, name and zone, and the meeting's
row with its accepted agenda items' rows (a series: its row, every occurrence's and their
agendas). The text is written from the very rows that form its key, and those rows hold
only the fields the key covers (storage/calendar_rows.py). Equal keys write equal text,
so reuse is exact — not a guess from timestamps — and a cache in one process cannot go
stale when another process changes the database: the rows are read on every rebuild and
a changed row is a new key.

The cache is per process, least recently used first out, bounded by an estimate of the
bytes it holds (texts and keys).
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Hashable, Sequence

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
    rows = await rows_store.meeting_rows(session, scope.group_ids)
    agendas = await rows_store.agenda_rows(session, scope.group_ids)
    fragments: list[Fragment] = []
    occurrences: dict[int, list[FeedRow]] = {}
    for row in rows:
        if row.series_id is not None and row.recurrence_id is not None:
            occurrences.setdefault(row.series_id, []).append(row)
            continue
        agenda = agendas.get(row.id, ())
        key = ("meeting", style_key, group_keys[row.group_id], tuple(row), _values(agenda))
        found = cache.get(key)
        if found is None:
            event = meeting_event(
                row,  # a Meeting's calendar fields (storage/calendar_rows.py)
                groups[row.group_id],
                style,
                stamp=row.updated_at,
                agenda=agenda,
            )
            found = cache.put(key, (feed_fragment(event),))
        fragments += found
    series = await rows_store.series_rows(session, list(occurrences))
    for series_id, members in occurrences.items():
        fragments += _series_fragments(
            series[series_id], members, agendas, groups, group_keys, style, style_key, cache
        )
    return fragments


def _series_fragments(
    series: FeedRow,
    members: Sequence[FeedRow],
    agendas: dict[int, tuple[FeedRow, ...]],
    groups: dict[int, Group],
    group_keys: dict[int, tuple[object, ...]],
    style: EventStyle,
    style_key: tuple[object, ...],
    cache: FragmentCache,
) -> tuple[Fragment, ...]:
    """A series is one unit: its master's EXDATEs and its overrides depend on every
    occurrence, so any change to one of them writes the series again."""
    own_agendas = tuple(agendas.get(row.id, ()) for row in members)
    key = (
        "series",
        style_key,
        group_keys[series.group_id],
        tuple(series),
        tuple(tuple(row) for row in members),
        tuple(_values(agenda) for agenda in own_agendas),
    )
    found = cache.get(key)
    if found is not None:
        return found
    events = series_events(
        series,  # a MeetingSeries' calendar fields (storage/calendar_rows.py)
        members,
        groups[series.group_id],
        style,
        stamp=series.updated_at,
        agendas={
            row.id: agenda for row, agenda in zip(members, own_agendas, strict=True) if agenda
        },
    )
    return cache.put(key, tuple(feed_fragment(event) for event in events))
