"""Re-authorization escalation for advisors, as a pure function of data.

A mistake here costs a person their public listing, so "what is due for this advisor on
this day" is computed from the advisor's history, the policy and ``today`` alone: no clock,
no database, no chat. Callers store :class:`AdvisorHistory`, call :func:`due_steps` from a
daily run (or with ``--as-of`` for a preview), act on each :class:`DueStep` and record it
back as a :class:`DoneStep`. Enum values and :attr:`DueStep.key` are stable strings, fit
for database columns and outbox dedupe keys.

Rules (the defaults are 21 / 24 / 26 / 29 months and 3 months grace):

* **Months**: :func:`add_months` keeps the day of month and clamps it to the target
  month's length: 31 Aug 2019 + 21 = 31 May 2021, 31 Aug 2019 + 18 = 28 Feb 2021,
  31 Aug 2017 + 30 = 29 Feb 2020, 29 Feb 2020 + 12 = 28 Feb 2021.
* **Cycles**: each authorization date (initial or renewal by attending an
  Erfahrungsaustausch) starts a cycle. The current cycle is the latest authorization on or
  before ``today``; authorizations dated after ``today`` are ignored until their day.
* **Regular schedule** of a cycle starting on ``a``: FIRST_REMINDER on a+21 (deadline: the
  expiry a+24, "your authorization ends on DATE"), SECOND_REMINDER on a+24 = expiry
  (deadline: the delisting date a+29), FINAL_NOTICE on a+26 (deadline a+29, "last call"),
  DELISTING on a+29 (no deadline).
* **Policy start** ``P``: nothing is ever due before ``P``. A regular step scheduled before
  ``P`` is due on ``P`` instead; since the cycle's expiry is on/after ``P`` this can only be
  a reminder whose deadline is still ahead (the mid-cycle advisor gets the first reminder
  once, late, on ``P``).
* **Legacy**: a cycle whose expiry is before ``P`` (authorization already run out when the
  policy started) gets LEGACY_NOTICE on ``P`` (deadline ``P`` + grace) and LEGACY_DELISTING
  on ``P`` + grace instead of the regular schedule. Expiry exactly on ``P`` is regular.
* **Catch-up after downtime**: every step of the current cycle that is due on or before
  ``today`` and not recorded is returned, in schedule order. A letter (reminder or notice)
  is *superseded* when a later step of the same cycle is also due by ``today``: its
  deadline is outdated, so it comes back with ``superseded=True`` and the caller records
  it as missed (``DoneStep(missed=True)``) and reports it to admins instead of sending it.
  Listing changes (DELISTING, LEGACY_DELISTING, RELISTING) of the current cycle are never
  superseded.
* **Renewal**: a new authorization ends the previous cycle. Steps of the old cycle
  scheduled on or after the renewal date are never due (renewed in time). Steps of the old
  cycle that were due before the renewal but never recorded (downtime, attendance recorded
  late) are returned once with ``superseded=True`` -- a DELISTING too: the renewal
  overrides it, the miss is reported, nothing is dropped silently.
* **Closed cycle**: once a delisting of a cycle is recorded (and not as missed), nothing
  else of that cycle is due: a delisted advisor gets no more letters until they renew.
* **Re-listing**: a cycle starts with RELISTING (due on its start, or on ``P`` if later; no
  deadline) when the advisor was delisted at that point, i.e. the last not-missed
  delisting/relisting record of earlier cycles is a delisting (ordered by cycle, a cycle's
  relisting before its delisting). Manual or imported delistings are recorded the same way.
* **Once only**: a step is identified by ``(step, cycle_start)``; whatever is recorded in
  ``steps_done`` (sent or missed) is never due again.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from functools import lru_cache

from bot.core.escalation_months import check_escalation_months


def add_months(d: date, n: int) -> date:
    """``d`` moved by ``n`` calendar months, the day clamped to the target month's end."""
    month_index = d.year * 12 + (d.month - 1) + n
    year, month0 = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last_day))


class Step(StrEnum):
    """One escalation step; the values are stored in the database and in outbox keys."""

    RELISTING = "relisting"
    FIRST_REMINDER = "first_reminder"
    SECOND_REMINDER = "second_reminder"
    FINAL_NOTICE = "final_notice"
    DELISTING = "delisting"
    LEGACY_NOTICE = "legacy_notice"
    LEGACY_DELISTING = "legacy_delisting"

    @property
    def is_delisting(self) -> bool:
        """True for the steps that remove the advisor from the public list."""
        return self in (Step.DELISTING, Step.LEGACY_DELISTING)

    @property
    def changes_listing(self) -> bool:
        """True for steps that change the listing status (never superseded while current)."""
        return self.is_delisting or self is Step.RELISTING


