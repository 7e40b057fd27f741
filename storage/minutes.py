"""Decisions, action items, minutes objections and the query that collects a meeting's
minutes. Every lookup takes the group id: a number guessed from another group finds
nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import (
    ActionItemStatus,
    AgendaItemKind,
    AgendaItemStatus,
    MeetingStatus,
    MinutesStatus,
    Role,
)
from bot.core.numbers import action_label, decision_label
from storage.agenda import accepted_items, current_agenda_item
from storage.minutes_data import (
    MinutesAction,
    MinutesData,
    MinutesDecision,
    MinutesTop,
    NextMeeting,
)
from storage.models import (
    ActionItem,
    ActionItemAssignee,
    AgendaItem,
    Attendance,
    Decision,
    Group,
    Identity,
    Meeting,
    MeetingNote,
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
    return item.position, item.title


async def current_top_id(session: AsyncSession, meeting: Meeting) -> int | None:
    """The TOP being discussed, if it still belongs to this meeting."""
    item = await current_agenda_item(session, meeting)
    return item.id if item is not None else None


async def display_names(
    session: AsyncSession, user_ids: Iterable[int], platform: str | None = None
) -> dict[int, str]:
    """A shown name per person, preferring their identity on `platform`."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    best: dict[int, Identity] = {}
    for identity in await session.scalars(select(Identity).where(Identity.user_id.in_(wanted))):
        current = best.get(identity.user_id)
        if current is None or (identity.platform == platform and current.platform != platform):
            best[identity.user_id] = identity
    return {user_id: identity.display_name for user_id, identity in best.items()}


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


async def decisions_of_group(
    session: AsyncSession, group_id: int, words: Sequence[str] = (), limit: int = 30
) -> list[Decision]:
    """Newest first; with `words`, only decisions containing every word (case-insensitive,
    in the text or the addressee), with ILIKE on both SQLite and PostgreSQL."""
    query: Select[tuple[Decision]] = select(Decision).where(Decision.group_id == group_id)
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


def decision_value(decision: Decision, amends_label: str | None = None) -> MinutesDecision:
    """A decision as the minutes renderer and the decision replies show it."""
    return MinutesDecision(
        label=decision_label(decision.year, decision.number),
        kind=decision.kind,
        addressee=decision.addressee,
        text=decision.text,
        outcome=decision.outcome,
        votes_for=decision.votes_for,
        votes_against=decision.votes_against,
        abstentions=decision.abstentions,
        amends_label=amends_label,
    )


