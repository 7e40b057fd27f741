"""Everything a meeting's minutes show, read through storage and handed to the pure
renderer as plain values (handlers/minutes/data.py), in the group's time zone."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.core.enums import AgendaItemKind, MeetingStatus, MinutesStatus
from bot.core.numbers import action_label
from handlers.minutes.data import (
    MinutesAction,
    MinutesAddendum,
    MinutesData,
    MinutesTop,
    NextMeeting,
    decision_value,
    with_organisation,
)
from storage import agenda as agenda_store
from storage import minutes as minutes_store
from storage import people

if TYPE_CHECKING:
    from storage.db import Session
    from storage.models import ActionItem, AgendaItem, Group, Meeting


async def collect_minutes(
    session: Session, group: Group, meeting: Meeting, *, platform: str | None = None
) -> MinutesData:
    """Everything the minutes show, as plain values in the group's time zone."""
    tz = ZoneInfo(group.timezone)
    tops = await agenda_store.accepted_items(session, meeting.id)
    notes = await agenda_store.notes_of(session, meeting.id)
    addenda = await agenda_store.notes_of(session, meeting.id, addenda=True)
    decisions = await minutes_store.decisions_of_meeting(session, group.id, meeting.id)
    actions = await minutes_store.action_items_of_meeting(session, group.id, meeting.id)
    attendance = await agenda_store.attendance_of(session, meeting.id)
    assignees = await minutes_store.assignees_of(session, [a.id for a in actions])
    writers = [n.author_user_id for n in notes] + [d.created_by_user_id for d in decisions]
    writers += [a.created_by_user_id for a in actions]
    persons = {a.user_id for a in attendance if a.user_id is not None}
    persons |= {r.user_id for rows in assignees.values() for r in rows if r.user_id is not None}
    persons |= {t.presenter_user_id for t in tops if t.presenter_user_id is not None}
    persons |= {a.author_user_id for a in addenda if a.author_user_id is not None}
    names = await people.display_names(session, persons | {w for w in writers if w}, platform)
    labels = await minutes_store.decision_labels(
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

    numbers = agenda_store.top_numbers(tops)  # breaks have none
    loose = top_value(None, None)
    has_loose = bool(loose.notes or loose.decisions or loose.actions)
    approved = meeting.minutes_status == MinutesStatus.APPROVED.value
    upcoming = await minutes_store.scheduled_meetings_after(
        session,
        group.id,
        meeting.starts_at,
        known_at=meeting.minutes_approved_at if approved else None,
        limit=5,
    )
    # "Mitschrift": those who recorded entries in the role of minute-taker or chair; members
    # may add notes too, but they do not sign the minutes unless nobody else wrote.
    takers = await minutes_store.minute_takers_among(session, group.id, {w for w in writers if w})
    signing = [w for w in writers if w in takers] or [w for w in writers if w]
    seen_writers = dict.fromkeys(names[w] for w in signing if w in names)
    return MinutesData(
        group_name=group.name,
        meeting_number=meeting.number,
        title=meeting.title,
        starts_at=meeting.starts_at.astimezone(tz),
        ends_at=meeting.ends_at.astimezone(tz) if meeting.ends_at else None,
        location=meeting.location,
        # A member who erased their data is a nameless stand-in labelled "former member".
        participants=tuple(
            names.get(a.user_id, a.guest_name or "?") for a in attendance if a.user_id is not None
        )
        + tuple(
            with_organisation(a.guest_name, a.organisation)
            for a in attendance
            if a.user_id is None and a.guest_name and not a.as_guest
        ),
        guests=tuple(
            a.guest_name for a in attendance if a.user_id is None and a.guest_name and a.as_guest
        ),
        attendance_count=meeting.attendance_count,
        tops=tuple(top_value(numbers.get(item.id), item) for item in tops),
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
        addenda=tuple(
            MinutesAddendum(a.created_at.astimezone(tz), names.get(a.author_user_id or 0), a.text)
            for a in addenda
        ),
    )