@dataclass(frozen=True, kw_only=True)
class EscalationPolicy:
    """The working group's reminder policy; every number is configurable.

    ``second_reminder_months`` is the expiry of an authorization.
    """

    policy_start: date
    first_reminder_months: int = 21
    second_reminder_months: int = 24
    final_notice_months: int = 26
    delisting_months: int = 29
    grace_months_for_already_expired: int = 3

    def __post_init__(self) -> None:
        check_escalation_months(
            first_reminder_months=self.first_reminder_months,
            second_reminder_months=self.second_reminder_months,
            final_notice_months=self.final_notice_months,
            delisting_months=self.delisting_months,
            grace_months_for_already_expired=self.grace_months_for_already_expired,
        )
        if not isinstance(self.policy_start, date):
            raise ValueError(f"policy_start must be a date, got {self.policy_start!r}")

    def expiry(self, cycle_start: date) -> date:
        """The day the authorization granted on ``cycle_start`` ends."""
        return add_months(cycle_start, self.second_reminder_months)

    def delisting_date(self, cycle_start: date) -> date:
        """The regular delisting day of the cycle starting on ``cycle_start``."""
        return add_months(cycle_start, self.delisting_months)

    def is_legacy(self, cycle_start: date) -> bool:
        """True if this authorization had already expired when the policy took effect."""
        return self.expiry(cycle_start) < self.policy_start

    def last_call_on(self, cycle_start: date) -> date:
        """The day the last letter before the delisting of this cycle falls due (the last
        call, or the notice of an authorization expired before the policy)."""
        if self.is_legacy(cycle_start):
            return self.policy_start
        return max(add_months(cycle_start, self.final_notice_months), self.policy_start)

    def deadline_of(self, step: Step, cycle_start: date) -> date | None:
        """The deadline a letter of this step and cycle names (None: a listing change)."""
        for entry in _plan(cycle_start, self, False):
            if entry.step is step:
                return entry.deadline
        return None


@dataclass(frozen=True)
class DoneStep:
    """A step already handled: sent, or recorded as ``missed`` (superseded, not sent)."""

    step: Step
    cycle_start: date
    done_on: date
    missed: bool = False


@dataclass(frozen=True)
class AdvisorHistory:
    """What the policy needs to know about one advisor.

    ``authorizations`` is normalized to sorted, unique dates so equal histories compare equal.
    """

    authorizations: tuple[date, ...] = ()
    steps_done: tuple[DoneStep, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "authorizations", tuple(sorted(set(self.authorizations))))
        object.__setattr__(self, "steps_done", tuple(self.steps_done))

    def record(self, steps: Iterable[DueStep], done_on: date) -> AdvisorHistory:
        """A new history with ``steps`` recorded (superseded ones as missed)."""
        added = tuple(DoneStep(s.step, s.cycle_start, done_on, missed=s.superseded) for s in steps)
        return AdvisorHistory(self.authorizations, self.steps_done + added)

    def renewed(self, on: date) -> AdvisorHistory:
        """A new history with an authorization (attendance at an exchange) on ``on``."""
        return AdvisorHistory((*self.authorizations, on), self.steps_done)


@dataclass(frozen=True)
class DueStep:
    """A step to act on now.

    ``due_on`` is the day it became due (``<= today``); ``deadline`` is the day the advisor
    must attend an exchange by, as written in the letter (``None`` for listing changes).
    """

    step: Step
    due_on: date
    cycle_start: date
    deadline: date | None
    superseded: bool = False

    @property
    def key(self) -> str:
        """Stable idempotency key of this step for this advisor, e.g. for the outbox."""
        return f"{self.step.value}:{self.cycle_start.isoformat()}"


@dataclass(frozen=True)
class TimelineEntry:
    """One planned step of a cycle and, if handled, how."""

    step: Step
    due_on: date
    cycle_start: date
    deadline: date | None
    done: DoneStep | None = None


