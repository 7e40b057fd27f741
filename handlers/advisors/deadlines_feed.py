"""An advisor's authorization deadlines in their personal calendar feed.

The reminder letters name these dates; in the calendar they are there all along, with the
phone's own alarm, and move by themselves when attendance renews the authorization (a new
cycle: new UIDs, the old dates drop out of the feed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.core.dates import format_date
from bot.core.enums import ListingStatus
from handlers.advisors.actions import histories
from handlers.advisors.escalation import advisor_policy
from handlers.advisors.policy import (
    AdvisorHistory,
    EscalationPolicy,
    Step,
    add_months,
    policy_fingerprint,
    timeline,
)
from handlers.calendar.events import EventStyle, due_date_event
from handlers.calendar.feed_source import FeedScope, SourceVersion
from handlers.calendar.ics import CalendarEvent
from storage import advisors as advisor_store
from storage.db import Session

_DELISTINGS = (Step.DELISTING, Step.LEGACY_DELISTING)


@dataclass(frozen=True, slots=True)
class Deadline:
    kind: str  # "expiry" or "delisting"
    due: date
    cycle_start: date


def authorization_deadlines(
    history: AdvisorHistory,
    *,
    listed: bool,
    expiry_months: int,
    policy: EscalationPolicy | None,
) -> list[Deadline]:
    """The dates a listed advisor must know for their latest authorization.

    Expiry is `expiry_months` after it; without a policy start date there is no delisting
    schedule, so only the expiry is shown. An authorization that had already run out when
    the policy started has no expiry ahead, only the legacy delisting date.
    """
    if not listed or not history.authorizations:
        return []
    start = max(history.authorizations)
    if policy is None:
        return [Deadline("expiry", add_months(start, expiry_months), start)]
    deadlines = []
    if not policy.is_legacy(start):
        deadlines.append(Deadline("expiry", policy.expiry(start), start))
    for entry in timeline(history, policy):
        if entry.step in _DELISTINGS and entry.done is None:
            deadlines.append(Deadline("delisting", entry.due_on, start))
    return deadlines


class AuthorizationDeadlinesSource:
    """The person's advisor entries (usually one, once linked with /verknuepfen)."""

    name = "authorization"

    async def version(self, session: Session, scope: FeedScope) -> SourceVersion:
        if scope.user is None:
            return SourceVersion("-", None)
        found = await advisor_store.entries_version(session, scope.user.id)
        if found is None:  # most people are no advisors: one query for them on every fetch
            return SourceVersion("-", None)
        tag, latest = found
        policy = policy_fingerprint(advisor_policy(scope.settings))
        months = scope.settings.advisor_second_reminder_months
        return SourceVersion(f"{tag}:{policy}:{months}", latest)

    async def events(
        self, session: Session, scope: FeedScope, style: EventStyle
    ) -> list[CalendarEvent]:
        if scope.user is None:
            return []
        advisors = await advisor_store.advisors_of_person(session, scope.user.id)
        found = await histories(session, [a.id for a in advisors])
        policy = advisor_policy(scope.settings)
        t = style.t
        events = []
        for advisor in advisors:
            for deadline in authorization_deadlines(
                found[advisor.id],
                listed=advisor.status == ListingStatus.LISTED.value,
                expiry_months=scope.settings.advisor_second_reminder_months,
                policy=policy,
            ):
                if deadline.kind == "expiry":
                    summary = t.gettext("Advisor authorization ends")
                    description = t.gettext(
                        "Your authorization of {date} ends today. Attending an experience "
                        "exchange renews it from the day you attend.",
                        date=format_date(deadline.cycle_start, t.language),
                    )
                else:
                    summary = t.gettext("Removal from the public advisor list")
                    description = t.gettext(
                        "Unless your authorization of {date} is renewed by attending an "
                        "experience exchange, you are removed from the public advisor list "
                        "today.",
                        date=format_date(deadline.cycle_start, t.language),
                    )
                events.append(
                    due_date_event(
                        kind="authorization",
                        key=f"{advisor.id}-{deadline.cycle_start.isoformat()}-{deadline.kind}",
                        summary=summary,
                        due=deadline.due,
                        tzid=scope.settings.bot_timezone,
                        style=style,
                        stamp=advisor.updated_at,
                        description=description,
                    )
                )
        return events
