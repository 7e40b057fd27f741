"""Queries of the organisation digest (Infodienst) and the steering body: settings,
destinations, the record of sent periods, each group's share, and what a digest reads.

Every reader of group content here takes `shares` (group id → the chair's choice) and
keeps only decisions of approved minutes: the rule of what may leave a group is applied
in the query, not left to the renderer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select

from bot.core.enums import (
    ActionItemStatus,
    DecisionKind,
    InboxStatus,
    ListingStatus,
    MeetingStatus,
    MinutesStatus,
)
from storage.db import Session, dialect_insert
from storage.models import (
    ActionItem,
    Advisor,
    AdvisorStep,
    Decision,
    DigestDestination,
    DigestRun,
    DigestShare,
    Group,
    InboxItem,
    Meeting,
    OrganisationSettings,
)
from storage.organisation import approved_decisions

SHARE_APPROVED = "approved"  # decisions of approved minutes, and the meetings they announce
SHARE_FORWARDED = "forwarded"  # only recommendations and assignments of approved minutes
SHARE_NONE = "none"  # nothing of the group
FORWARDED_KINDS = (DecisionKind.RECOMMENDATION.value, DecisionKind.ASSIGNMENT.value)

# --- settings -------------------------------------------------------------------------------


async def organisation_settings(session: Session) -> OrganisationSettings | None:
    return await session.get(OrganisationSettings, 1)


async def update_settings(session: Session, now: datetime, **values: object) -> None:
    """Set `digest_frequency` and/or `steering_group_id` (one row, created on first use)."""
    statement = dialect_insert(session)(OrganisationSettings).values(
        {"id": 1, "digest_frequency": "weekly", **values, "updated_at": now}
    )
    await session.execute(
        statement.on_conflict_do_update(index_elements=["id"], set_={**values, "updated_at": now})
    )


# --- destinations ---------------------------------------------------------------------------


async def add_destination(
    session: Session,
    *,
    platform: str,
    target: str,
    target_key: str,
    user_id: int | None,
    language: str,
    added_by: int,
    now: datetime,
) -> bool:
    """True when it is new (adding one twice keeps one)."""
    statement = (
        dialect_insert(session)(DigestDestination)
        .values(
            platform=platform,
            target=target,
            target_key=target_key,
            user_id=user_id,
            language=language,
            added_by_user_id=added_by,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["platform", "target_key"])
    )
    return bool((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]


async def remove_destination(session: Session, platform: str, target_key: str) -> bool:
    result = await session.execute(
        delete(DigestDestination).where(
            DigestDestination.platform == platform, DigestDestination.target_key == target_key
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def destinations(session: Session) -> list[DigestDestination]:
    return list(await session.scalars(select(DigestDestination).order_by(DigestDestination.id)))


# --- sent periods ---------------------------------------------------------------------------


async def last_run(session: Session) -> DigestRun | None:
    return await session.scalar(select(DigestRun).order_by(DigestRun.until.desc()).limit(1))


async def claim_period(
    session: Session, *, period_key: str, since: datetime, until: datetime, now: datetime
) -> bool:
    """Record the period as sent; False when it was (another process, or before a restart).
    Written in the transaction that queues the digest, so both happen or neither."""
    statement = (
        dialect_insert(session)(DigestRun)
        .values(period_key=period_key, since=since, until=until, sent_at=now)
        .on_conflict_do_nothing(index_elements=["period_key"])
    )
    return bool((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]


# --- shares ---------------------------------------------------------------------------------


async def shares(session: Session) -> dict[int, str]:
    """Every group's choice; a group without a row shares SHARE_APPROVED."""
    groups = await session.scalars(select(Group.id))
    chosen = dict((await session.execute(select(DigestShare.group_id, DigestShare.share))).all())
    return {group_id: chosen.get(group_id, SHARE_APPROVED) for group_id in groups}


async def set_share(
    session: Session, *, group_id: int, share: str, user_id: int, now: datetime
) -> None:
    statement = dialect_insert(session)(DigestShare).values(
        group_id=group_id, share=share, set_by_user_id=user_id, updated_at=now
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["group_id"],
            set_={"share": share, "set_by_user_id": user_id, "updated_at": now},
        )
    )


