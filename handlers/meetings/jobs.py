"""Meeting series get their occurrences from the sweep."""

from __future__ import annotations

from datetime import datetime

from handlers.context import Job, Services
from handlers.meetings.series_occurrences import extend_series


async def extend_all_series(services: Services, now: datetime) -> int:
    """Materialize series occurrences that came within the horizon (one transaction)."""
    async with services.sessions.begin() as session:
        return await extend_series(session, now)


# Series occurrences are made three months ahead, long before any reminder is due.
JOBS = (Job("series_occurrences", extend_all_series),)
