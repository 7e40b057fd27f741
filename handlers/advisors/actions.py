"""Changes to the advisor registry that keep `Advisor.next_step_on` current.

Storage writes and reads the rows; the pure policy (`handlers.advisors.policy`) says from
an advisor's history which day work is due next. Every change to a history (an
authorization, attendance, a recorded step) goes through here, so the stored day is never
stale and the daily run can find due advisors by an index range.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from bot.core.enums import AuthorizationSource, ListingStatus, StepOutcome
from handlers.advisors.policy import AdvisorHistory, DoneStep, EscalationPolicy, Step, next_due_on
from storage import advisors as advisor_store
from storage.db import Session

if TYPE_CHECKING:
    from storage.models import Advisor, ExperienceExchange


def as_history(records: advisor_store.HistoryRecords) -> AdvisorHistory:
    """The policy's view of stored rows: steps recorded as missed do not count as sent."""
    return AdvisorHistory(
        records.authorized_on,
        tuple(
            DoneStep(
                Step(s.step),
                s.cycle_start,
                s.done_at.date(),
                missed=s.outcome == StepOutcome.MISSED,
            )
            for s in records.steps
        ),
    )


async def histories(session: Session, advisor_ids: Sequence[int]) -> dict[int, AdvisorHistory]:
    """The policy input of each advisor, in two queries."""
    found = await advisor_store.history_records(session, advisor_ids)
    return {advisor_id: as_history(records) for advisor_id, records in found.items()}


async def history(session: Session, advisor_id: int) -> AdvisorHistory:
    return (await histories(session, [advisor_id]))[advisor_id]


async def refresh_next_step(
    session: Session, advisor: Advisor, policy: EscalationPolicy | None
) -> None:
    """Recompute `next_step_on` after the history changed (no policy: nothing is due)."""
    advisor.next_step_on = (
        next_due_on(await history(session, advisor.id), policy) if policy else None
    )


async def recompute_batch(
    session: Session, policy: EscalationPolicy | None, *, after_id: int, limit: int
) -> int | None:
    """Recompute `next_step_on` for the next `limit` advisors by id; the last id, or None."""
    ids = await advisor_store.lock_batch(session, after_id=after_id, limit=limit)
    if not ids:
        return None
    found = await histories(session, ids)
    await advisor_store.set_next_steps(
        session, {i: next_due_on(found[i], policy) if policy else None for i in ids}
    )
    return ids[-1]


async def create_advisor(
    session: Session,
    *,
    name: str,
    email: str | None,
    institution: str,
    fields: str,
    language: str,
    authorized_on: date,
    source: AuthorizationSource,
    now: datetime,
    policy: EscalationPolicy | None,
    user_id: int | None = None,
) -> Advisor:
    """A listed advisor with a first authorization, due day included."""
    first = AdvisorHistory((authorized_on,))
    return await advisor_store.create_advisor(
        session,
        name=name,
        email=email,
        institution=institution,
        fields=fields,
        language=language,
        authorized_on=authorized_on,
        source=source,
        now=now,
        next_step_on=next_due_on(first, policy) if policy else None,
        user_id=user_id,
    )


async def add_authorization(
    session: Session,
    advisor: Advisor,
    day: date,
    *,
    source: AuthorizationSource,
    now: datetime,
    policy: EscalationPolicy | None,
) -> bool:
    """Add an authorization (renewal); False if that day was recorded already."""
    added = await advisor_store.add_authorization(session, advisor, day, source=source, now=now)
    await refresh_next_step(session, advisor, policy)
    return added


async def record_attendance(
    session: Session,
    exchange: ExperienceExchange,
    advisor: Advisor,
    *,
    day: date,
    now: datetime,
    by_user_id: int | None,
    policy: EscalationPolicy | None,
) -> bool:
    """Attendance renews the authorization from the exchange's day; False if recorded."""
    new = await advisor_store.record_attendance(
        session, exchange, advisor, day=day, now=now, by_user_id=by_user_id
    )
    await refresh_next_step(session, advisor, policy)
    return new


async def delist(
    session: Session,
    advisor: Advisor,
    *,
    cycle_start: date,
    due_on: date,
    now: datetime,
    policy: EscalationPolicy | None,
) -> None:
    """A delisting by hand or by import, recorded like the policy's, so no letters follow
    and a renewal relists."""
    await advisor_store.record_step(
        session,
        advisor_id=advisor.id,
        step=Step.DELISTING,
        cycle_start=cycle_start,
        due_on=due_on,
        outcome=StepOutcome.MANUAL,
        now=now,
        outbox_key=None,
    )
    advisor.status = ListingStatus.DELISTED.value
    await refresh_next_step(session, advisor, policy)
