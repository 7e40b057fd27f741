"""Queries of the organisation: group aliases, resolved decision addressees, inbox items.

An inbox item is looked up only together with its receiving group: an item number guessed
or forged in another group's chat finds nothing there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import InboxStatus, MinutesStatus
from storage.minutes import _numbered, with_words
from storage.models import (
    Decision,
    DecisionAddressee,
    Group,
    GroupAlias,
    InboxItem,
    Meeting,
    ReportDuty,
)

# --- groups and aliases ---------------------------------------------------------------------


async def groups_with_aliases(session: AsyncSession) -> list[tuple[Group, list[str]]]:
    """Every registered group with its aliases: what an addressee is matched against."""
    groups = list(await session.scalars(select(Group).order_by(Group.id)))
    aliases: dict[int, list[str]] = {}
    for row in await session.scalars(select(GroupAlias).order_by(GroupAlias.id)):
        aliases.setdefault(row.group_id, []).append(row.alias)
    return [(group, aliases.get(group.id, [])) for group in groups]


async def alias_owner(session: AsyncSession, alias_key: str) -> int | None:
    return await session.scalar(select(GroupAlias.group_id).where(GroupAlias.key == alias_key))


async def add_alias(
    session: AsyncSession, group_id: int, alias: str, alias_key: str, user_id: int, now: datetime
) -> None:
    session.add(
        GroupAlias(
            group_id=group_id, alias=alias, key=alias_key, set_by_user_id=user_id, created_at=now
        )
    )
    await session.flush()


async def aliases_of(session: AsyncSession, group_id: int) -> list[str]:
    return list(
        await session.scalars(
            select(GroupAlias.alias).where(GroupAlias.group_id == group_id).order_by(GroupAlias.id)
        )
    )


async def remove_alias(session: AsyncSession, group_id: int, alias_key: str) -> bool:
    result = await session.execute(
        delete(GroupAlias).where(GroupAlias.group_id == group_id, GroupAlias.key == alias_key)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --- addressees -----------------------------------------------------------------------------


async def set_addressee(session: AsyncSession, decision_id: int, group_id: int | None) -> None:
    """Remember which group a decision addresses; None forgets it (the text stays)."""
    await session.execute(
        delete(DecisionAddressee).where(DecisionAddressee.decision_id == decision_id)
    )
    if group_id is not None:
        session.add(DecisionAddressee(decision_id=decision_id, group_id=group_id))
    await session.flush()


async def addressee_group(session: AsyncSession, decision_id: int) -> int | None:
    return await session.scalar(
        select(DecisionAddressee.group_id).where(DecisionAddressee.decision_id == decision_id)
    )


# --- inbox items ----------------------------------------------------------------------------


async def forward(
    session: AsyncSession,
    *,
    decision_id: int,
    sending_group_id: int,
    receiving_group_id: int,
    amends_item_id: int | None,
    now: datetime,
) -> InboxItem | None:
    """A new inbox item in the receiving group; None when this decision reached it already
    (approving twice, or two processes at once, forwards once)."""
    existing = await session.scalar(
        select(InboxItem.id).where(
            InboxItem.decision_id == decision_id,
            InboxItem.receiving_group_id == receiving_group_id,
        )
    )
    if existing is not None:
        return None
    return await _numbered(
        session,
        lambda number: InboxItem(
            receiving_group_id=receiving_group_id,
            number=number,
            sending_group_id=sending_group_id,
            decision_id=decision_id,
            amends_item_id=amends_item_id,
            status=InboxStatus.OPEN.value,
            created_at=now,
        ),
        select(func.max(InboxItem.number)).where(
            InboxItem.receiving_group_id == receiving_group_id
        ),
    )


async def item_by_id(session: AsyncSession, item_id: int | None) -> InboxItem | None:
    return await session.get(InboxItem, item_id) if item_id is not None else None


async def items_of_decision(session: AsyncSession, decision_id: int) -> list[InboxItem]:
    """Where a decision went: one item per receiving group."""
    return list(
        await session.scalars(
            select(InboxItem).where(InboxItem.decision_id == decision_id).order_by(InboxItem.id)
        )
    )


async def items_of_decisions(
    session: AsyncSession, decision_ids: Iterable[int]
) -> dict[int, list[InboxItem]]:
    ids = list(decision_ids)
    found: dict[int, list[InboxItem]] = {}
    if not ids:
        return found
    for item in await session.scalars(
        select(InboxItem).where(InboxItem.decision_id.in_(ids)).order_by(InboxItem.id)
    ):
        found.setdefault(item.decision_id, []).append(item)
    return found


async def item_by_number(
    session: AsyncSession, receiving_group_id: int, number: int
) -> InboxItem | None:
    return await session.scalar(
        select(InboxItem).where(
            InboxItem.receiving_group_id == receiving_group_id, InboxItem.number == number
        )
    )


async def open_items(session: AsyncSession, receiving_group_id: int) -> list[InboxItem]:
    """What the group has not dealt with yet, oldest first."""
    return list(
        await session.scalars(
            select(InboxItem)
            .where(
                InboxItem.receiving_group_id == receiving_group_id,
                InboxItem.status == InboxStatus.OPEN.value,
            )
            .order_by(InboxItem.number)
        )
    )


async def group_names(session: AsyncSession, group_ids: Iterable[int]) -> dict[int, str]:
    ids = set(group_ids)
    if not ids:
        return {}
    rows = await session.execute(select(Group.id, Group.name).where(Group.id.in_(ids)))
    return {group_id: name for group_id, name in rows}


# --- report duties --------------------------------------------------------------------------


async def add_report_duty(
    session: AsyncSession,
    *,
    owing_group_id: int,
    receiving_group_id: int,
    title: str,
    every_months: int,
    due_date: date,
    user_id: int,
    now: datetime,
) -> ReportDuty:
    return await _numbered(
        session,
        lambda number: ReportDuty(
            owing_group_id=owing_group_id,
            number=number,
            receiving_group_id=receiving_group_id,
            title=title,
            every_months=every_months,
            due_date=due_date,
            created_by_user_id=user_id,
            created_at=now,
        ),
        select(func.max(ReportDuty.number)).where(ReportDuty.owing_group_id == owing_group_id),
    )


async def report_duty(session: AsyncSession, owing_group_id: int, number: int) -> ReportDuty | None:
    return await session.scalar(
        select(ReportDuty).where(
            ReportDuty.owing_group_id == owing_group_id, ReportDuty.number == number
        )
    )


async def report_duties_of(session: AsyncSession, group_id: int) -> list[ReportDuty]:
    """The reports a group owes and those owed to it, by due date."""
    return list(
        await session.scalars(
            select(ReportDuty)
            .where(
                (ReportDuty.owing_group_id == group_id)
                | (ReportDuty.receiving_group_id == group_id)
            )
            .order_by(ReportDuty.due_date, ReportDuty.id)
        )
    )


async def report_duties_due_by(session: AsyncSession, day: date) -> list[ReportDuty]:
    """Duties falling due by `day` (the reminder sweep filters those already reminded)."""
    return list(
        await session.scalars(
            select(ReportDuty).where(ReportDuty.due_date <= day).order_by(ReportDuty.id)
        )
    )


async def longest_report_lead(session: AsyncSession) -> int:
    """The longest lead a chair set for a report (0 when none did): how far ahead the
    reminder sweep must look."""
    return int(await session.scalar(select(func.max(ReportDuty.remind_days_before))) or 0)


# --- organisation search --------------------------------------------------------------------


async def approved_decisions(
    session: AsyncSession,
    *,
    words: Sequence[str],
    kind: str | None,
    addressee: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    among: ColumnElement[bool] | None = None,
) -> list[tuple[Decision, Meeting, str]]:
    """Decisions of all groups whose minutes are approved – nothing else of a group is
    searchable across the organisation – newest meeting first, with meeting and group name.
    `among` narrows it further (the steering body sees only what each chair shares)."""
    query = (
        select(Decision)
        .join(Meeting, Meeting.id == Decision.meeting_id)
        .where(Meeting.minutes_status == MinutesStatus.APPROVED.value)
    )
    if among is not None:
        query = query.where(among)
    query = with_words(query, words)
    if kind is not None:
        query = query.where(Decision.kind == kind)
    if addressee:
        query = with_words(query.where(Decision.addressee.is_not(None)), [addressee])
    if since is not None:
        query = query.where(Meeting.starts_at >= since)
    if until is not None:
        query = query.where(Meeting.starts_at < until)
    query = query.order_by(Meeting.starts_at.desc(), Decision.number.desc()).limit(limit)
    decisions = list(await session.scalars(query))
    meetings = {
        m.id: m
        for m in await session.scalars(
            select(Meeting).where(Meeting.id.in_({d.meeting_id for d in decisions}))
        )
    }
    names = await group_names(session, {d.group_id for d in decisions})
    return [(d, meetings[d.meeting_id or 0], names.get(d.group_id, "?")) for d in decisions]
