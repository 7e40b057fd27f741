"""iCalendar documents for invitations (.ics by DM) and subscription feeds; pure, no I/O.

Everything a calendar client needs to place an event correctly is derived here from plain
values: local times carry their TZID and every TZID gets a VTIMEZONE (generated from
zoneinfo by icalendar), so a meeting at 9:00 Europe/Berlin stays 9:00 local across both
clock changes in every client. Invitations follow iTIP (RFC 5546): the UID is stable per
meeting or occurrence, a change is the same UID with a higher SEQUENCE, a cancellation is
METHOD:CANCEL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone, vCalAddress, vDuration, vRecur

PRODID = "-//AG assistant//calendar//DE"
ICS_MIME = "text/calendar"


class Method(StrEnum):
    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


@dataclass(frozen=True, slots=True)
class Party:
    """An organizer or attendee; `address` is a URI (mailto:… or another scheme)."""

    name: str
    address: str


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One VEVENT. `start`/`end` are aware; they are written in the zone `tzid`.

    `all_day` writes DATE values (a due date has no time). A series master carries `rrule`
    (an RFC 5545 RECUR value, e.g. "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH"), optionally cut off
    at `until`, and `exdates` (cancelled occurrences); an overridden occurrence carries the
    master's UID and its original start as `recurrence_id`.
    """

    uid: str
    summary: str
    start: datetime
    tzid: str
    stamp: datetime
    end: datetime | None = None
    sequence: int = 0
    description: str = ""
    location: str | None = None
    url: str | None = None
    cancelled: bool = False
    all_day: bool = False
    categories: tuple[str, ...] = ()
    organizer: Party | None = None
    attendees: tuple[Party, ...] = ()
    alarm_before: timedelta | None = None
    rrule: str | None = None
    until: datetime | None = None
    exdates: tuple[datetime, ...] = ()
    recurrence_id: datetime | None = None
    last_modified: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)


def uid_for(kind: str, key: object, domain: str) -> str:
    """A UID that never changes for the same thing, e.g. `meeting-12@bot.example.org`."""
    return f"{kind}-{key}@{domain}"


def render_invitation(events: Sequence[CalendarEvent], method: Method) -> bytes:
    """An iTIP message: one meeting (or a series master and its overrides)."""
    if not events or len({e.uid for e in events}) != 1:
        raise ValueError("an invitation carries exactly one UID")
    calendar = _calendar()
    calendar.add("method", method.value)
    for event in events:
        calendar.add_component(_event(event, cancel=method is Method.CANCEL, invitation=True))
    _add_timezones(calendar, events)
    return calendar.to_ical()


def render_publication(events: Sequence[CalendarEvent]) -> bytes:
    """METHOD:PUBLISH: several events to add to a calendar, no replies expected (e.g. the
    experience exchanges listed in an advisor's reminder)."""
    calendar = _calendar()
    calendar.add("method", "PUBLISH")
    for event in events:
        calendar.add_component(_event(event, cancel=False, invitation=False))
    _add_timezones(calendar, events)
    return calendar.to_ical()


def render_feed(
    events: Iterable[CalendarEvent],
    *,
    name: str,
    refresh: timedelta,
    description: str = "",
) -> bytes:
    """A subscribable calendar (RFC 7986 with the common X-WR/X-PUBLISHED-TTL names)."""
    events = list(events)
    calendar = _feed_calendar(name, refresh, description)
    for event in events:
        calendar.add_component(_event(event, cancel=False, invitation=False))
    _add_timezones(calendar, events)
    return calendar.to_ical()


def _feed_calendar(name: str, refresh: timedelta, description: str) -> Calendar:
    calendar = _calendar()
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    if description:
        calendar.add("description", description)
        calendar.add("x-wr-caldesc", description)
    calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(refresh))  # unknown to icalendar: say the type
    return calendar


@dataclass(frozen=True, slots=True)
class Fragment:
    """One feed event already serialised (its VEVENT text), with what the feed around it
    needs: where it sorts, and which years of which zone it needs a VTIMEZONE for."""

    start: datetime
    uid: str
    zone: tuple[str, int, int] | None  # (tzid, first year, last year); None: all day
    text: bytes


def feed_fragment(event: CalendarEvent) -> Fragment:
    """The event as `render_feed` writes it, on its own: serialising a feed is almost all
    icalendar time, so a feed rebuilt after one change reuses the other events' text."""
    text = _event(event, cancel=False, invitation=False).to_ical()
    return Fragment(event.start, event.uid, _zone_span(event), text)


_END = b"END:VCALENDAR\r\n"


def assemble_feed(
    fragments: Iterable[Fragment], *, name: str, refresh: timedelta, description: str = ""
) -> bytes:
    """The same bytes as `render_feed` of the fragments' events (tested), from their text:
    the feed's properties, one VTIMEZONE per zone (A…Z), the events sorted by start and UID
    (a stable sort: equal keys keep the order given, as in `render_feed`'s callers)."""
    ordered = sorted(fragments, key=lambda fragment: (fragment.start, fragment.uid))
    head = _feed_calendar(name, refresh, description).to_ical()
    if not head.endswith(_END):
        raise AssertionError("icalendar no longer ends a calendar with END:VCALENDAR")
    spans = _merge_spans(fragment.zone for fragment in ordered)
    parts = [head[: -len(_END)]]
    parts += [_feed_vtimezone(tzid, *spans[tzid]) for tzid in sorted(spans)]
    parts += [fragment.text for fragment in ordered]
    parts.append(_END)
    return b"".join(parts)


def _calendar() -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    return calendar


