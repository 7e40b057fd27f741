"""The rows a calendar feed is built from: exactly the fields an event is written from.

A feed keeps each event's serialised text keyed by the rows it was written from
(handlers/calendar/fragments.py), and writes the text from those same rows: named rows
(attribute access like the models) holding only the fields below. Reading any other
field of them raises AttributeError, so an event's text cannot depend on something its
key leaves out; a field the calendar starts to use is added here, and so to the key.
Fields nobody sees in a calendar (minutes status, the current TOP, …) stay out, so a
meeting in progress does not have its event written again at every step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import AgendaItemStatus
from storage.models import AgendaItem, Meeting, MeetingSeries

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


def _columns(model: type, fields: Sequence[str]) -> list[Any]:
    return [getattr(model, field) for field in fields]


async def meeting_rows(session: AsyncSession, group_ids: Sequence[int]) -> list[FeedRow]:
    """The groups' meetings in the order `calendar.meetings_of_groups` gives them."""
    if not group_ids:
        return []
    result = await session.execute(
        select(*_columns(Meeting, MEETING_FIELDS))
        .where(Meeting.group_id.in_(group_ids))
        .order_by(Meeting.starts_at, Meeting.id)
    )
    return list(result)


async def agenda_rows(
    session: AsyncSession, group_ids: Sequence[int]
) -> dict[int, tuple[FeedRow, ...]]:
    """Accepted agenda items per meeting id, in agenda order (as `calendar.agendas_of_groups`)."""
    if not group_ids:
        return {}
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
    return {key: tuple(items) for key, items in agendas.items()}


async def series_rows(session: AsyncSession, series_ids: Sequence[int]) -> dict[int, FeedRow]:
    if not series_ids:
        return {}
    result = await session.execute(
        select(*_columns(MeetingSeries, SERIES_FIELDS)).where(MeetingSeries.id.in_(series_ids))
    )
    return {row.id: row for row in result}
