"""Sent messages do not keep their text forever: the retention sweep.

A delivered message is a copy of what the recipient already has, and it may hold names,
video links and calendar files. After OUTBOX_RETENTION_DAYS its payload is emptied; the row
keeps its status and dedupe key, so enqueueing the same message again stays a no-op.
After OUTBOX_COMPACT_DAYS, when no sweep can queue the same key any more, the row itself
goes, so the outbox does not grow without bound.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from handlers.context import Services
from storage import outbox

log = logging.getLogger(__name__)

BATCH = 500  # rows per transaction, so a first run on a large outbox holds no long lock


async def purge_old_payloads(services: Services, now: datetime) -> int:
    """Empty the payloads of finished messages older than the retention; returns how many."""
    before = now - timedelta(days=services.settings.outbox_retention_days)
    total = 0
    while True:
        async with services.sessions.begin() as session:
            purged = await outbox.purge_old_payloads(session, before=before, now=now, limit=BATCH)
        total += purged
        if purged < BATCH:
            break
    if total:
        log.info("emptied the payloads of %d delivered messages older than %s", total, before)
    return total


async def compact_outbox(services: Services, now: datetime) -> int:
    """Delete finished, purged rows older than OUTBOX_COMPACT_DAYS; returns how many."""
    before = now - timedelta(days=services.settings.outbox_compact_days)
    total = 0
    while True:
        async with services.sessions.begin() as session:
            deleted = await outbox.compact_finished(session, before=before, limit=BATCH)
        total += deleted
        if deleted < BATCH:
            break
    if total:
        log.info("deleted %d delivered messages older than %s from the outbox", total, before)
    return total


async def retention(services: Services, now: datetime) -> None:
    """The daily sweep: empty old payloads, then delete rows old enough to go."""
    await purge_old_payloads(services, now)
    await compact_outbox(services, now)