def _kinds_shared(shares: Mapping[int, str], group_id: int) -> Sequence[str] | None:
    """The decision kinds of a group that may leave it; None: all kinds, (): none."""
    share = shares.get(group_id, SHARE_NONE)  # a group unknown to `shares` shares nothing
    if share == SHARE_APPROVED:
        return None
    return FORWARDED_KINDS if share == SHARE_FORWARDED else ()


def _shared(shares: Mapping[int, str], decision: Decision) -> bool:
    kinds = _kinds_shared(shares, decision.group_id)
    return kinds is None or decision.kind in kinds


# --- what a digest reads --------------------------------------------------------------------


@dataclass(frozen=True)
class SharedDecision:
    decision: Decision
    meeting: Meeting
    group: str


async def decisions_approved_between(
    session: Session, shares: Mapping[int, str], since: datetime, until: datetime
) -> list[SharedDecision]:
    """Decisions whose minutes were approved in [since, until), as their groups share them;
    recommendations and assignments first, then by group and number."""
    rows = await session.execute(
        select(Decision, Meeting)
        .join(Meeting, Meeting.id == Decision.meeting_id)
        .where(
            Meeting.minutes_status == MinutesStatus.APPROVED.value,
            Meeting.minutes_approved_at >= since,
            Meeting.minutes_approved_at < until,
        )
        .order_by(Meeting.minutes_approved_at, Decision.year, Decision.number)
    )
    found = [(d, m) for d, m in rows if _shared(shares, d)]
    names = await _names(session, {d.group_id for d, _ in found})
    ordered = sorted(found, key=lambda pair: pair[0].kind not in FORWARDED_KINDS)
    return [SharedDecision(d, m, names.get(d.group_id, "?")) for d, m in ordered]


