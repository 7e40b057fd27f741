"""Plain values describing one meeting's minutes: what handlers/minutes/collect.py reads
from storage and the pure renderer (handlers/minutes/render.py) turns into Markdown and
HTML. No ORM objects here, so rendering is testable without a database and cannot trigger
lazy loads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from bot.core.numbers import decision_label

if TYPE_CHECKING:
    from storage.models import Decision


@dataclass(frozen=True)
class MinutesDecision:
    label: str  # B-2021-07
    kind: str  # DecisionKind value
    addressee: str | None
    text: str
    outcome: str  # DecisionOutcome value
    votes_for: int | None = None
    votes_against: int | None = None
    abstentions: int | None = None
    amends_label: str | None = None


@dataclass(frozen=True)
class MinutesAction:
    label: str
    assignees: tuple[str, ...]
    text: str
    due: date | None
    status: str  # ActionItemStatus value
    decision_label: str | None = None


@dataclass(frozen=True)
class MinutesTop:
    """One agenda item with what was recorded while it was current."""

    number: int | None  # TOP number; None for a break and for things recorded outside TOPs
    title: str
    kind: str  # AgendaItemKind value
    presenter: str | None
    planned_start: datetime | None  # aware, in the group's zone
    notes: tuple[str, ...] = ()
    decisions: tuple[MinutesDecision, ...] = ()
    actions: tuple[MinutesAction, ...] = ()
    continue_next_time: bool = False


@dataclass(frozen=True)
class NextMeeting:
    starts_at: datetime  # aware, in the group's zone
    ends_at: datetime | None
    title: str


@dataclass(frozen=True)
class MinutesAddendum:
    """A change made after the minutes were approved: dated and signed, never mixed in."""

    created_at: datetime  # aware, in the group's zone
    author: str | None
    text: str


@dataclass(frozen=True)
class MinutesData:
    group_name: str
    meeting_number: int
    title: str
    starts_at: datetime  # aware, in the group's zone
    ends_at: datetime | None
    location: str | None
    participants: tuple[str, ...]
    guests: tuple[str, ...]
    attendance_count: int | None
    tops: tuple[MinutesTop, ...]
    unassigned: MinutesTop | None  # notes, decisions, tasks recorded with no TOP current
    next_meetings: tuple[NextMeeting, ...]
    minute_takers: tuple[str, ...]
    status: str  # MinutesStatus value
    objections_until: datetime | None = None
    approved_at: datetime | None = None
    cancelled: bool = False
    addenda: tuple[MinutesAddendum, ...] = ()


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


def with_organisation(name: str, organisation: str | None) -> str:
    """ "Dr. Weber, IHK Köln": a participant as the groups' minutes list them."""
    return f"{name}, {organisation}" if organisation else name
