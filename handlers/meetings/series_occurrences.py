"""Occurrences of meeting series as Meeting rows, created ahead up to a horizon.

Each occurrence is a real meeting (own number, agenda, attendance, minutes) that remembers
its original start as `recurrence_id`, so it can be moved or cancelled alone. The horizon
moves forward lazily when a group lists its meetings, and through `extend_series` for a
scheduler.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from handlers.meetings.actions import open_meeting
from handlers.meetings.series_rule import occurrences
from storage import meetings as meeting_store
from storage import people
from storage.db import Session
from storage.models import Meeting, MeetingSeries

HORIZON = timedelta(days=92)  # about three months of occurrences exist ahead of time


async def materialize(
    session: Session, series: MeetingSeries, *, until: datetime, now: datetime
) -> list[Meeting]:
    """Create the occurrences from `series.materialized_until` up to `until` (exclusive).

    `until` is rounded up to local midnight, so a later change of the series' clock time
    never moves an occurrence across the boundary (and lose or double it)."""
    tz = ZoneInfo(series.timezone)
    until = _next_midnight(until, tz)
    if series.ended_at is not None or until <= series.materialized_until:
        return []
    group = await people.group_by_id(session, series.group_id)
    starts = occurrences(
        series.rrule,
        series.first_starts_at,
        tz,
        after=max(series.materialized_until, series.first_starts_at),
        before=until,
    )
    created = []
    for start in starts:
        if await meeting_store.has_occurrence(session, series.id, start):
            continue
        meeting = await open_meeting(
            session,
            group,
            title=series.title,
            starts_at=start,
            ends_at=end_of(start, series.duration_minutes, tz),
            location=series.location,
            created_by_user_id=series.created_by_user_id,
            now=now,
            description=series.description,
            series_id=series.id,
            recurrence_id=start,
        )
        created.append(meeting)
    series.materialized_until = until  # flushed by the next query or the commit
    return created


def _next_midnight(moment: datetime, tz: ZoneInfo) -> datetime:
    local = moment.astimezone(tz)
    midnight = datetime.combine(local.date(), time(0), tzinfo=tz)
    if midnight < local:
        midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=tz)
    return midnight.astimezone(UTC)


def end_of(start: datetime, duration_minutes: int | None, tz: ZoneInfo) -> datetime | None:
    """The end in local wall time (a 9–10 meeting ends at 10 local even on a DST night)."""
    if duration_minutes is None:
        return None
    local = start.astimezone(tz).replace(tzinfo=None) + timedelta(minutes=duration_minutes)
    return local.replace(tzinfo=tz).astimezone(start.tzinfo)


async def extend_series(session: Session, now: datetime, group_id: int | None = None) -> int:
    """Create the occurrences that came within the horizon since the last run, for every
    running series (or one group's); returns how many meetings were created. Idempotent,
    so a scheduler may call it as often as it likes."""
    created = 0
    for series in await meeting_store.series_to_extend(session, now + HORIZON, group_id):
        created += len(await materialize(session, series, until=now + HORIZON, now=now))
    return created


def at_clock(moment: datetime, clock: time, tz: ZoneInfo) -> datetime:
    """The same local day as `moment`, at wall-clock time `clock`, in UTC."""
    local_day = moment.astimezone(tz).date()
    return datetime.combine(local_day, clock).replace(tzinfo=tz).astimezone(moment.tzinfo)
