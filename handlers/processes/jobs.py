"""Handled update ids do not pile up: a daily sweep forgets those the platform no longer
redelivers."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from handlers.context import Job, Services
from storage import processes

log = logging.getLogger(__name__)


async def purge_handled_updates(services: Services, now: datetime) -> int:
    """Delete update claims older than TELEGRAM_UPDATE_RETENTION_HOURS; returns how many."""
    before = now - timedelta(hours=services.settings.telegram_update_retention_hours)
    async with services.sessions.begin() as session:
        gone = await processes.purge_updates(session, before)
    if gone:
        log.info("forgot %d handled updates from before %s", gone, before)
    return gone


JOBS = (Job("handled_updates_retention", purge_handled_updates, daily=True),)
