"""Storage of the advisor registry: advisors, authorizations, handled steps, exchanges.

The escalation decision itself is the pure `handlers.advisors.policy`; this module hands out
its input as plain rows (`HistoryRecords`), writes its results, and stores `next_step_on`
(the first day with due work, computed by `handlers.advisors.actions`), so due advisors are
found by an index range scan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import AuthorizationSource, ListingStatus, StepOutcome
from bot.core.numbers import small_number
from storage import linking
from storage.calendar import as_utc
from storage.db import dialect_insert
from storage.models import (
    Advisor,
    AdvisorAuthorization,
    AdvisorInstitution,
    AdvisorLinkCode,
    AdvisorStep,
    ExchangeAttendance,
    ExperienceExchange,
    Identity,
    Membership,
)
from storage.platform_state import get_state, set_state

T = TypeVar("T")

POLICY_STATE = ("advisors", "policy")  # PlatformState row: the policy next_step_on was made by


@dataclass(frozen=True, slots=True)
class StepRecord:
    """A handled step as stored; the policy's `DoneStep` is built from it."""

    step: str
    cycle_start: date
    done_at: datetime
    outcome: str


@dataclass(frozen=True, slots=True)
class HistoryRecords:
    """One advisor's stored history: authorization days and handled steps, as read."""

    authorized_on: tuple[date, ...]
    steps: tuple[StepRecord, ...]


async def history_records(
    session: AsyncSession, advisor_ids: Sequence[int]
) -> dict[int, HistoryRecords]:
    """The history of each advisor, in two queries; flushed first, so what this transaction
    just wrote (a renewal, a recorded step) counts."""
    await session.flush()
    ids = list(advisor_ids)
    dates: dict[int, list[date]] = defaultdict(list)
    steps: dict[int, list[StepRecord]] = defaultdict(list)
    if ids:
        rows = await session.execute(
            select(AdvisorAuthorization.advisor_id, AdvisorAuthorization.authorized_on).where(
                AdvisorAuthorization.advisor_id.in_(ids)
            )
        )
        for advisor_id, day in rows:
            dates[advisor_id].append(day)
        rows = await session.execute(
            select(
                AdvisorStep.advisor_id,
                AdvisorStep.step,
                AdvisorStep.cycle_start,
                AdvisorStep.done_at,
                AdvisorStep.outcome,
            ).where(AdvisorStep.advisor_id.in_(ids))
        )
        for advisor_id, step, cycle_start, done_at, outcome in rows:
            steps[advisor_id].append(StepRecord(step, cycle_start, done_at, outcome))
    return {i: HistoryRecords(tuple(dates[i]), tuple(steps[i])) for i in ids}


async def stored_policy(session: AsyncSession) -> str | None:
    """The fingerprint of the policy the stored `next_step_on` values were computed by."""
    return await get_state(session, *POLICY_STATE)


async def store_policy(session: AsyncSession, fingerprint: str, now: datetime) -> None:
    await set_state(session, *POLICY_STATE, fingerprint, now)


async def lock_batch(session: AsyncSession, *, after_id: int, limit: int) -> list[int]:
    """The next `limit` advisor ids after `after_id`, locked for a recomputation.

    Locked before the histories are read: a concurrent daily run that records a step
    must not have its new next_step_on overwritten with one computed from older data.
    """
    return list(
        await session.scalars(
            select(Advisor.id)
            .where(Advisor.id > after_id)
            .order_by(Advisor.id)
            .limit(limit)
            .with_for_update()
        )
    )


async def set_next_steps(session: AsyncSession, next_steps: Mapping[int, date | None]) -> None:
    """Store recomputed `next_step_on` values by advisor id: one executemany, not one
    statement per advisor (10,000 advisors took 20 s after a policy change)."""
    if next_steps:
        await session.execute(
            update(Advisor),
            [{"id": advisor_id, "next_step_on": value} for advisor_id, value in next_steps.items()],
        )


