"""Per-platform values and processed-event marks that must survive a restart."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import dialect_insert
from storage.models import PlatformState, ProcessedEvent


async def get_state(session: AsyncSession, platform: str, key: str) -> str | None:
    return await session.scalar(
        select(PlatformState.value).where(
            PlatformState.platform == platform, PlatformState.key == key
        )
    )


async def set_state(
    session: AsyncSession,
    platform: str,
    key: str,
    value: str,
    now: datetime,
    *,
    account: str | None = None,
) -> None:
    """Store a value; `account` names the platform account a per-person record is about,
    so that person's erasure removes it (`forget_accounts`)."""
    statement = dialect_insert(session)(PlatformState).values(
        platform=platform, key=key, value=value, updated_at=now, account=account
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["platform", "key"],
            set_={"value": value, "updated_at": now, "account": account},
        )
    )


async def forget_accounts(session: AsyncSession, accounts: Iterable[tuple[str, str]]) -> int:
    """Erase every record about these (platform, account) pairs: a person's erasure."""
    removed = 0
    for platform, account in accounts:
        result = await session.execute(
            delete(PlatformState).where(
                PlatformState.platform == platform, PlatformState.account == account
            )
        )
        removed += int(result.rowcount)  # type: ignore[attr-defined]
    return removed


async def first_time_seen(
    session: AsyncSession, platform: str, event_id: str, now: datetime
) -> bool:
    """Record an event as handled; False if it was already (a replayed sync)."""
    statement = dialect_insert(session)(ProcessedEvent).values(
        platform=platform, event_id=event_id, seen_at=now
    )
    result = await session.execute(
        statement.on_conflict_do_nothing(index_elements=["platform", "event_id"])
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def forget_events_before(session: AsyncSession, platform: str, before: datetime) -> int:
    result = await session.execute(
        delete(ProcessedEvent).where(
            ProcessedEvent.platform == platform, ProcessedEvent.seen_at < before
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def insert_state_once(
    session: AsyncSession, platform: str, key: str, value: str, now: datetime
) -> bool:
    """Store a value unless one is stored already (the first writer wins); True if stored."""
    statement = dialect_insert(session)(PlatformState).values(
        platform=platform, key=key, value=value, updated_at=now
    )
    result = await session.execute(
        statement.on_conflict_do_nothing(index_elements=["platform", "key"])
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def forget_state_before(
    session: AsyncSession, platform: str, prefixes: tuple[str, ...], before: datetime
) -> int:
    """Drop values whose key starts with one of `prefixes` and that were last written
    before `before`: per-person records (who reacted how) are kept no longer than needed."""
    if not prefixes:
        return 0
    result = await session.execute(
        delete(PlatformState).where(
            PlatformState.platform == platform,
            PlatformState.updated_at < before,
            or_(*(PlatformState.key.startswith(prefix, autoescape=True) for prefix in prefixes)),
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
