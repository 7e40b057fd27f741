"""The advisor escalation policy: exact dates, exactly-once delivery, downtime, renewals.

Most tests run the pure function the way the daily job will: once per (simulated) day,
recording every returned step before the next day, so "never twice, never skipped" is
checked over whole years rather than asserted for single dates.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.advisors.policy import (
    AdvisorHistory,
    DoneStep,
    DueStep,
    EscalationPolicy,
    Step,
    add_months,
    due_steps,
    timeline,
)

D = date
EARLY = D(2000, 1, 1)  # a policy start before every authorization used here
DEFAULT = EscalationPolicy(policy_start=EARLY)
F, S, N, X = Step.FIRST_REMINDER, Step.SECOND_REMINDER, Step.FINAL_NOTICE, Step.DELISTING
LN, LX, R = Step.LEGACY_NOTICE, Step.LEGACY_DELISTING, Step.RELISTING


def days(start: date, end: date, every: int = 1) -> Iterator[date]:
    """``start`` .. ``end`` inclusive."""
    day = start
    while day <= end:
        yield day
        day += timedelta(days=every)


def simulate(
    policy: EscalationPolicy,
    run_days: Iterable[date],
    authorizations: Iterable[tuple[date, date] | date],
    history: AdvisorHistory | None = None,
) -> tuple[list[tuple[date, DueStep]], AdvisorHistory]:
    """Run the policy on each of ``run_days``, recording what it returns.

    An authorization is ``date`` or ``(date, recorded_on)``: it becomes known to the job on
    ``recorded_on`` (later than its date for attendance recorded late).
    """
    auths = [a if isinstance(a, tuple) else (a, a) for a in authorizations]
    history = history or AdvisorHistory()
    seen: list[tuple[date, DueStep]] = []
    for day in run_days:
        known = {a for a, recorded in auths if recorded <= day} - set(history.authorizations)
        if known:
            history = AdvisorHistory((*history.authorizations, *known), history.steps_done)
        due = due_steps(history, policy, day)
        if due:
            seen.extend((day, s) for s in due)
            history = history.record(due, day)
    return seen, history


def brief(seen: list[tuple[date, DueStep]]) -> list[tuple[date, Step, date, bool]]:
    """(run day, step, due_on, superseded) -- what a reader checks by eye."""
    return [(day, s.step, s.due_on, s.superseded) for day, s in seen]


# --- month arithmetic -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2019, 8, 31), 21, D(2021, 5, 31)),
        (D(2019, 8, 31), 18, D(2021, 2, 28)),
        (D(2019, 8, 31), 24, D(2021, 8, 31)),
        (D(2019, 8, 31), 26, D(2021, 10, 31)),
        (D(2019, 8, 31), 29, D(2022, 1, 31)),
        (D(2017, 8, 31), 30, D(2020, 2, 29)),
        (D(2020, 2, 29), 12, D(2021, 2, 28)),
        (D(2020, 2, 29), 48, D(2024, 2, 29)),
        (D(2020, 2, 29), 21, D(2021, 11, 29)),
        (D(2020, 1, 31), 1, D(2020, 2, 29)),
        (D(2021, 1, 31), 1, D(2021, 2, 28)),
        (D(2021, 3, 31), -1, D(2021, 2, 28)),
        (D(2021, 1, 15), -13, D(2019, 12, 15)),
        (D(2021, 12, 31), 1, D(2022, 1, 31)),
        (D(2021, 5, 17), 0, D(2021, 5, 17)),
    ],
)
def test_add_months_examples(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize("year", [2019, 2020, 2100, 2000])
def test_add_months_every_day_of_the_year(year: int) -> None:
    """Every day of leap and non-leap years (2100 is not leap, 2000 is), n in -40..40."""
    for d in days(D(year, 1, 1), D(year, 12, 31)):
        previous: date | None = None
        for n in range(-40, 41):
            got = add_months(d, n)
            index = d.year * 12 + d.month - 1 + n
            assert (got.year, got.month) == (index // 12, index % 12 + 1)
            assert got.day == min(d.day, calendar.monthrange(got.year, got.month)[1])
            assert got.day <= d.day
            if previous is not None:
                assert previous < got  # monotonic in n
                # never skips or repeats a month
                assert (got.year * 12 + got.month) - (previous.year * 12 + previous.month) == 1
            if d.day <= 28:
                assert add_months(got, -n) == d
            previous = got


# --- the policy object -------------------------------------------------------------------


def test_default_policy_numbers() -> None:
    p = EscalationPolicy(policy_start=D(2023, 1, 1))
    assert (
        p.first_reminder_months,
        p.second_reminder_months,
        p.final_notice_months,
        p.delisting_months,
        p.grace_months_for_already_expired,
    ) == (21, 24, 26, 29, 3)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"first_reminder_months": 0}, "first_reminder_months must be positive"),
        ({"first_reminder_months": -3}, "first_reminder_months must be positive"),
        ({"second_reminder_months": 21}, "strictly increasing"),
        ({"final_notice_months": 23}, "strictly increasing"),
        ({"delisting_months": 26}, "strictly increasing"),
        ({"first_reminder_months": 30}, "strictly increasing"),
        ({"grace_months_for_already_expired": 0}, "grace_months_for_already_expired"),
        ({"grace_months_for_already_expired": -1}, "grace_months_for_already_expired"),
        ({"delisting_months": 29.5}, "whole number"),
        ({"final_notice_months": True}, "whole number"),
        ({"policy_start": "2023-01-01"}, "policy_start must be a date"),
    ],
)
def test_invalid_policies_are_rejected(changes: dict[str, object], message: str) -> None:
    kwargs: dict[str, object] = {"policy_start": D(2023, 1, 1), **changes}
    with pytest.raises(ValueError, match=message):
        EscalationPolicy(**kwargs)  # type: ignore[arg-type]


def test_step_values_and_keys_are_stable() -> None:
    """These strings live in the database and in outbox keys: changing them is a migration."""
    assert {s.name: s.value for s in Step} == {
        "RELISTING": "relisting",
        "FIRST_REMINDER": "first_reminder",
        "SECOND_REMINDER": "second_reminder",
        "FINAL_NOTICE": "final_notice",
        "DELISTING": "delisting",
        "LEGACY_NOTICE": "legacy_notice",
        "LEGACY_DELISTING": "legacy_delisting",
    }
    due = DueStep(F, D(2021, 5, 31), D(2019, 8, 31), D(2021, 8, 31))
    assert due.key == "first_reminder:2019-08-31"
    assert [s for s in Step if s.changes_listing] == [R, X, LX]


def test_history_normalizes_authorizations() -> None:
    h = AdvisorHistory((D(2021, 1, 1), D(2019, 1, 1), D(2021, 1, 1)))
    assert h.authorizations == (D(2019, 1, 1), D(2021, 1, 1))
    assert h == AdvisorHistory((D(2019, 1, 1), D(2021, 1, 1)))
    assert h.renewed(D(2020, 1, 1)).authorizations[1] == D(2020, 1, 1)


# --- the regular schedule ------------------------------------------------------------------

SCHEDULES = {
    # authorized: [(step, due_on, deadline)]
    D(2019, 8, 31): [
        (F, D(2021, 5, 31), D(2021, 8, 31)),
        (S, D(2021, 8, 31), D(2022, 1, 31)),
        (N, D(2021, 10, 31), D(2022, 1, 31)),
        (X, D(2022, 1, 31), None),
    ],
    D(2020, 1, 15): [
        (F, D(2021, 10, 15), D(2022, 1, 15)),
        (S, D(2022, 1, 15), D(2022, 6, 15)),
        (N, D(2022, 3, 15), D(2022, 6, 15)),
        (X, D(2022, 6, 15), None),
    ],
    D(2020, 2, 29): [
        (F, D(2021, 11, 29), D(2022, 2, 28)),
        (S, D(2022, 2, 28), D(2022, 7, 29)),
        (N, D(2022, 4, 29), D(2022, 7, 29)),
        (X, D(2022, 7, 29), None),
    ],
}


@pytest.mark.parametrize("authorized", list(SCHEDULES))
def test_timeline_has_the_exact_dates(authorized: date) -> None:
    history = AdvisorHistory((authorized,))
    assert [(e.step, e.due_on, e.deadline) for e in timeline(history, DEFAULT)] == SCHEDULES[
        authorized
    ]
    assert all(e.cycle_start == authorized and e.done is None for e in timeline(history, DEFAULT))


@pytest.mark.parametrize("authorized", list(SCHEDULES))
def test_daily_run_sends_each_step_once_on_its_day(authorized: date) -> None:
    seen, history = simulate(
        DEFAULT,
        days(authorized - timedelta(days=30), authorized + timedelta(days=3 * 366)),
        [authorized],
    )
    assert [(s.step, day, s.deadline) for day, s in seen] == SCHEDULES[authorized]
    assert all(s.due_on == day and not s.superseded for day, s in seen)
    assert len({s.key for _, s in seen}) == 4
    # afterwards the timeline shows every step as handled on its day
    assert [e.done.done_on for e in timeline(history, DEFAULT) if e.done] == [
        due for _, due, _ in SCHEDULES[authorized]
    ]


def test_nothing_is_due_without_an_authorization_on_or_before_today() -> None:
    assert due_steps(AdvisorHistory(), DEFAULT, D(2030, 1, 1)) == []
    future = AdvisorHistory((D(2025, 1, 1),))
    assert due_steps(future, DEFAULT, D(2024, 12, 31)) == []
    assert timeline(future, DEFAULT, as_of=D(2024, 12, 31)) == []
    assert timeline(AdvisorHistory(), DEFAULT) == []


def test_the_day_before_a_step_nothing_is_due_and_the_function_is_pure() -> None:
    history = AdvisorHistory((D(2019, 8, 31),))
    assert due_steps(history, DEFAULT, D(2021, 5, 30)) == []
    first = due_steps(history, DEFAULT, D(2021, 5, 31))
    assert first == due_steps(history, DEFAULT, D(2021, 5, 31))  # not recorded: same again
    assert due_steps(history.record(first, D(2021, 5, 31)), DEFAULT, D(2021, 5, 31)) == []


def test_custom_policy_numbers() -> None:
    policy = EscalationPolicy(
        policy_start=D(2020, 1, 1),
        first_reminder_months=6,
        second_reminder_months=12,
        final_notice_months=13,
        delisting_months=15,
        grace_months_for_already_expired=2,
    )
    seen, _ = simulate(policy, days(D(2020, 8, 1), D(2022, 1, 1)), [D(2020, 8, 31)])
    assert [(s.step, day, s.deadline) for day, s in seen] == [
        (F, D(2021, 2, 28), D(2021, 8, 31)),
        (S, D(2021, 8, 31), D(2021, 11, 30)),
        (N, D(2021, 9, 30), D(2021, 11, 30)),
        (X, D(2021, 11, 30), None),
    ]
    # already expired at policy start (expiry 2019-12-15 < 2020-01-01): 2 months grace
    seen, _ = simulate(policy, days(D(2019, 12, 1), D(2020, 6, 1)), [D(2018, 12, 15)])
    assert [(s.step, day, s.deadline) for day, s in seen] == [
        (LN, D(2020, 1, 1), D(2020, 3, 1)),
        (LX, D(2020, 3, 1), None),
    ]


# --- downtime ----------------------------------------------------------------------------


def test_downtime_of_six_months_sends_only_the_current_letter() -> None:
    auth = D(2019, 8, 31)
    seen, _ = simulate(DEFAULT, [D(2021, 5, 31), D(2021, 11, 30), D(2021, 12, 1)], [auth])
    assert brief(seen) == [
        (D(2021, 5, 31), F, D(2021, 5, 31), False),
        # down from June to November: the second reminder is outdated (recorded as missed),
        # the final notice still has two months to go and is sent
        (D(2021, 11, 30), S, D(2021, 8, 31), True),
        (D(2021, 11, 30), N, D(2021, 10, 31), False),
    ]


def test_downtime_past_the_delisting_date_reports_every_letter_and_delists() -> None:
    seen, history = simulate(DEFAULT, [D(2022, 3, 1), D(2022, 3, 2)], [D(2019, 8, 31)])
    assert brief(seen) == [
        (D(2022, 3, 1), F, D(2021, 5, 31), True),
        (D(2022, 3, 1), S, D(2021, 8, 31), True),
        (D(2022, 3, 1), N, D(2021, 10, 31), True),
        (D(2022, 3, 1), X, D(2022, 1, 31), False),
    ]
    assert [d.missed for d in history.steps_done] == [True, True, True, False]


def test_late_but_still_meaningful_letter_is_sent() -> None:
    seen, _ = simulate(DEFAULT, [D(2021, 7, 20)], [D(2019, 8, 31)])
    assert brief(seen) == [(D(2021, 7, 20), F, D(2021, 5, 31), False)]
    assert seen[0][1].deadline == D(2021, 8, 31)


@pytest.mark.parametrize("every", [2, 7, 30, 45, 100, 400])
def test_any_run_interval_handles_each_step_exactly_once(every: int) -> None:
    auth = D(2020, 2, 29)
    seen, _ = simulate(DEFAULT, days(auth, auth + timedelta(days=1500), every), [auth])
    assert sorted(s.step for _, s in seen) == sorted([F, S, N, X])
    assert [s.step for _, s in seen if not s.superseded][-1] == X
    assert all(s.due_on <= day for day, s in seen)


# --- renewals ------------------------------------------------------------------------------


def test_renewal_between_steps_starts_a_new_cycle() -> None:
    first, renewal = D(2020, 1, 15), D(2021, 12, 1)
    seen, _ = simulate(DEFAULT, days(first, D(2024, 12, 31)), [first, renewal])
    assert brief(seen) == [
        (D(2021, 10, 15), F, D(2021, 10, 15), False),
        # the old cycle's second reminder etc. never come: renewed in time
        (D(2023, 9, 1), F, D(2023, 9, 1), False),
        (D(2023, 12, 1), S, D(2023, 12, 1), False),
        (D(2024, 2, 1), N, D(2024, 2, 1), False),
        (D(2024, 5, 1), X, D(2024, 5, 1), False),
    ]
    assert {s.cycle_start for _, s in seen} == {first, renewal}


def test_renewal_on_the_day_a_step_is_due_prevents_it() -> None:
    first = D(2020, 1, 15)
    seen, _ = simulate(DEFAULT, days(first, D(2022, 6, 30)), [first, D(2022, 1, 15)])
    assert brief(seen) == [(D(2021, 10, 15), F, D(2021, 10, 15), False)]


def test_renewal_recorded_late_reports_the_missed_old_steps_once() -> None:
    first, renewal = D(2020, 1, 15), D(2021, 12, 1)
    # bot down from Oct to Dec 2021; the attendance of 1 Dec is entered on 10 Dec
    run = [*days(first, D(2021, 10, 1)), *days(D(2021, 12, 10), D(2022, 1, 31))]
    seen, _ = simulate(DEFAULT, run, [first, (renewal, D(2021, 12, 10))])
    assert brief(seen) == [(D(2021, 12, 10), F, D(2021, 10, 15), True)]
    assert seen[0][1].cycle_start == first


def test_renewal_recorded_after_the_delisting_relists_on_the_renewal_date() -> None:
    first, renewal = D(2019, 8, 31), D(2022, 1, 20)
    run = days(D(2021, 5, 1), D(2022, 2, 28))
    seen, _ = simulate(DEFAULT, run, [first, (renewal, D(2022, 2, 10))])
    assert [(day, s.step, s.due_on, s.cycle_start) for day, s in seen][-2:] == [
        (D(2022, 1, 31), X, D(2022, 1, 31), first),
        (D(2022, 2, 10), R, renewal, renewal),
    ]


def test_renewal_after_delisting_relists_and_restarts_the_schedule() -> None:
    first, back, again = D(2019, 8, 31), D(2022, 3, 10), D(2024, 1, 5)
    seen, history = simulate(DEFAULT, days(first, D(2027, 1, 1)), [first, back, again])
    assert [(day, s.step, s.cycle_start) for day, s in seen] == [
        (D(2021, 5, 31), F, first),
        (D(2021, 8, 31), S, first),
        (D(2021, 10, 31), N, first),
        (D(2022, 1, 31), X, first),
        (back, R, back),
        (D(2023, 12, 10), F, back),
        # renewed in time: no second relisting for the third cycle
        (D(2025, 10, 5), F, again),
        (D(2026, 1, 5), S, again),
        (D(2026, 3, 5), N, again),
        (D(2026, 6, 5), X, again),
    ]
    later = D(2026, 8, 1)
    seen, _ = simulate(DEFAULT, days(later, later), [later], history)
    assert [(s.step, s.due_on, s.key) for _, s in seen] == [(R, later, "relisting:2026-08-01")]
    assert [e.step for e in timeline(history.renewed(later), DEFAULT)] == [R, F, S, N, X]


def test_a_missed_delisting_does_not_cause_a_relisting() -> None:
    first, renewal = D(2019, 8, 31), D(2022, 2, 15)
    seen, _ = simulate(DEFAULT, [D(2022, 3, 1), D(2022, 3, 2)], [first, renewal])
    assert [(s.step, s.superseded, s.cycle_start) for _, s in seen] == [
        (F, True, first),
        (S, True, first),
        (N, True, first),
        (X, True, first),  # the renewal overrides it: reported, the advisor stays listed
    ]


def test_relisting_not_yet_done_moves_to_the_next_cycle() -> None:
    c1, c2, c3 = D(2019, 8, 31), D(2022, 3, 10), D(2022, 4, 1)
    history = AdvisorHistory((c1, c2, c3), (DoneStep(X, c1, D(2022, 1, 31)),))
    got = due_steps(history, DEFAULT, D(2022, 4, 2))
    assert [(s.step, s.cycle_start, s.superseded) for s in got] == [
        (R, c2, True),
        (R, c3, False),
    ]
    assert due_steps(history.record(got, D(2022, 4, 2)), DEFAULT, D(2022, 4, 3)) == []


def test_a_manual_delisting_closes_the_cycle_until_renewal() -> None:
    auth = D(2019, 8, 31)
    history = AdvisorHistory((auth,), (DoneStep(X, auth, D(2020, 5, 1)),))
    assert due_steps(history, DEFAULT, D(2022, 6, 1)) == []
    renewed = history.renewed(D(2022, 6, 1))
    assert [s.step for s in due_steps(renewed, DEFAULT, D(2022, 6, 1))] == [R]


# --- policy start -------------------------------------------------------------------------

START = D(2020, 6, 1)
AT_START = EscalationPolicy(policy_start=START)


@pytest.mark.parametrize("authorized", [D(2018, 5, 31), D(2018, 1, 10), D(2010, 3, 3)])
def test_already_expired_at_policy_start_get_one_notice_then_delisting(authorized: date) -> None:
    seen, _ = simulate(AT_START, days(D(2019, 1, 1), D(2021, 12, 31)), [authorized])
    assert [(day, s.step, s.deadline, s.superseded) for day, s in seen] == [
        (START, LN, D(2020, 9, 1), False),
        (D(2020, 9, 1), LX, None, False),
    ]


def test_already_expired_renewing_within_the_grace_period_stays_listed() -> None:
    old, renewal = D(2018, 1, 10), D(2020, 7, 15)
    seen, _ = simulate(AT_START, days(D(2019, 1, 1), D(2022, 12, 31)), [old, renewal])
    assert [(day, s.step, s.cycle_start) for day, s in seen] == [
        (START, LN, old),
        (D(2022, 4, 15), F, renewal),
        (D(2022, 7, 15), S, renewal),
        (D(2022, 9, 15), N, renewal),
        (D(2022, 12, 15), X, renewal),
    ]


def test_legacy_delisting_then_renewal_relists() -> None:
    old, renewal = D(2018, 1, 10), D(2021, 1, 20)
    seen, _ = simulate(AT_START, days(D(2020, 1, 1), D(2021, 2, 1)), [old, renewal])
    assert [s.step for _, s in seen] == [LN, LX, R]


def test_expiry_exactly_on_policy_start_is_the_regular_schedule() -> None:
    seen, _ = simulate(AT_START, days(D(2019, 1, 1), D(2021, 1, 1)), [D(2018, 6, 1)])
    assert brief(seen) == [
        # the first reminder would be due on the same day as the expiry letter: outdated
        (START, F, START, True),
        (START, S, START, False),
        (D(2020, 8, 1), N, D(2020, 8, 1), False),
        (D(2020, 11, 1), X, D(2020, 11, 1), False),
    ]


def test_mid_cycle_at_policy_start_gets_the_first_reminder_late_once() -> None:
    auth = D(2018, 6, 15)  # first reminder 2020-03-15 before the start, expiry 2020-06-15 after
    seen, _ = simulate(AT_START, days(D(2019, 1, 1), D(2021, 1, 1)), [auth])
    assert [(day, s.step, s.deadline, s.superseded) for day, s in seen] == [
        (START, F, D(2020, 6, 15), False),
        (D(2020, 6, 15), S, D(2020, 11, 15), False),
        (D(2020, 8, 15), N, D(2020, 11, 15), False),
        (D(2020, 11, 15), X, None, False),
    ]


@pytest.mark.parametrize("authorized", [D(2018, 9, 1), D(2020, 5, 1), D(2021, 3, 31)])
def test_fresh_advisors_follow_the_plain_schedule(authorized: date) -> None:
    seen, _ = simulate(AT_START, days(D(2018, 6, 1), D(2024, 12, 31)), [authorized])
    assert [(s.step, day) for day, s in seen] == [
        (step, add_months(authorized, months))
        for step, months in ((F, 21), (S, 24), (N, 26), (X, 29))
    ]


def test_nothing_is_due_before_the_policy_starts() -> None:
    expired = AdvisorHistory((D(2015, 1, 1),))
    assert due_steps(expired, AT_START, START - timedelta(days=1)) == []
    assert [s.step for s in due_steps(expired, AT_START, START)] == [LN]
    # authorizations renewed before the policy started produce nothing for the old cycle
    renewed = AdvisorHistory((D(2015, 1, 1), D(2019, 1, 1)))
    assert due_steps(renewed, AT_START, D(2020, 9, 30)) == []
    assert due_steps(renewed, AT_START, D(2020, 10, 1)) == [
        DueStep(F, D(2020, 10, 1), D(2019, 1, 1), D(2021, 1, 1))
    ]


# --- timeline ------------------------------------------------------------------------------


def test_timeline_as_of_chooses_the_cycle_and_shows_records() -> None:
    c1, c2 = D(2019, 8, 31), D(2021, 7, 1)
    _, history = simulate(DEFAULT, days(c1, D(2021, 6, 30)), [c1])
    history = history.renewed(c2)
    old = timeline(history, DEFAULT, as_of=D(2021, 6, 30))
    assert [(e.step, e.done.done_on if e.done else None) for e in old] == [
        (F, D(2021, 5, 31)),
        (S, None),
        (N, None),
        (X, None),
    ]
    assert timeline(history, DEFAULT) == timeline(history, DEFAULT, as_of=c2)
    assert {e.cycle_start for e in timeline(history, DEFAULT)} == {c2}


# --- properties ----------------------------------------------------------------------------

PLAN_ORDER = {s: i for i, s in enumerate([R, F, S, N, X])} | {LN: 1, LX: 2}

dates = st.dates(min_value=D(2014, 1, 1), max_value=D(2024, 12, 31))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[EscalationPolicy, list[tuple[date, date]], list[date]]:
    """A policy, authorizations (each with the day it gets recorded) and the run days."""
    months = sorted(draw(st.sets(st.integers(1, 40), min_size=4, max_size=4)))
    policy = EscalationPolicy(
        policy_start=draw(dates),
        first_reminder_months=months[0],
        second_reminder_months=months[1],
        final_notice_months=months[2],
        delisting_months=months[3],
        grace_months_for_already_expired=draw(st.integers(1, 6)),
    )
    first = draw(dates)
    auths = [(first, first)]
    for gap, lag in draw(
        st.lists(st.tuples(st.integers(1, 1500), st.integers(0, 120)), max_size=4)
    ):
        renewal = auths[-1][0] + timedelta(days=gap)
        auths.append((renewal, renewal + timedelta(days=lag)))
    start = first - timedelta(days=1)
    # long enough for the last cycle (or the legacy grace period) to run its course
    end = max(auths[-1][1], policy.policy_start) + timedelta(days=31 * (months[3] + 7))
    every = draw(st.sampled_from([1, 1, 3, 10, 40, 200]))
    return policy, auths, list(days(start, end, every))


def check_invariants(policy: EscalationPolicy, seen: list[tuple[date, DueStep]]) -> None:
    keys = [s.key for _, s in seen]
    assert len(keys) == len(set(keys)), "a step was due twice"
    last_rank: dict[date, int] = {}
    for day, s in seen:
        assert s.due_on <= day
        assert s.due_on >= policy.policy_start
        assert PLAN_ORDER[s.step] > last_rank.get(s.cycle_start, -1), "out of policy order"
        last_rank[s.cycle_start] = PLAN_ORDER[s.step]
        if s.step is X:
            assert s.due_on > policy.expiry(s.cycle_start)
        if s.step is LX:
            assert s.due_on > policy.expiry(s.cycle_start)
            assert s.due_on > policy.policy_start
        if s.deadline is not None:
            assert s.deadline >= s.due_on


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_random_histories_never_repeat_and_keep_order(
    scenario: tuple[EscalationPolicy, list[tuple[date, date]], list[date]],
) -> None:
    policy, auths, run = scenario
    seen, history = simulate(policy, run, auths)
    check_invariants(policy, seen)
    # never skipped: every reachable step of every cycle was sent or recorded as missed
    starts = history.authorizations
    handled = {(d.step, d.cycle_start) for d in history.steps_done}
    for i, start in enumerate(starts):
        renewal = starts[i + 1] if i + 1 < len(starts) else None
        for entry in timeline(history, policy, as_of=start):
            if entry.due_on <= run[-1] and (renewal is None or entry.due_on < renewal):
                assert (entry.step, start) in handled


@settings(max_examples=60, deadline=None)
@given(
    first=dates,
    policy_start=dates,
    gaps=st.lists(st.integers(30, 1200), max_size=3),
)
def test_daily_runs_send_every_step_on_its_day(
    first: date, policy_start: date, gaps: list[int]
) -> None:
    """Renewals recorded on their day, the job runs daily: nothing is ever late."""
    policy = EscalationPolicy(policy_start=policy_start)
    auths = [first]
    for gap in gaps:
        auths.append(auths[-1] + timedelta(days=gap))
    end = max(auths[-1], policy_start) + timedelta(days=29 * 31 + 10)
    seen, _ = simulate(policy, days(first, end), auths)
    check_invariants(policy, seen)
    for day, s in seen:
        assert s.due_on == day
        if s.superseded:  # only a first reminder that falls on the expiry day at policy start
            assert (s.step, day) == (F, policy_start)
            assert policy.expiry(s.cycle_start) == policy_start
