"""Decisions, action items, minutes objections and the queries a meeting's minutes are
collected from (handlers/minutes/collect.py). Every lookup takes the group id: a number
guessed from another group finds nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import (
    ActionItemStatus,
    AgendaItemStatus,
    MeetingStatus,
    MinutesStatus,
    Role,
)
from bot.core.numbers import action_label, decision_label
from storage.agenda import accepted_items, current_agenda_item, top_numbers
from storage.models import (
    ActionItem,
    ActionItemAssignee,
    AgendaItem,
    Decision,
    Group,
    Meeting,
    Membership,
    MinutesObjection,
)


async def latest_started_meeting(
    session: AsyncSession, group_id: int, now: datetime
) -> Meeting | None:
    """The most recent meeting that has begun (cancelled ones too: their minutes say so)."""
    return await session.scalar(
        select(Meeting)
        .where(Meeting.group_id == group_id, Meeting.starts_at <= now)
        .order_by(Meeting.starts_at.desc())
        .limit(1)
    )


async def top_number(session: AsyncSession, item_id: int | None) -> tuple[int, str] | None:
    """(TOP number, title) of an accepted agenda item, or None."""
    if item_id is None:
        return None
    item = await session.get(AgendaItem, item_id)
    if item is None or item.status != AgendaItemStatus.ACCEPTED.value:
        return None
    number = top_numbers(await accepted_items(session, item.meeting_id)).get(item.id)
    return (number, item.title) if number is not None else None


async def current_top_id(session: AsyncSession, meeting: Meeting) -> int | None:
    """The TOP being discussed, if it still belongs to this meeting."""
    item = await current_agenda_item(session, meeting)
    return item.id if item is not None else None


# --- numbering ------------------------------------------------------------------------------

NUMBERING_ATTEMPTS = 5


Row = TypeVar("Row", Decision, ActionItem)


async def _numbered(
    session: AsyncSession, make: Callable[[int], Row], last_number: Select[tuple[int | None]]
) -> Row:
    """Insert a row with the next free number. Two bot processes may pick the same number at
    once; the unique constraint refuses the second, which then takes the following one."""
    for _ in range(NUMBERING_ATTEMPTS - 1):
        row = make((await session.scalar(last_number) or 0) + 1)
        try:
            async with session.begin_nested():
                session.add(row)
        except IntegrityError:
            continue
        return row
    row = make((await session.scalar(last_number) or 0) + 1)
    session.add(row)
    await session.flush()
    return row


# --- decisions ------------------------------------------------------------------------------


async def create_decision(
    session: AsyncSession,
    *,
    group_id: int,
    year: int,
    meeting_id: int | None,
    agenda_item_id: int | None,
    kind: str,
    addressee: str | None,
    text: str,
    outcome: str,
    votes: tuple[int | None, int | None, int | None],
    amends_decision_id: int | None,
    user_id: int,
    now: datetime,
) -> Decision:
    values = {
        "group_id": group_id,
        "year": year,
        "meeting_id": meeting_id,
        "agenda_item_id": agenda_item_id,
        "kind": kind,
        "addressee": addressee,
        "text": text,
        "outcome": outcome,
        "votes_for": votes[0],
        "votes_against": votes[1],
        "abstentions": votes[2],
        "amends_decision_id": amends_decision_id,
        "created_by_user_id": user_id,
        "created_at": now,
        "updated_at": now,
    }
    return await _numbered(
        session,
        lambda number: Decision(number=number, **values),
        select(func.max(Decision.number)).where(
            Decision.group_id == group_id, Decision.year == year
        ),
    )


async def decision_by_ref(
    session: AsyncSession, group_id: int, year: int, number: int
) -> Decision | None:
    return await session.scalar(
        select(Decision).where(
            Decision.group_id == group_id, Decision.year == year, Decision.number == number
        )
    )


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def with_words(query: Select[tuple[Decision]], words: Sequence[str]) -> Select[tuple[Decision]]:
    """Only decisions containing every word, case-insensitive, in the text or the addressee."""
    for word in words:
        # SQLite folds only ASCII letters, so "übergabe" would miss "Übergabe": also try the
        # capitalized and upper-case spellings (PostgreSQL's ILIKE needs none of this).
        spellings = dict.fromkeys((word, word.lower(), word.capitalize(), word.upper()))
        patterns = [f"%{_escape_like(spelling)}%" for spelling in spellings]
        query = query.where(
            or_(
                *(Decision.text.ilike(p, escape="\\") for p in patterns),
                *(Decision.addressee.ilike(p, escape="\\") for p in patterns),
            )
        )
    return query


async def decisions_of_group(
    session: AsyncSession, group_id: int, words: Sequence[str] = (), limit: int = 30
) -> list[Decision]:
    """Newest first; with `words`, only decisions containing every word (case-insensitive,
    in the text or the addressee), with ILIKE on both SQLite and PostgreSQL."""
    query: Select[tuple[Decision]] = select(Decision).where(Decision.group_id == group_id)
    query = with_words(query, words)
    query = query.order_by(Decision.year.desc(), Decision.number.desc()).limit(limit)
    return list(await session.scalars(query))


async def amendments_of(session: AsyncSession, decision_id: int) -> list[Decision]:
    return list(
        await session.scalars(
            select(Decision)
            .where(Decision.amends_decision_id == decision_id)
            .order_by(Decision.year, Decision.number)
        )
    )


async def is_frozen(session: AsyncSession, decision: Decision) -> bool:
    """Decisions are immutable once the minutes of their meeting are approved."""
    if decision.meeting_id is None:
        return False
    meeting = await session.get(Meeting, decision.meeting_id)
    return meeting is not None and meeting.minutes_status == MinutesStatus.APPROVED.value


# --- action items ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAssignee:
    user_id: int | None = None
    name: str | None = None


async def create_action_item(
    session: AsyncSession,
    *,
    group_id: int,
    text: str,
    due: date | None,
    assignees: Sequence[NewAssignee],
    meeting_id: int | None,
    agenda_item_id: int | None,
    decision_id: int | None,
    user_id: int,
    now: datetime,
) -> ActionItem:
    item = await _numbered(
        session,
        lambda number: ActionItem(
            group_id=group_id,
            number=number,
            text=text,
            due_date=due,
            status=ActionItemStatus.OPEN.value,
            meeting_id=meeting_id,
            agenda_item_id=agenda_item_id,
            decision_id=decision_id,
            created_by_user_id=user_id,
            created_at=now,
            updated_at=now,
        ),
        select(func.max(ActionItem.number)).where(ActionItem.group_id == group_id),
    )
    for assignee in assignees:
        session.add(
            ActionItemAssignee(action_item_id=item.id, user_id=assignee.user_id, name=assignee.name)
        )
    await session.flush()
    return item


async def action_by_number(session: AsyncSession, group_id: int, number: int) -> ActionItem | None:
    return await session.scalar(
        select(ActionItem).where(ActionItem.group_id == group_id, ActionItem.number == number)
    )


async def assignees_of(
    session: AsyncSession, item_ids: Iterable[int]
) -> dict[int, list[ActionItemAssignee]]:
    ids = list(item_ids)
    found: dict[int, list[ActionItemAssignee]] = {item_id: [] for item_id in ids}
    if not ids:
        return found
    rows = await session.scalars(
        select(ActionItemAssignee)
        .where(ActionItemAssignee.action_item_id.in_(ids))
        .order_by(ActionItemAssignee.id)
    )
    for row in rows:
        found[row.action_item_id].append(row)
    return found


async def action_items_of_group(
    session: AsyncSession,
    group_id: int,
    *,
    statuses: Sequence[str] = (ActionItemStatus.OPEN.value,),
    due_before: date | None = None,
    meeting_id: int | None = None,
    limit: int = 50,
) -> list[ActionItem]:
    """Open items by default; `due_before` keeps only those due before that day (overdue)."""
    query = select(ActionItem).where(
        ActionItem.group_id == group_id, ActionItem.status.in_(list(statuses))
    )
    if due_before is not None:
        query = query.where(ActionItem.due_date.is_not(None), ActionItem.due_date < due_before)
    if meeting_id is not None:
        query = query.where(ActionItem.meeting_id == meeting_id)
    query = query.order_by(ActionItem.number).limit(limit)
    return list(await session.scalars(query))


async def action_items_of_user(
    session: AsyncSession, user_id: int, *, limit: int = 100
) -> list[tuple[ActionItem, Group]]:
    """Open items assigned to this person, in every group (for the private chat)."""
    rows = await session.execute(
        select(ActionItem, Group)
        .join(ActionItemAssignee, ActionItemAssignee.action_item_id == ActionItem.id)
        .join(Group, Group.id == ActionItem.group_id)
        .where(
            ActionItemAssignee.user_id == user_id,
            ActionItem.status == ActionItemStatus.OPEN.value,
        )
        .order_by(ActionItem.due_date.is_(None), ActionItem.due_date, Group.name, ActionItem.number)
        .limit(limit)
    )
    return [(item, group) for item, group in rows.all()]


# --- objections -----------------------------------------------------------------------------


async def add_objection(
    session: AsyncSession, meeting_id: int, user_id: int, text: str, now: datetime
) -> MinutesObjection:
    objection = MinutesObjection(meeting_id=meeting_id, user_id=user_id, text=text, created_at=now)
    session.add(objection)
    await session.flush()
    return objection


async def chair_ids(session: AsyncSession, group_id: int) -> list[int]:
    return list(
        await session.scalars(
            select(Membership.user_id)
            .where(Membership.group_id == group_id, Membership.role == Role.CHAIR.value)
            .order_by(Membership.id)
        )
    )


async def objections_of(
    session: AsyncSession, meeting_id: int, *, since: datetime | None = None
) -> list[MinutesObjection]:
    query = select(MinutesObjection).where(MinutesObjection.meeting_id == meeting_id)
    if since is not None:
        query = query.where(MinutesObjection.created_at >= since)
    return list(await session.scalars(query.order_by(MinutesObjection.id)))


# --- data protection ------------------------------------------------------------------------


async def personal_minutes_data(session: AsyncSession, user_id: int) -> dict[str, Any]:
    """What decisions, action items and objections hold about one person, for the data export
    (GDPR Art. 15). Erasure needs nothing here: assignments and objections cascade with the
    person, and "recorded by" columns are set to NULL."""
    assigned = await session.execute(
        select(ActionItem, Group)
        .join(ActionItemAssignee, ActionItemAssignee.action_item_id == ActionItem.id)
        .join(Group, Group.id == ActionItem.group_id)
        .where(ActionItemAssignee.user_id == user_id)
        .order_by(ActionItem.id)
    )
    objections = await session.execute(
        select(MinutesObjection, Meeting)
        .join(Meeting, Meeting.id == MinutesObjection.meeting_id)
        .where(MinutesObjection.user_id == user_id)
        .order_by(MinutesObjection.id)
    )
    recorded = await session.scalars(
        select(Decision).where(Decision.created_by_user_id == user_id).order_by(Decision.id)
    )
    return {
        "action_items_assigned": [
            {
                "group": group.name,
                "number": action_label(item.number),
                "text": item.text,
                "due": item.due_date.isoformat() if item.due_date else None,
                "status": item.status,
            }
            for item, group in assigned.all()
        ],
        "minutes_objections": [
            {
                "meeting": meeting.title,
                "starts_at": meeting.starts_at.isoformat(),
                "text": objection.text,
                "created_at": objection.created_at.isoformat(),
            }
            for objection, meeting in objections.all()
        ],
        "decisions_recorded": [
            decision_label(decision.year, decision.number) for decision in recorded
        ],
    }


# --- the minutes ----------------------------------------------------------------------------


async def decision_labels(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(
        select(Decision.id, Decision.year, Decision.number).where(Decision.id.in_(wanted))
    )
    return {row.id: decision_label(row.year, row.number) for row in rows}


async def decisions_of_meeting(
    session: AsyncSession, group_id: int, meeting_id: int
) -> list[Decision]:
    """The decisions recorded in one meeting, by number."""
    return list(
        await session.scalars(
            select(Decision)
            .where(Decision.meeting_id == meeting_id, Decision.group_id == group_id)
            .order_by(Decision.year, Decision.number)
        )
    )


async def action_items_of_meeting(
    session: AsyncSession, group_id: int, meeting_id: int
) -> list[ActionItem]:
    """The action items recorded in one meeting, whatever their status, by number."""
    return list(
        await session.scalars(
            select(ActionItem)
            .where(ActionItem.meeting_id == meeting_id, ActionItem.group_id == group_id)
            .order_by(ActionItem.number)
        )
    )


async def scheduled_meetings_after(
    session: AsyncSession,
    group_id: int,
    after: datetime,
    *,
    known_at: datetime | None = None,
    limit: int = 5,
) -> list[Meeting]:
    """The next meetings that start after `after` and are not cancelled ("Nächste Termine");
    with `known_at`, only those that existed then: approved minutes list the next meetings
    known when they were approved, not those scheduled since."""
    query = select(Meeting).where(
        Meeting.group_id == group_id,
        Meeting.status == MeetingStatus.SCHEDULED.value,
        Meeting.starts_at > after,
    )
    if known_at is not None:
        query = query.where(Meeting.created_at <= known_at)
    return list(await session.scalars(query.order_by(Meeting.starts_at).limit(limit)))


async def minute_takers_among(
    session: AsyncSession, group_id: int, user_ids: Iterable[int]
) -> set[int]:
    """Those of `user_ids` who take minutes in this group: its minute-takers and chairs."""
    return set(
        await session.scalars(
            select(Membership.user_id).where(
                Membership.group_id == group_id,
                Membership.user_id.in_(set(user_ids)),
                Membership.role.in_([Role.MINUTE_TAKER.value, Role.CHAIR.value]),
            )
        )
    )


async def decision_by_id(session: AsyncSession, decision_id: int) -> Decision | None:
    return await session.get(Decision, decision_id)


async def publish_minutes_draft(
    session: AsyncSession, meeting: Meeting, *, now: datetime, objections_until: datetime
) -> None:
    """The minutes become a draft that members may object to until `objections_until`."""
    meeting.minutes_status = MinutesStatus.DRAFT.value
    meeting.minutes_published_at = now
    meeting.objections_until = objections_until
    meeting.updated_at = now
    await session.flush()


async def approve_minutes(session: AsyncSession, meeting: Meeting, *, now: datetime) -> None:
    meeting.minutes_status = MinutesStatus.APPROVED.value
    meeting.minutes_approved_at = now
    meeting.updated_at = now
    await session.flush()


async def forget_assignee(
    session: AsyncSession, user_id: int, *, label: Callable[[str], str]
) -> int:
    """Before a person is erased: action items assigned to them keep an assignee, shown as
    `label(group language)` ("ehemaliges Mitglied"), instead of losing it. Returns how many."""
    rows = await session.execute(
        select(ActionItemAssignee, Group.language)
        .join(ActionItem, ActionItem.id == ActionItemAssignee.action_item_id)
        .join(Group, Group.id == ActionItem.group_id)
        .where(ActionItemAssignee.user_id == user_id)
    )
    changed = 0
    for assignee, language in rows.all():
        assignee.user_id = None
        assignee.name = label(language)
        changed += 1
    await session.flush()
    return changed