async def search_shared(
    session: Session,
    shares: Mapping[int, str],
    *,
    words: Sequence[str],
    kind: str | None,
    addressee: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[SharedDecision]:
    """The steering body's search: decisions of approved minutes of the groups that share
    them (as their chairs chose), newest meeting first."""
    allowed_all = [g for g in shares if _kinds_shared(shares, g) is None]
    allowed_forwarded = [g for g in shares if _kinds_shared(shares, g) == FORWARDED_KINDS]
    among = Decision.group_id.in_(allowed_all) | (
        Decision.group_id.in_(allowed_forwarded) & Decision.kind.in_(FORWARDED_KINDS)
    )
    found = await approved_decisions(
        session,
        words=words,
        kind=kind,
        addressee=addressee,
        since=since,
        until=until,
        limit=limit,
        among=among,
    )
    return [SharedDecision(d, m, name) for d, m, name in found if _shared(shares, d)]


@dataclass(frozen=True)
class AnnouncedMeeting:
    meeting: Meeting
    group: str


async def announced_meetings(
    session: Session, shares: Mapping[int, str], after: datetime, before: datetime
) -> list[AnnouncedMeeting]:
    """Meetings starting in (after, before] that a group's approved minutes announce: those
    that existed when its latest minutes were approved ("Nächste Termine"), of groups that
    share everything approved."""
    latest = dict(
        (
            await session.execute(
                select(Meeting.group_id, func.max(Meeting.minutes_approved_at))
                .where(Meeting.minutes_status == MinutesStatus.APPROVED.value)
                .group_by(Meeting.group_id)
            )
        ).all()
    )
    sharing = [g for g in latest if shares.get(g) == SHARE_APPROVED]
    if not sharing:
        return []
    meetings = [
        m
        for m in await session.scalars(
            select(Meeting)
            .where(
                Meeting.group_id.in_(sharing),
                Meeting.status == MeetingStatus.SCHEDULED.value,
                Meeting.starts_at > after,
                Meeting.starts_at <= before,
            )
            .order_by(Meeting.starts_at, Meeting.id)
        )
        if m.created_at <= latest[m.group_id]
    ]
    names = await _names(session, {m.group_id for m in meetings})
    return [AnnouncedMeeting(m, names.get(m.group_id, "?")) for m in meetings]


@dataclass(frozen=True)
class OpenItem:
    item: InboxItem
    decision: Decision
    sender: str
    receiver: str
    task_due: date | None = None


async def open_items_between_groups(
    session: Session, shares: Mapping[int, str], today: date
) -> tuple[list[OpenItem], list[OpenItem]]:
    """Inbox items not dealt with yet, and those turned into an action item that is past
    due and still open; only between groups that both share (an item shows both)."""

    def both_share(item: InboxItem, decision: Decision) -> bool:
        return _shared(shares, decision) and shares.get(item.receiving_group_id) in (
            SHARE_APPROVED,
            SHARE_FORWARDED,
        )

    open_rows = await session.execute(
        select(InboxItem, Decision)
        .join(Decision, Decision.id == InboxItem.decision_id)
        .where(InboxItem.status == InboxStatus.OPEN.value)
        .order_by(InboxItem.created_at, InboxItem.id)
    )
    overdue_rows = await session.execute(
        select(InboxItem, Decision, ActionItem.due_date)
        .join(Decision, Decision.id == InboxItem.decision_id)
        .join(ActionItem, ActionItem.id == InboxItem.action_item_id)
        .where(
            InboxItem.status == InboxStatus.ACTION.value,
            ActionItem.status == ActionItemStatus.OPEN.value,
            ActionItem.due_date < today,
        )
        .order_by(ActionItem.due_date, InboxItem.id)
    )
    opened = [(i, d, None) for i, d in open_rows if both_share(i, d)]
    overdue = [(i, d, due) for i, d, due in overdue_rows if both_share(i, d)]
    names = await _names(
        session,
        {i.sending_group_id for i, _, _ in opened + overdue}
        | {i.receiving_group_id for i, _, _ in opened + overdue},
    )

    def item(row: tuple[InboxItem, Decision, date | None]) -> OpenItem:
        i, d, due = row
        return OpenItem(
            i, d, names.get(i.sending_group_id, "?"), names.get(i.receiving_group_id, "?"), due
        )

    return [item(r) for r in opened], [item(r) for r in overdue]


@dataclass(frozen=True)
class RegistryFigures:
    listed_now: int
    newly_listed: int
    reminded: int
    delisted: int
    relisted: int


REMINDER_STEPS = ("first_reminder", "second_reminder", "final_notice", "legacy_notice")
DELISTING_STEPS = ("delisting", "legacy_delisting")
RELISTING_STEPS = ("relisting",)


async def registry_figures(session: Session, since: datetime, until: datetime) -> RegistryFigures:
    """Counts of the advisor registry in [since, until): advisors added, letters sent,
    delistings and relistings, plus how many are listed now. Figures only, no names."""

    async def steps(names: Sequence[str]) -> int:
        return int(
            await session.scalar(
                select(func.count(AdvisorStep.id)).where(
                    AdvisorStep.step.in_(names),
                    AdvisorStep.outcome.in_(("sent", "manual")),
                    AdvisorStep.done_at >= since,
                    AdvisorStep.done_at < until,
                )
            )
            or 0
        )

    listed_now = await session.scalar(
        select(func.count(Advisor.id)).where(Advisor.status == ListingStatus.LISTED.value)
    )
    newly = await session.scalar(
        select(func.count(Advisor.id)).where(
            Advisor.created_at >= since, Advisor.created_at < until
        )
    )
    return RegistryFigures(
        listed_now=int(listed_now or 0),
        newly_listed=int(newly or 0),
        reminded=await steps(REMINDER_STEPS),
        delisted=await steps(DELISTING_STEPS),
        relisted=await steps(RELISTING_STEPS),
    )


async def _names(session: Session, group_ids: set[int]) -> dict[int, str]:
    if not group_ids:
        return {}
    rows = await session.execute(select(Group.id, Group.name).where(Group.id.in_(group_ids)))
    return dict(rows.all())
