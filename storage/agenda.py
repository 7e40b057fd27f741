"""Agenda items (TOPs), the current item, attendance and notes of a meeting.

Every query starts from a Meeting the caller already found within its group, so nothing
here can reach another group's data by a guessed number.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import ActionItemStatus, AgendaItemKind, AgendaItemStatus, MeetingStatus
from bot.core.numbers import top_numbers as numbers_in_order
from storage.models import ActionItem, AgendaItem, Attendance, Group, Meeting, MeetingNote, Rsvp

# A meeting without an end time counts as running for this long after its start.
DEFAULT_LENGTH = timedelta(hours=2)


async def current_agenda_item(session: AsyncSession, meeting: Meeting) -> AgendaItem | None:
    """The TOP being discussed now (set by the minute-taker), or None."""
    if meeting.current_agenda_item_id is None:
        return None
    return await session.scalar(
        select(AgendaItem).where(
            AgendaItem.id == meeting.current_agenda_item_id,
            AgendaItem.meeting_id == meeting.id,
        )
    )


async def active_meeting(session: AsyncSession, group_id: int, now: datetime) -> Meeting | None:
    """The meeting the group is in: the one running now, else today's most recent one that
    has started, else today's next one (a minute-taker may prepare before the start).
    "Today" is the group's local day."""
    group = await session.get(Group, group_id)
    if group is None:
        return None
    tz = ZoneInfo(group.timezone)
    local_now = now.astimezone(tz)
    day_start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    day_end = day_start + timedelta(days=1)
    todays = list(
        await session.scalars(
            select(Meeting)
            .where(
                Meeting.group_id == group_id,
                Meeting.status == MeetingStatus.SCHEDULED.value,
                Meeting.starts_at < day_end,
                func.coalesce(Meeting.ends_at, Meeting.starts_at) >= day_start - DEFAULT_LENGTH,
            )
            .order_by(Meeting.starts_at, Meeting.number)
        )
    )
    running = [
        m for m in todays if m.starts_at <= now < (m.ends_at or m.starts_at + DEFAULT_LENGTH)
    ]
    if running:
        return running[-1]
    started = [m for m in todays if m.starts_at <= now and m.starts_at >= day_start]
    if started:
        return started[-1]
    upcoming = [m for m in todays if m.starts_at > now]
    return upcoming[0] if upcoming else None


async def items_of(session: AsyncSession, meeting_id: int) -> list[AgendaItem]:
    """All items: accepted ones by position (TOP 1…n), then proposals by their number."""
    items = list(
        await session.scalars(
            select(AgendaItem)
            .where(AgendaItem.meeting_id == meeting_id)
            .order_by(AgendaItem.position, AgendaItem.id)
        )
    )
    accepted = [i for i in items if i.status == AgendaItemStatus.ACCEPTED.value]
    others = [i for i in items if i.status != AgendaItemStatus.ACCEPTED.value]
    return accepted + others


async def accepted_items(session: AsyncSession, meeting_id: int) -> list[AgendaItem]:
    return [
        i
        for i in await items_of(session, meeting_id)
        if i.status == AgendaItemStatus.ACCEPTED.value
    ]


def top_numbers(items: list[AgendaItem]) -> dict[int, int]:
    """TOP numbers of the accepted items by id, in agenda order. Breaks keep their place
    but get no number: seven TOPs with two breaks are TOP 1–7, as in the invitation."""
    return numbers_in_order(
        (item.id, item.kind == AgendaItemKind.BREAK.value)
        for item in items
        if item.status == AgendaItemStatus.ACCEPTED.value
    )


def proposals(items: list[AgendaItem]) -> list[AgendaItem]:
    """Items members proposed, in the order proposed: P1, P2, … (also once accepted)."""
    return sorted((i for i in items if i.proposed_by_user_id is not None), key=lambda i: i.id)


def renumber(items: list[AgendaItem]) -> None:
    """Positions 1…n in the given order, the "any other business" item forced last."""
    ordered = [i for i in items if i.kind != AgendaItemKind.MISC.value] + [
        i for i in items if i.kind == AgendaItemKind.MISC.value
    ]
    for position, item in enumerate(ordered, start=1):
        item.position = position