async def claim_due(
    session: AsyncSession, today: date, *, after_id: int, limit: int
) -> list[Advisor]:
    """Advisors with work due by `today`, by id after `after_id`, locked for this run.

    The range condition on the indexed `next_step_on` keeps the cost proportional to the
    due advisors, not to the registry. `FOR UPDATE SKIP LOCKED` (PostgreSQL) lets a second
    bot process pass over advisors this one is handling; SQLite has a single writer.
    """
    return list(
        await session.scalars(
            select(Advisor)
            .where(Advisor.next_step_on <= today, Advisor.id > after_id)
            .order_by(Advisor.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


async def due_advisors(session: AsyncSession, today: date, limit: int | None = None) -> list[int]:
    """Ids of advisors with work due by `today` (no locks; for previews and benchmarks)."""
    query = select(Advisor.id).where(Advisor.next_step_on <= today).order_by(Advisor.id)
    if limit is not None:
        query = query.limit(limit)
    return list(await session.scalars(query))


async def record_step(
    session: AsyncSession,
    *,
    advisor_id: int,
    step: str,
    cycle_start: date,
    due_on: date,
    outcome: StepOutcome,
    now: datetime,
    outbox_key: str | None,
    no_exchange: bool = False,
) -> bool:
    """Record a handled step (a `Step` value) once; False if it was recorded already (then
    do nothing). `no_exchange`: its letter had no exchange before the deadline to offer."""
    statement = (
        dialect_insert(session)(AdvisorStep)
        .values(
            advisor_id=advisor_id,
            step=str(step),
            cycle_start=cycle_start,
            due_on=due_on,
            outcome=outcome.value,
            done_at=now,
            outbox_key=outbox_key,
            no_exchange=no_exchange,
        )
        .on_conflict_do_nothing(index_elements=["advisor_id", "step", "cycle_start"])
    )
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def add_authorization(
    session: AsyncSession,
    advisor: Advisor,
    day: date,
    *,
    source: AuthorizationSource,
    now: datetime,
    exchange_id: int | None = None,
) -> bool:
    """Add an authorization (renewal); False if that day was recorded already. The caller
    recomputes `next_step_on` (`handlers.advisors.actions.add_authorization`)."""
    statement = (
        dialect_insert(session)(AdvisorAuthorization)
        .values(
            advisor_id=advisor.id,
            authorized_on=day,
            source=source.value,
            exchange_id=exchange_id,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["advisor_id", "authorized_on"])
    )
    added = bool((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]
    advisor.updated_at = now
    return added


async def authorizations(session: AsyncSession, advisor_id: int) -> list[AdvisorAuthorization]:
    return list(
        await session.scalars(
            select(AdvisorAuthorization)
            .where(AdvisorAuthorization.advisor_id == advisor_id)
            .order_by(AdvisorAuthorization.authorized_on)
        )
    )


async def steps_of(session: AsyncSession, advisor_id: int) -> list[AdvisorStep]:
    return list(
        await session.scalars(
            select(AdvisorStep)
            .where(AdvisorStep.advisor_id == advisor_id)
            .order_by(AdvisorStep.done_at, AdvisorStep.id)
        )
    )


async def find_advisor(session: AsyncSession, ref: str) -> Advisor | None:
    """By number (`12`, `#12`) or e-mail address."""
    ref = ref.strip().lstrip("#")
    if (number := small_number(ref)) is not None:
        return await session.get(Advisor, number)
    return await session.scalar(select(Advisor).where(func.lower(Advisor.email) == ref.lower()))


async def list_advisors(
    session: AsyncSession, *, search: str | None = None, limit: int = 50
) -> tuple[list[Advisor], int]:
    """Advisors by name (optionally filtered by name, e-mail or institution) and the total."""
    query = select(Advisor)
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            or_(
                func.lower(Advisor.name).like(pattern),
                func.lower(Advisor.email).like(pattern),
                func.lower(Advisor.institution).like(pattern),
            )
        )
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(Advisor.name, Advisor.id).limit(limit))
    return list(rows), total


async def reachable_users(session: AsyncSession, user_ids: Iterable[int]) -> set[int]:
    """Persons with a chat account the bot can write to now (an open private chat, or a
    platform where the bot may open one), same rule as `outbox.enqueue_to_person`."""
    from storage.outbox import PLATFORMS_OPENING_DIRECT_CHATS

    ids = list(set(user_ids))
    if not ids:
        return set()
    rows = await session.execute(
        select(Identity.user_id, Identity.platform, Identity.dm_chat_id).where(
            Identity.user_id.in_(ids), Identity.unreachable_at.is_(None)
        )
    )
    return {
        user_id
        for user_id, platform, dm_chat_id in rows
        if dm_chat_id or platform in PLATFORMS_OPENING_DIRECT_CHATS
    }


async def has_identity(session: AsyncSession, user_id: int) -> bool:
    return (
        await session.scalar(select(Identity.id).where(Identity.user_id == user_id).limit(1))
    ) is not None


async def upcoming_exchanges(
    session: AsyncSession, *, now: datetime, user_id: int | None, limit: int
) -> list[ExperienceExchange]:
    """The next exchanges an advisor may attend: published for everyone, or in a working
    group the advisor's chat account belongs to (never another group's)."""
    visible = _visible_to(user_id)
    return list(
        await session.scalars(
            select(ExperienceExchange)
            .where(ExperienceExchange.starts_at >= now, visible)
            .order_by(ExperienceExchange.starts_at, ExperienceExchange.id)
            .limit(limit)
        )
    )


def _visible_to(user_id: int | None) -> ColumnElement[bool]:
    """Exchanges published for everyone, or in a working group the person belongs to."""
    visible = ExperienceExchange.group_id.is_(None)
    if user_id is not None:
        groups = select(Membership.group_id).where(
            Membership.user_id == user_id, Membership.left_at.is_(None)
        )
        visible = or_(visible, ExperienceExchange.group_id.in_(groups))
    return visible


async def exchanges_between(
    session: AsyncSession, *, start: datetime, end: datetime, user_id: int | None
) -> int:
    """How many exchanges the advisor could attend that start in [start, end)."""
    return (
        await session.scalar(
            select(func.count(ExperienceExchange.id)).where(
                ExperienceExchange.starts_at >= start,
                ExperienceExchange.starts_at < end,
                _visible_to(user_id),
            )
        )
        or 0
    )


async def record_attendance(
    session: AsyncSession,
    exchange: ExperienceExchange,
    advisor: Advisor,
    *,
    day: date,
    now: datetime,
    by_user_id: int | None,
) -> bool:
    """Attendance renews the authorization from the exchange's day; False if recorded.
    The caller recomputes `next_step_on`."""
    statement = (
        dialect_insert(session)(ExchangeAttendance)
        .values(
            exchange_id=exchange.id,
            advisor_id=advisor.id,
            recorded_at=now,
            recorded_by_user_id=by_user_id,
        )
        .on_conflict_do_nothing(index_elements=["exchange_id", "advisor_id"])
    )
    new = bool((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]
    await add_authorization(
        session,
        advisor,
        day,
        source=AuthorizationSource.EXCHANGE,
        now=now,
        exchange_id=exchange.id,
    )
    return new


async def unreported_steps(session: AsyncSession, *, limit: int) -> list[AdvisorStep]:
    """Handled steps not yet in a summary, locked so one process reports each once."""
    return list(
        await session.scalars(
            select(AdvisorStep)
            .where(AdvisorStep.reported_at.is_(None))
            .order_by(AdvisorStep.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


async def create_advisor(
    session: AsyncSession,
    *,
    name: str,
    email: str | None,
    institution: str,
    fields: str,
    language: str,
    authorized_on: date,
    source: AuthorizationSource,
    now: datetime,
    next_step_on: date | None,
    user_id: int | None = None,
) -> Advisor:
    """A listed advisor with their first authorization; `next_step_on` is the policy's
    answer for that history (`handlers.advisors.actions.create_advisor`)."""
    advisor = Advisor(
        name=name,
        email=email,
        institution=institution,
        fields=fields,
        language=language,
        status=ListingStatus.LISTED.value,
        user_id=user_id,
        next_step_on=next_step_on,
        created_at=now,
        updated_at=now,
    )
    session.add(advisor)
    await session.flush()
    await add_authorization(session, advisor, authorized_on, source=source, now=now)
    return advisor


async def advisors_by_id(session: AsyncSession, advisor_ids: Iterable[int]) -> dict[int, Advisor]:
    """Advisors by id, in one query (for reports and previews of many steps)."""
    ids = list(advisor_ids)
    return {a.id: a for a in await session.scalars(select(Advisor).where(Advisor.id.in_(ids)))}


async def mark_steps_reported(
    session: AsyncSession, step_ids: Sequence[int], now: datetime
) -> None:
    """The steps are in a summary now: the next report leaves them out."""
    await session.execute(
        update(AdvisorStep).where(AdvisorStep.id.in_(list(step_ids))).values(reported_at=now)
    )


def _chunks(items: list[T], size: int) -> Iterable[list[T]]:
    """Slices of `items`, so an IN list stays within every backend's parameter limit."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def existing_ids(session: AsyncSession, advisor_ids: Iterable[int]) -> set[int]:
    """Which of these advisor ids exist (checked in chunks of 500)."""
    found: set[int] = set()
    for chunk in _chunks(list(advisor_ids), 500):
        found |= set(await session.scalars(select(Advisor.id).where(Advisor.id.in_(chunk))))
    return found


async def ids_by_email(session: AsyncSession, emails: Iterable[str]) -> dict[str, int]:
    """Advisor ids by lower-cased e-mail address, for those of `emails` (lower-cased) that
    belong to an advisor (in chunks of 500)."""
    found: dict[str, int] = {}
    for chunk in _chunks(list(emails), 500):
        result = await session.execute(
            select(func.lower(Advisor.email), Advisor.id).where(
                func.lower(Advisor.email).in_(chunk)
            )
        )
        found.update({email: advisor_id for email, advisor_id in result})
    return found


async def advisor_by_id(session: AsyncSession, advisor_id: int) -> Advisor | None:
    return await session.get(Advisor, advisor_id)


async def all_advisors(session: AsyncSession) -> list[Advisor]:
    """The whole registry by id (for the CSV export)."""
    return list(await session.scalars(select(Advisor).order_by(Advisor.id)))


async def authorization_days(session: AsyncSession) -> dict[int, list[date]]:
    """Every advisor's authorization days, oldest first (for the CSV export)."""
    days: dict[int, list[date]] = {}
    rows = await session.execute(
        select(AdvisorAuthorization.advisor_id, AdvisorAuthorization.authorized_on).order_by(
            AdvisorAuthorization.authorized_on
        )
    )
    for advisor_id, day in rows:
        days.setdefault(advisor_id, []).append(day)
    return days


async def entries_version(
    session: AsyncSession, user_id: int
) -> tuple[str, datetime | None] | None:
    """A tag that changes whenever a person's advisor entries, their authorizations or their
    handled steps do, and the latest change; None if the person is no advisor (one query,
    the common case on every calendar fetch)."""
    mine = select(Advisor.id).where(Advisor.user_id == user_id)
    advisors = select(
        func.count(Advisor.id),
        func.max(Advisor.updated_at),
        func.sum(case((Advisor.status == ListingStatus.LISTED.value, Advisor.id), else_=0)),
    ).where(Advisor.user_id == user_id)
    authorizations = select(
        func.count(AdvisorAuthorization.id), func.max(AdvisorAuthorization.authorized_on)
    ).where(AdvisorAuthorization.advisor_id.in_(mine))
    steps = select(func.count(AdvisorStep.id)).where(AdvisorStep.advisor_id.in_(mine))
    count, latest, listed = (await session.execute(advisors)).one()
    if not count:
        return None
    authorized = (await session.execute(authorizations)).one()
    step_count = await session.scalar(steps)
    tag = f"{count}:{listed}:{latest}:{authorized[0]}:{authorized[1]}:{step_count}"
    return tag, as_utc(latest)


async def advisors_of_person(session: AsyncSession, user_id: int) -> list[Advisor]:
    """The advisor entries linked to a person's chat account, by id."""
    return list(
        await session.scalars(
            select(Advisor).where(Advisor.user_id == user_id).order_by(Advisor.id)
        )
    )


async def create_link_code(
    session: AsyncSession, advisor_id: int, *, purpose: str, now: datetime, valid_for: timedelta
) -> str:
    """A one-time code with which a person links their chat account to this advisor entry."""
    code = await linking.create_code(session, purpose=purpose, now=now)
    record = await linking.find_code(session, code)
    assert record is not None
    record.expires_at = now + valid_for
    session.add(AdvisorLinkCode(link_code_id=record.id, advisor_id=advisor_id))
    return code


async def advisor_of_code(session: AsyncSession, link_code_id: int) -> Advisor | None:
    """The advisor entry a redeemed code was made for, if it still exists."""
    link = await session.get(AdvisorLinkCode, link_code_id)
    return await session.get(Advisor, link.advisor_id) if link else None


async def create_exchange(
    session: AsyncSession,
    *,
    starts_at: datetime,
    ends_at: datetime | None,
    provider: str,
    place: str,
    capacity: int | None,
    group_id: int | None,
    created_by_user_id: int,
    now: datetime,
) -> ExperienceExchange:
    """Record an experience exchange (flushed, so it has its number)."""
    exchange = ExperienceExchange(
        starts_at=starts_at,
        ends_at=ends_at,
        provider=provider,
        place=place,
        capacity=capacity,
        group_id=group_id,
        created_by_user_id=created_by_user_id,
        created_at=now,
    )
    session.add(exchange)
    await session.flush()
    return exchange


async def exchange_by_id(session: AsyncSession, exchange_id: int) -> ExperienceExchange | None:
    return await session.get(ExperienceExchange, exchange_id)


async def registry_addresses(session: AsyncSession, user_ids: Iterable[int]) -> dict[int, str]:
    """The registry's e-mail address of each of these people who is a linked advisor."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(Advisor.user_id, Advisor.email)
        .where(Advisor.user_id.in_(ids), Advisor.email.is_not(None))
        .order_by(Advisor.id)
    )
    found: dict[int, str] = {}
    for user_id, email in rows:
        found.setdefault(user_id, email)
    return found


async def institutions(session: AsyncSession) -> list[AdvisorInstitution]:
    """The institutions with a summary chat or address of their own, by name."""
    return list(await session.scalars(select(AdvisorInstitution).order_by(AdvisorInstitution.name)))


async def institution_by_name(session: AsyncSession, name: str) -> AdvisorInstitution | None:
    """By name as written in the advisors' entries (case-insensitive)."""
    return await session.scalar(
        select(AdvisorInstitution).where(func.lower(AdvisorInstitution.name) == name.lower())
    )


async def institution_names(session: AsyncSession, search: str) -> list[str]:
    """The institutions named in advisors' entries that equal `search` (case-insensitive)."""
    return list(
        await session.scalars(
            select(Advisor.institution)
            .where(func.lower(Advisor.institution) == search.lower())
            .distinct()
        )
    )


async def save_institution(
    session: AsyncSession,
    name: str,
    *,
    now: datetime,
    chat: tuple[str, str] | bool | None = False,
    email: str | bool | None = False,
) -> AdvisorInstitution:
    """Set an institution's summary chat and/or address (`False`: leave as is, `None`:
    remove); a row without either is deleted, the returned object then detached."""
    row = await institution_by_name(session, name)
    if row is None:
        row = AdvisorInstitution(name=name, created_at=now, updated_at=now)
        session.add(row)
    if chat is not False:
        row.chat_platform, row.chat_id = chat if isinstance(chat, tuple) else (None, None)
    if email is not False:
        row.email = email if isinstance(email, str) else None
    row.updated_at = now
    if row.chat_id is None and row.email is None:
        if row.id is not None:
            await session.delete(row)
        else:
            session.expunge(row)
    await session.flush()
    return row


async def published_advisors(session: AsyncSession) -> list[Advisor]:
    """Listed advisors who agreed to publish anything (the public advisor list), by id."""
    return list(
        await session.scalars(
            select(Advisor)
            .where(Advisor.status == ListingStatus.LISTED.value, Advisor.published != "")
            .order_by(Advisor.id)
        )
    )


async def mark_email_unreachable(
    session: AsyncSession, key: str, reason: str, at: datetime
) -> list[Advisor]:
    """Mark every registry entry with this address (`key`: lower-cased, as
    `email_addresses.address_key` makes it) unreachable; the entries, by number. The first
    failure's day stays: it says since when; the reason is the latest one."""
    found = list(
        await session.scalars(
            select(Advisor).where(func.lower(Advisor.email) == key).order_by(Advisor.id)
        )
    )
    for advisor in found:
        if advisor.email_unreachable_at is None:
            advisor.email_unreachable_at = at
        advisor.email_unreachable_reason = reason
    return found


def set_email(advisor: Advisor, email: str) -> None:
    """Give an advisor an address: a new one (or one an admin entered again) is tried again,
    so an earlier bounce or refusal no longer holds."""
    advisor.email = email
    advisor.email_unreachable_at = advisor.email_unreachable_reason = None