async def decision_labels(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(
        select(Decision.id, Decision.year, Decision.number).where(Decision.id.in_(wanted))
    )
    return {row.id: decision_label(row.year, row.number) for row in rows}


async def collect_minutes(
    session: AsyncSession, group: Group, meeting: Meeting, *, platform: str | None = None
) -> MinutesData:
    """Everything the minutes show, as plain values in the group's time zone."""
    tz = ZoneInfo(group.timezone)
    tops = await accepted_items(session, meeting.id)
    notes = list(
        await session.scalars(
            select(MeetingNote)
            .where(MeetingNote.meeting_id == meeting.id)
            .order_by(MeetingNote.created_at, MeetingNote.id)
        )
    )
    decisions = list(
        await session.scalars(
            select(Decision)
            .where(Decision.meeting_id == meeting.id, Decision.group_id == group.id)
            .order_by(Decision.year, Decision.number)
        )
    )
    actions = list(
        await session.scalars(
            select(ActionItem)
            .where(ActionItem.meeting_id == meeting.id, ActionItem.group_id == group.id)
            .order_by(ActionItem.number)
        )
    )
    attendance = list(
        await session.scalars(
            select(Attendance)
            .where(Attendance.meeting_id == meeting.id)
            .order_by(Attendance.recorded_at, Attendance.id)
        )
    )
    assignees = await assignees_of(session, [a.id for a in actions])
    writers = [n.author_user_id for n in notes] + [d.created_by_user_id for d in decisions]
    writers += [a.created_by_user_id for a in actions]
    people = {a.user_id for a in attendance if a.user_id is not None}
    people |= {r.user_id for rows in assignees.values() for r in rows if r.user_id is not None}
    people |= {t.presenter_user_id for t in tops if t.presenter_user_id is not None}
    names = await display_names(session, people | {w for w in writers if w}, platform)
    labels = await decision_labels(
        session,
        [d.amends_decision_id for d in decisions] + [a.decision_id for a in actions],
    )

    def action_value(item: ActionItem) -> MinutesAction:
        who = tuple(
            (names.get(row.user_id, "?") if row.user_id is not None else row.name or "?")
            for row in assignees[item.id]
        )
        return MinutesAction(
            label=action_label(item.number),
            assignees=who,
            text=item.text,
            due=item.due_date,
            status=item.status,
            decision_label=labels.get(item.decision_id or 0),
        )

    def top_value(number: int | None, item: AgendaItem | None) -> MinutesTop:
        item_id = item.id if item is not None else None
        known = {t.id for t in tops}

        def here(agenda_item_id: int | None) -> bool:
            if item is None:
                return agenda_item_id is None or agenda_item_id not in known
            return agenda_item_id == item_id

        presenter = None
        if item is not None:
            presenter = item.presenter_name or names.get(item.presenter_user_id or 0)
        return MinutesTop(
            number=number,
            title=item.title if item is not None else "",
            kind=item.kind if item is not None else AgendaItemKind.TOPIC.value,
            presenter=presenter,
            planned_start=item.planned_start.astimezone(tz)
            if item is not None and item.planned_start
            else None,
            notes=tuple(n.text for n in notes if here(n.agenda_item_id)),
            decisions=tuple(
                decision_value(d, labels.get(d.amends_decision_id or 0))
                for d in decisions
                if here(d.agenda_item_id)
            ),
            actions=tuple(action_value(a) for a in actions if here(a.agenda_item_id)),
            continue_next_time=bool(item is not None and item.continue_next_time),
        )

    loose = top_value(None, None)
    has_loose = bool(loose.notes or loose.decisions or loose.actions)
    upcoming = await session.scalars(
        select(Meeting)
        .where(
            Meeting.group_id == group.id,
            Meeting.status == MeetingStatus.SCHEDULED.value,
            Meeting.starts_at > meeting.starts_at,
        )
        .order_by(Meeting.starts_at)
        .limit(5)
    )
    # "Mitschrift": those who recorded entries in the role of minute-taker or chair; members
    # may add notes too, but they do not sign the minutes unless nobody else wrote.
    takers = set(
        await session.scalars(
            select(Membership.user_id).where(
                Membership.group_id == group.id,
                Membership.user_id.in_({w for w in writers if w}),
                Membership.role.in_([Role.MINUTE_TAKER.value, Role.CHAIR.value]),
            )
        )
    )
    signing = [w for w in writers if w in takers] or [w for w in writers if w]
    seen_writers = dict.fromkeys(names[w] for w in signing if w in names)
    return MinutesData(
        group_name=group.name,
        meeting_number=meeting.number,
        title=meeting.title,
        starts_at=meeting.starts_at.astimezone(tz),
        ends_at=meeting.ends_at.astimezone(tz) if meeting.ends_at else None,
        location=meeting.location,
        participants=tuple(names.get(a.user_id, "?") for a in attendance if a.user_id is not None),
        guests=tuple(a.guest_name for a in attendance if a.user_id is None and a.guest_name),
        attendance_count=meeting.attendance_count,
        tops=tuple(top_value(item.position, item) for item in tops),
        unassigned=loose if has_loose else None,
        next_meetings=tuple(
            NextMeeting(
                m.starts_at.astimezone(tz), m.ends_at.astimezone(tz) if m.ends_at else None, m.title
            )
            for m in upcoming
        ),
        minute_takers=tuple(seen_writers),
        status=meeting.minutes_status,
        objections_until=meeting.objections_until.astimezone(tz)
        if meeting.objections_until
        else None,
        approved_at=meeting.minutes_approved_at.astimezone(tz)
        if meeting.minutes_approved_at
        else None,
        cancelled=meeting.status == MeetingStatus.CANCELLED.value,
    )
