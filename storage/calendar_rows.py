"""The rows a calendar feed is built from: exactly the fields an event is written from.

A feed keeps each event's serialised text keyed by the rows it was written from
(handlers/calendar/fragments.py), and writes the text from those same rows. Two shapes:

- the row as read, times as the database hands them over (SQLite: text), so the many
  rows that only form a key cost no date parsing; equal stored values, equal key;
- its *view* (`FeedRows.view`): a named tuple of the same fields with times parsed as the
  models parse them (`UTCDateTime`), for writing an event. It holds only the fields
  below, so reading any other raises AttributeError: an event's text cannot depend on
  something its key leaves out. A field the calendar starts to use is added here.

Fields nobody sees in a calendar (minutes status, the current TOP, …) stay out, so a
meeting in progress does not have its event written again at every step.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, String, select, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import AgendaItemStatus
from storage.models import AgendaItem, Meeting, MeetingSeries
from storage.models.base import UTCDateTime

FeedRow = Row[Any]

MEETING_FIELDS = (
    "id",
    "group_id",
    "number",
    "title",
    "starts_at",
    "ends_at",
    "location",
    "status",
    "description",
    "series_id",
    "recurrence_id",
    "sequence",
    "updated_at",
)
AGENDA_FIELDS = ("id", "meeting_id", "position", "kind", "title", "presenter_name", "planned_start")
SERIES_FIELDS = (
    "id",
    "group_id",
    "title",
    "rrule",
    "first_starts_at",
    "timezone",
    "duration_minutes",
    "location",
    "description",
    "sequence",
    "ended_at",
    "updated_at",
)

MeetingView = namedtuple("MeetingView", MEETING_FIELDS)
AgendaItemView = namedtuple("AgendaItemView", AGENDA_FIELDS)
SeriesView = namedtuple("SeriesView", SERIES_FIELDS)


@dataclass(frozen=True, slots=True)
class FeedRows:
    """Rows as read, and how to view one with typed fields (see the module docstring)."""

    rows: list[FeedRow]
    view: Callable[[FeedRow], tuple[Any, ...]]


def _columns(model: type, fields: Sequence[str]) -> list[Any]:
    """The fields; times untyped (read as stored: parsed only in `view`)."""
    columns = []
    for field in fields:
        column = getattr(model, field)
        if isinstance(column.type, UTCDateTime):
            column = type_coerce(column, String).label(field)
        columns.append(column)
    return columns


def _viewer(
    model: type, fields: Sequence[str], shape: type, dialect: Dialect
) -> Callable[[FeedRow], tuple[Any, ...]]:
    """Parses the time fields exactly as the model's column type does on this backend."""
    processors: list[Callable[[Any], Any] | None] = []
    for field in fields:
        kind = getattr(model, field).type
        processors.append(
            kind.dialect_impl(dialect).result_processor(dialect, None)
            if isinstance(kind, UTCDateTime)
            else None
        )

    def view(row: FeedRow) -> tuple[Any, ...]:
        return shape(
            *(
                value if parse is None else parse(value)
                for parse, value in zip(processors, row, strict=True)
            )
        )

    return view


def _dialect(session: AsyncSession) -> Dialect:
    return session.get_bind().dialect


async def meeting_rows(session: AsyncSession, group_ids: Sequence[int]) -> FeedRows:
    """The groups' meetings in the order `calendar.meetings_of_groups` gives them."""
    view = _viewer(Meeting, MEETING_FIELDS, MeetingView, _dialect(session))
    if not group_ids:
        return FeedRows([], view)
    result = await session.execute(
        select(*_columns(Meeting, MEETING_FIELDS))
        .where(Meeting.group_id.in_(group_ids))
        .order_by(Meeting.starts_at, Meeting.id)
    )
    return FeedRows(list(result), view)


async def agenda_rows(
    session: AsyncSession, group_ids: Sequence[int]
) -> tuple[dict[int, tuple[FeedRow, ...]], Callable[[FeedRow], tuple[Any, ...]]]:
    """Accepted agenda items per meeting id, in agenda order (as `calendar.agendas_of_groups`),
    and their view."""
    view = _viewer(AgendaItem, AGENDA_FIELDS, AgendaItemView, _dialect(session))
    if not group_ids:
        return {}, view
    result = await session.execute(
        select(*_columns(AgendaItem, AGENDA_FIELDS))
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(
            Meeting.group_id.in_(group_ids),
            AgendaItem.status == AgendaItemStatus.ACCEPTED.value,
        )
        .order_by(AgendaItem.meeting_id, AgendaItem.position, AgendaItem.id)
    )
    agendas: dict[int, list[FeedRow]] = {}
    for row in result:
        agendas.setdefault(row.meeting_id, []).append(row)
    return {key: tuple(items) for key, items in agendas.items()}, view


async def series_rows(session: AsyncSession, series_ids: Sequence[int]) -> FeedRows:
    view = _viewer(MeetingSeries, SERIES_FIELDS, SeriesView, _dialect(session))
    if not series_ids:
        return FeedRows([], view)
    result = await session.execute(
        select(*_columns(MeetingSeries, SERIES_FIELDS)).where(MeetingSeries.id.in_(series_ids))
    )
    return FeedRows(list(result), view)