async def add_item(
    session: AsyncSession,
    meeting: Meeting,
    *,
    title: str,
    now: datetime,
    kind: AgendaItemKind = AgendaItemKind.TOPIC,
    status: AgendaItemStatus = AgendaItemStatus.ACCEPTED,
    presenter_user_id: int | None = None,
    presenter_name: str | None = None,
    planned_start: datetime | None = None,
    proposed_by_user_id: int | None = None,
    carried_from_id: int | None = None,
) -> AgendaItem:
    """Append an item: accepted ones before the last "any other business" item; proposals
    get the next proposal number (P1, P2, …) in their own sequence."""
    existing = await items_of(session, meeting.id)
    item = AgendaItem(
        meeting_id=meeting.id,
        position=0,
        title=title,
        kind=kind.value,
        status=status.value,
        presenter_user_id=presenter_user_id,
        presenter_name=presenter_name,
        planned_start=planned_start,
        proposed_by_user_id=proposed_by_user_id,
        continue_next_time=False,
        carried_from_id=carried_from_id,
        created_at=now,
    )
    session.add(item)
    if status is AgendaItemStatus.ACCEPTED:
        renumber([i for i in existing if i.status == AgendaItemStatus.ACCEPTED.value] + [item])
    else:  # P-numbers never repeat: accepted proposals keep counting
        item.position = 1 + len(proposals(existing))
    await session.flush()
    return item


async def accept_item(session: AsyncSession, meeting: Meeting, item: AgendaItem) -> None:
    accepted = await accepted_items(session, meeting.id)
    item.status = AgendaItemStatus.ACCEPTED.value
    renumber([*accepted, item])
    await session.flush()


async def remove_item(session: AsyncSession, meeting: Meeting, item: AgendaItem) -> None:
    if meeting.current_agenda_item_id == item.id:
        meeting.current_agenda_item_id = None
    await session.delete(item)
    await session.flush()
    renumber(await accepted_items(session, meeting.id))
    await session.flush()


async def move_item(
    session: AsyncSession, meeting: Meeting, item: AgendaItem, position: int
) -> None:
    """Put an accepted item at `position` (1-based); the others shift."""
    accepted = [i for i in await accepted_items(session, meeting.id) if i.id != item.id]
    index = max(0, min(position - 1, len(accepted)))
    accepted.insert(index, item)
    renumber(accepted)
    await session.flush()


async def attendance_of(session: AsyncSession, meeting_id: int) -> list[Attendance]:
    return list(
        await session.scalars(
            select(Attendance)
            .where(Attendance.meeting_id == meeting_id)
            .order_by(Attendance.recorded_at, Attendance.id)
        )
    )


async def mark_present(
    session: AsyncSession,
    meeting: Meeting,
    *,
    user_id: int | None = None,
    guest_name: str | None = None,
    by_user_id: int,
    now: datetime,
    organisation: str | None = None,
    as_guest: bool = True,
) -> bool:
    """Record one attendee: a member (`user_id`), or someone by name – a guest, or with
    `as_guest=False` a participant not in the chat; False when recorded already."""
    if await _attendance_row(session, meeting, user_id, guest_name) is not None:
        return False
    session.add(
        Attendance(
            meeting_id=meeting.id,
            user_id=user_id,
            guest_name=guest_name,
            recorded_at=now,
            recorded_by_user_id=by_user_id,
            organisation=organisation,
            as_guest=as_guest if user_id is None else False,
        )
    )
    await session.flush()
    return True


async def add_note(
    session: AsyncSession, meeting: Meeting, *, text: str, author_user_id: int, now: datetime
) -> MeetingNote:
    """A note attached to the TOP current now (or to the meeting when none is set)."""
    current = await current_agenda_item(session, meeting)
    note = MeetingNote(
        meeting_id=meeting.id,
        agenda_item_id=current.id if current else None,
        author_user_id=author_user_id,
        text=text,
        created_at=now,
    )
    session.add(note)
    await session.flush()
    return note


async def notes_of(
    session: AsyncSession, meeting_id: int, *, addenda: bool = False
) -> list[MeetingNote]:
    """The discussion notes of a meeting, oldest first; with `addenda`, only the addenda to
    its approved minutes instead, so neither ever shows up as the other."""
    return list(
        await session.scalars(
            select(MeetingNote)
            .where(MeetingNote.meeting_id == meeting_id, MeetingNote.addendum.is_(addenda))
            .order_by(MeetingNote.created_at, MeetingNote.id)
        )
    )


async def add_addendum(
    session: AsyncSession, meeting: Meeting, *, text: str, author_user_id: int, now: datetime
) -> MeetingNote:
    """An addendum to approved minutes: belongs to no TOP, and is dated and signed."""
    note = MeetingNote(
        meeting_id=meeting.id,
        agenda_item_id=None,
        author_user_id=author_user_id,
        text=text,
        created_at=now,
        addendum=True,
    )
    session.add(note)
    await session.flush()
    return note