def _local(moment: datetime, tzid: str) -> datetime:
    return moment.astimezone(ZoneInfo(tzid))


def _event(item: CalendarEvent, *, cancel: bool, invitation: bool) -> Event:
    event = Event()
    event.add("uid", item.uid)
    event.add("dtstamp", item.stamp)
    if item.all_day:
        day = _local(item.start, item.tzid).date()
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
    else:
        event.add("dtstart", _local(item.start, item.tzid))
        if item.end is not None:
            event.add("dtend", _local(item.end, item.tzid))
    if item.recurrence_id is not None:
        event.add("recurrence-id", _local(item.recurrence_id, item.tzid))
    if item.rrule:
        event.add("rrule", _recur(item.rrule, item.until))
        if item.exdates:
            event.add("exdate", [_local(moment, item.tzid) for moment in item.exdates])
    event.add("sequence", item.sequence)
    event.add("summary", item.summary)
    if item.description:
        event.add("description", item.description)
    if item.location:
        event.add("location", item.location)
    if item.url:
        event.add("url", item.url)
    if item.categories:
        event.add("categories", list(item.categories))
    if item.last_modified is not None:
        event.add("last-modified", item.last_modified)
    cancelled = cancel or item.cancelled
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if item.all_day else "OPAQUE")
    if item.organizer is not None:
        event.add("organizer", _address(item.organizer))
    if invitation:
        for person in item.attendees:
            attendee = _address(person)
            attendee.params.update(
                {
                    "CUTYPE": "INDIVIDUAL",
                    "ROLE": "REQ-PARTICIPANT",
                    "PARTSTAT": "NEEDS-ACTION",
                }
            )
            event.add("attendee", attendee, encode=False)
    if item.alarm_before is not None and not cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", item.summary)
        alarm.add("trigger", -item.alarm_before)
        event.add_component(alarm)
    for key, value in item.extra.items():
        event.add(key, value)
    return event


def _recur(rule: str, until: datetime | None) -> vRecur:
    recur = vRecur.from_ical(rule.removeprefix("RRULE:"))
    if until is not None:
        # A series ended early: its last occurrence is before `until`. COUNT and UNTIL are
        # exclusive; with a TZID start, UNTIL must be given in UTC (RFC 5545 3.3.10).
        recur.pop("COUNT", None)
        recur["UNTIL"] = [until.astimezone(UTC)]
    return recur


def _address(party: Party) -> vCalAddress:
    address = vCalAddress(party.address)
    address.params["CN"] = party.name
    return address


def _zone_span(event: CalendarEvent) -> tuple[str, int, int] | None:
    """The zone a timed event is written in and the years its VTIMEZONE must cover."""
    if event.all_day:
        return None
    moments = [event.start, event.end or event.start, *event.exdates]
    if event.recurrence_id is not None:
        moments.append(event.recurrence_id)
    low, high = min(m.year for m in moments), max(m.year for m in moments)
    if event.rrule:
        high += _RRULE_YEARS  # a series goes on past its first dates
    return event.tzid, low, high


def _merge_spans(zones: Iterable[tuple[str, int, int] | None]) -> dict[str, tuple[int, int]]:
    spans: dict[str, tuple[int, int]] = {}
    for zone in zones:
        if zone is None:
            continue
        tzid, low, high = zone
        first, last = spans.get(tzid, (low, high))
        spans[tzid] = (min(first, low), max(last, high))
    return spans


def _add_timezones(calendar: Calendar, events: Sequence[CalendarEvent]) -> None:
    """One VTIMEZONE per TZID used by a timed event, covering every date in the calendar."""
    spans = _merge_spans(_zone_span(event) for event in events)
    for tzid in sorted(spans, reverse=True):  # inserted at the front: A…Z at the top
        first, last = spans[tzid]
        # Components are mutable: every calendar gets its own parsed copy of the cached text.
        calendar.subcomponents.insert(0, Timezone.from_ical(_vtimezone(tzid, first, last)))


_RRULE_YEARS = 10


@lru_cache(maxsize=64)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> bytes:
    """Generating a VTIMEZONE walks zoneinfo's transitions; the same span is asked often."""
    return Timezone.from_tzid(
        tzid, first_date=date(first_year - 1, 1, 1), last_date=date(last_year + 2, 1, 1)
    ).to_ical()


@lru_cache(maxsize=64)
def _feed_vtimezone(tzid: str, first_year: int, last_year: int) -> bytes:
    """The VTIMEZONE as it stands in a serialised calendar (parsed and written again, as
    `_add_timezones` puts it there)."""
    return Timezone.from_ical(_vtimezone(tzid, first_year, last_year)).to_ical()


@dataclass(frozen=True, slots=True)
class OurUid:
    """What one of our UIDs names: its kind (`meeting`, `series`, …) and number."""

    kind: str
    key: int


_UID_KIND_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz-")


def parse_uid(uid: str, domain: str) -> OurUid | None:
    """The inverse of `uid_for` for UIDs of our `domain`; None for any other UID. A calendar
    reply can quote any UID, so only this shape with exactly our domain (host names compare
    case-insensitively) counts as ours."""
    local, at, uid_domain = uid.strip().rpartition("@")
    if not at or not domain.strip() or uid_domain.lower() != domain.strip().lower():
        return None
    kind, dash, key = local.rpartition("-")
    if not dash or not kind or kind.strip("-") != kind or not set(kind) <= _UID_KIND_LETTERS:
        return None
    if not (key.isascii() and key.isdigit()) or len(key) > 18:
        return None
    return OurUid(kind, int(key))
