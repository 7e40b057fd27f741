"""The rows a calendar feed is built from, as plain tuples of every column.

A feed keeps each event's serialised text keyed by the rows it was written from
(handlers/calendar/fragments.py). Whole rows make that key exact: any column that differs
gives another key, so a cached text is reused only for the very values it was written
from, whichever process changed them and however often within one clock tick. The same
tuples become (transient, never added to a session) model objects for writing an event,
so the text and its key cannot come from two different reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import AgendaItemStatus
from storage.models import AgendaItem, Meeting, MeetingSeries

Row = tuple[Any, ...]

_MEETINGS: Table = Meeting.__table__  # type: ignore[assignment]
_AGENDA: Table = AgendaItem.__table__  # type: ignore[assignment]
_SERIES: Table = MeetingSeries.__table__  # type: ignore[assignment]


async def meeting_rows(session: AsyncSession, group_ids: Sequence[int]) -> list[Row]:
    """The groups' meetings in the order `calendar.meetings_of_groups` gives them."""
    if not group_ids:
        return []
    result = await session.execute(
        select(_MEETINGS)
        .where(_MEETINGS.c.group_id.in_(group_ids))
        .order_by(_MEETINGS.c.starts_at, _MEETINGS.c.id)
    )
    return [tuple(row) for row in result]


async def agenda_rows(
    session: AsyncSession, group_ids: Sequence[int]
) -> dict[int, tuple[Row, ...]]:
    """Accepted agenda items per meeting id, in agenda order (as `calendar.agendas_of_groups`)."""
    if not group_ids:
        return {}
    result = await session.execute(
        select(_AGENDA)
        .join(_MEETINGS, _MEETINGS.c.id == _AGENDA.c.meeting_id)
        .where(
            _MEETINGS.c.group_id.in_(group_ids),
            _AGENDA.c.status == AgendaItemStatus.ACCEPTED.value,
        )
        .order_by(_AGENDA.c.meeting_id, _AGENDA.c.position, _AGENDA.c.id)
    )
    meeting_id = _index(_AGENDA, "meeting_id")
    agendas: dict[int, list[Row]] = {}
    for row in result:
        agendas.setdefault(row[meeting_id], []).append(tuple(row))
    return {key: tuple(items) for key, items in agendas.items()}


async def series_rows(session: AsyncSession, series_ids: Sequence[int]) -> dict[int, Row]:
    if not series_ids:
        return {}
    result = await session.execute(select(_SERIES).where(_SERIES.c.id.in_(series_ids)))
    return {row.id: tuple(row) for row in result}


def _index(table: Table, column: str) -> int:
    return [c.key for c in table.c].index(column)


MEETING_ID = _index(_MEETINGS, "id")
MEETING_GROUP_ID = _index(_MEETINGS, "group_id")
MEETING_SERIES_ID = _index(_MEETINGS, "series_id")
MEETING_RECURRENCE_ID = _index(_MEETINGS, "recurrence_id")


def _attributes(table: Table, model: type) -> list[str]:
    """Attribute names in column order (a column may be mapped under another name)."""
    mapper = model.__mapper__  # type: ignore[attr-defined]
    by_column = {prop.columns[0].key: prop.key for prop in mapper.column_attrs}
    return [by_column[column.key] for column in table.c]


_MEETING_ATTRS = _attributes(_MEETINGS, Meeting)
_AGENDA_ATTRS = _attributes(_AGENDA, AgendaItem)
_SERIES_ATTRS = _attributes(_SERIES, MeetingSeries)


def as_meeting(row: Row) -> Meeting:
    return Meeting(**dict(zip(_MEETING_ATTRS, row, strict=True)))


def as_agenda_item(row: Row) -> AgendaItem:
    return AgendaItem(**dict(zip(_AGENDA_ATTRS, row, strict=True)))


def as_series(row: Row) -> MeetingSeries:
    return MeetingSeries(**dict(zip(_SERIES_ATTRS, row, strict=True)))
