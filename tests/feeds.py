"""Calendar feeds in tests: the feed token in the bot's answer, and a meeting series with a
moved and a cancelled occurrence, stored directly as the series handlers store them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.app import Core
from bot.core.enums import MeetingStatus
from storage.models import Group, Meeting, MeetingSeries

FEED_TOKEN = re.compile(r"/calendar/([A-Za-z0-9_-]+)\.ics")


def feed_token_in(text: str) -> str:
    """The token of the feed URL in `text` (`/calendar/<token>.ics`)."""
    match = FEED_TOKEN.search(text)
    assert match, text
    return match.group(1)


async def add_jour_fixe_series(core: Core) -> None:
    """Every 2nd Thursday 9–10 Uhr from 2.9.2021, four times; the 3rd is cancelled, the 2nd
    moved to 11 Uhr (as the series handlers will store it)."""
    now = core.services.clock.now()
    first = datetime(2021, 9, 2, 7, 0, tzinfo=UTC)  # 9:00 CEST
    async with core.services.sessions() as session, session.begin():
        group = await session.scalar(select(Group))
        series = MeetingSeries(
            group_id=group.id,
            title="Jour fixe",
            rrule="FREQ=WEEKLY;INTERVAL=2;COUNT=4",
            first_starts_at=first,
            timezone="Europe/Berlin",
            duration_minutes=60,
            location=None,
            materialized_until=first + timedelta(weeks=8),
            sequence=0,
            created_at=now,
            updated_at=now,
        )
        session.add(series)
        await session.flush()
        for index in range(4):
            original = first + timedelta(weeks=2 * index)
            start = original + timedelta(hours=2) if index == 1 else original
            session.add(
                Meeting(
                    group_id=group.id,
                    number=10 + index,
                    title="Jour fixe",
                    starts_at=start,
                    ends_at=start + timedelta(hours=1),
                    status=(
                        MeetingStatus.CANCELLED.value
                        if index == 2
                        else MeetingStatus.SCHEDULED.value
                    ),
                    series_id=series.id,
                    recurrence_id=original,
                    sequence=1 if index in (1, 2) else 0,
                    created_at=now,
                    updated_at=now,
                )
            )