@lru_cache(maxsize=4096)
def _plan(cycle_start: date, policy: EscalationPolicy, relist: bool) -> tuple[TimelineEntry, ...]:
    """The planned steps of one cycle in order; due dates never decrease along it.

    Cached because the daily run evaluates the same few cycles over and over.
    """
    p = policy.policy_start
    entries: list[TimelineEntry] = []
    if relist:
        entries.append(TimelineEntry(Step.RELISTING, max(cycle_start, p), cycle_start, None))
    if policy.is_legacy(cycle_start):
        deadline = add_months(p, policy.grace_months_for_already_expired)
        entries.append(TimelineEntry(Step.LEGACY_NOTICE, p, cycle_start, deadline))
        entries.append(TimelineEntry(Step.LEGACY_DELISTING, deadline, cycle_start, None))
        return tuple(entries)
    expiry = policy.expiry(cycle_start)
    delisting = policy.delisting_date(cycle_start)
    for step, months, deadline in (
        (Step.FIRST_REMINDER, policy.first_reminder_months, expiry),
        (Step.SECOND_REMINDER, policy.second_reminder_months, delisting),
        (Step.FINAL_NOTICE, policy.final_notice_months, delisting),
        (Step.DELISTING, policy.delisting_months, None),
    ):
        due = max(add_months(cycle_start, months), p)
        entries.append(TimelineEntry(step, due, cycle_start, deadline))
    return tuple(entries)


def _delisted_before(history: AdvisorHistory, cycle_start: date) -> bool:
    """Whether the advisor stood delisted when the cycle starting on ``cycle_start`` began."""
    events = [
        (d.cycle_start, 1 if d.step.is_delisting else 0)
        for d in history.steps_done
        if d.cycle_start < cycle_start and d.step.changes_listing and not d.missed
    ]
    return bool(events) and max(events)[1] == 1


def due_steps(history: AdvisorHistory, policy: EscalationPolicy, today: date) -> list[DueStep]:
    """Every step due on or before ``today`` and not yet recorded, in order (see module doc)."""
    starts = [a for a in history.authorizations if a <= today]
    done = {(d.step, d.cycle_start) for d in history.steps_done}
    closed = {d.cycle_start for d in history.steps_done if d.step.is_delisting and not d.missed}
    result: list[DueStep] = []
    for i, start in enumerate(starts):
        renewal = starts[i + 1] if i + 1 < len(starts) else None
        if start in closed:
            continue  # the advisor is delisted in this cycle: no more letters until renewal
        if renewal is not None and renewal <= policy.policy_start:
            continue  # ended before the policy took effect: nothing of it was ever due
        # A prefix of the plan, because due dates never decrease along it.
        reachable = [
            e
            for e in _plan(start, policy, _delisted_before(history, start))
            if e.due_on <= today and (renewal is None or e.due_on < renewal)
        ]
        for index, entry in enumerate(reachable):
            if (entry.step, start) in done:
                continue
            superseded = renewal is not None or (
                not entry.step.changes_listing and index + 1 < len(reachable)
            )
            result.append(
                DueStep(entry.step, entry.due_on, start, entry.deadline, superseded=superseded)
            )
    return result


def timeline(
    history: AdvisorHistory, policy: EscalationPolicy, as_of: date | None = None
) -> list[TimelineEntry]:
    """The full plan of the cycle current on ``as_of`` (default: the latest authorization).

    For the admin's "show an advisor's timeline" and ``--as-of`` previews; entries carry
    their record if handled. Empty if there is no authorization on or before ``as_of``.
    """
    starts = [a for a in history.authorizations if as_of is None or a <= as_of]
    if not starts:
        return []
    start = starts[-1]
    done = {(d.step, d.cycle_start): d for d in history.steps_done}
    return [
        replace(e, done=done.get((e.step, start)))
        for e in _plan(start, policy, _delisted_before(history, start))
    ]


def next_due_on(history: AdvisorHistory, policy: EscalationPolicy) -> date | None:
    """The first day on which :func:`due_steps` returns something, or None if never.

    Stored per advisor (indexed), so the daily run selects ``next_due_on <= today`` instead
    of evaluating every advisor. ``due_steps`` only compares ``today`` with authorization
    dates and planned due dates, so its answer changes on those days only: the earliest
    such day with work is the answer (it may lie in the past if work is still open).
    """
    candidates = set(history.authorizations)
    for start in history.authorizations:
        for entry in _plan(start, policy, _delisted_before(history, start)):
            candidates.add(entry.due_on)
    for day in sorted(candidates):
        if due_steps(history, policy, day):
            return day
    return None


def policy_fingerprint(policy: EscalationPolicy | None) -> str:
    """The policy's numbers as one stable text ("off" without a policy): stored with the
    `next_step_on` values it produced, so a change of settings is noticed and they are
    recomputed; also part of the authorization feed's version."""
    if policy is None:
        return "off"
    return ":".join(
        str(v)
        for v in (
            policy.policy_start.isoformat(),
            policy.first_reminder_months,
            policy.second_reminder_months,
            policy.final_notice_months,
            policy.delisting_months,
            policy.grace_months_for_already_expired,
        )
    )