async def personal_meeting_data(session: AsyncSession, user_id: int) -> dict[str, Any]:
    """What meetings hold about one person, for the data export (GDPR Art. 15): their
    replies, where they were recorded present, their notes, items they present or proposed."""

    def where(meeting_id: int) -> dict[str, Any]:
        meeting = meetings[meeting_id]
        return {"meeting": meeting.title, "starts_at": meeting.starts_at.isoformat()}

    rsvps = list(await session.scalars(select(Rsvp).where(Rsvp.user_id == user_id)))
    present = list(await session.scalars(select(Attendance).where(Attendance.user_id == user_id)))
    notes = list(
        await session.scalars(select(MeetingNote).where(MeetingNote.author_user_id == user_id))
    )
    items = list(
        await session.scalars(
            select(AgendaItem).where(
                (AgendaItem.presenter_user_id == user_id)
                | (AgendaItem.proposed_by_user_id == user_id)
            )
        )
    )
    ids = {r.meeting_id for r in [*rsvps, *present, *notes, *items]}
    meetings = {m.id: m for m in await session.scalars(select(Meeting).where(Meeting.id.in_(ids)))}
    return {
        "meeting_replies": [
            {**where(r.meeting_id), "answer": r.answer, "answered_at": r.answered_at.isoformat()}
            for r in rsvps
        ],
        "meeting_attendance": [
            {**where(a.meeting_id), "recorded_at": a.recorded_at.isoformat()} for a in present
        ],
        "meeting_notes": [
            {**where(n.meeting_id), "text": n.text, "created_at": n.created_at.isoformat()}
            for n in notes
        ],
        "agenda_items": [
            {
                **where(i.meeting_id),
                "title": i.title,
                "presenter": i.presenter_user_id == user_id,
                "proposed": i.proposed_by_user_id == user_id,
            }
            for i in items
        ],
    }


async def forget_person(
    session: AsyncSession, user_id: int, *, stand_in_id: int | None, label: Callable[[str], str]
) -> int:
    """Before a person is erased: the group's records keep them without their name. A TOP
    they present shows `label(group language)` ("ehemaliges Mitglied") as presenter; their
    attendance moves to `stand_in_id` (a person with no name or account, one per erased
    person) with that label, so the minutes still count them. Notes stay as the group's
    record, without author (the foreign key clears it). Returns how many rows changed."""
    changed = 0
    presented = await session.execute(
        select(AgendaItem, Group.language)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .join(Group, Group.id == Meeting.group_id)
        .where(AgendaItem.presenter_user_id == user_id)
    )
    for item, language in presented.all():
        item.presenter_user_id = None
        item.presenter_name = label(language)
        changed += 1
    attended = await session.execute(
        select(Attendance, Group.language)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .join(Group, Group.id == Meeting.group_id)
        .where(Attendance.user_id == user_id)
    )
    for row, language in attended.all():
        if stand_in_id is None:
            raise ValueError("attendance to keep needs a stand-in")
        row.user_id = stand_in_id
        row.guest_name = label(language)
        changed += 1
    await session.flush()
    return changed


async def has_attended(session: AsyncSession, user_id: int) -> bool:
    """Whether a person is on any attendance list (their erasure then needs a stand-in)."""
    found = await session.scalar(select(Attendance.id).where(Attendance.user_id == user_id))
    return found is not None


async def _attendance_row(
    session: AsyncSession, meeting: Meeting, user_id: int | None, guest_name: str | None
) -> Attendance | None:
    """The attendance row of a member (by `user_id`) or else of a guest (by name)."""
    query = select(Attendance).where(Attendance.meeting_id == meeting.id)
    if user_id is not None:
        query = query.where(Attendance.user_id == user_id)
    else:
        query = query.where(Attendance.guest_name == guest_name)
    return await session.scalar(query)


async def mark_absent(
    session: AsyncSession,
    meeting: Meeting,
    *,
    user_id: int | None = None,
    guest_name: str | None = None,
) -> bool:
    """Take one attendee off the list (the counterpart of `mark_present`); False when they
    were not on it."""
    row = await _attendance_row(session, meeting, user_id, guest_name)
    if row is None:
        return False
    await session.delete(row)
    await session.flush()
    return True


async def items_to_continue(session: AsyncSession, meeting_id: int) -> list[AgendaItem]:
    """The meeting's accepted TOPs marked to be taken up again next time, in agenda order."""
    return list(
        await session.scalars(
            select(AgendaItem)
            .where(
                AgendaItem.meeting_id == meeting_id,
                AgendaItem.continue_next_time.is_(True),
                AgendaItem.status == AgendaItemStatus.ACCEPTED.value,
            )
            .order_by(AgendaItem.position)
        )
    )


async def open_action_items(session: AsyncSession, meeting_id: int) -> list[ActionItem]:
    """The meeting's action items still open, by number: all of them come back on the next
    agenda as follow-ups (no limit, unlike the listings for a chat)."""
    return list(
        await session.scalars(
            select(ActionItem)
            .where(
                ActionItem.meeting_id == meeting_id,
                ActionItem.status == ActionItemStatus.OPEN.value,
            )
            .order_by(ActionItem.number)
        )
    )
