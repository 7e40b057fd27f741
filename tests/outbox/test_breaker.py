"""The circuit breaker's policy on its own: when it opens, probes, closes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.outbox.breaker import BreakerPolicy, BreakerState, Change, CircuitBreaker

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_few_failures_among_answers_keep_it_closed() -> None:
    breaker = CircuitBreaker()
    for index in range(20):
        assert breaker.record(at(index), ok=index % 4 != 0) is None
    assert breaker.state(at(20)) is BreakerState.CLOSED
    assert breaker.healthy(at(20))


def test_most_requests_failing_opens_it_and_only_one_probe_goes_at_a_time() -> None:
    breaker = CircuitBreaker(BreakerPolicy(min_requests=4, first_probe=timedelta(seconds=2)))
    changes = [breaker.record(at(0.1 * i), ok=False) for i in range(4)]
    assert changes == [None, None, None, Change.OPENED]
    assert breaker.opened_at == at(0.3)
    assert breaker.admit(at(1)) == (False, False)  # paused
    assert not breaker.healthy(at(1))
    assert breaker.state(at(2.3)) is BreakerState.HALF_OPEN
    assert breaker.admit(at(2.3)) == (True, True)  # the probe
    assert breaker.admit(at(2.4)) == (False, False)  # nobody else meanwhile


def test_a_failed_probe_waits_longer_each_time_up_to_the_maximum() -> None:
    policy = BreakerPolicy(
        min_requests=1, first_probe=timedelta(seconds=2), max_probe_interval=timedelta(seconds=5)
    )
    breaker = CircuitBreaker(policy)
    breaker.record(at(0), ok=False)
    probes = []
    now = 0.0
    while len(probes) < 4:
        now += 0.5
        _, probe = breaker.admit(at(now))
        if probe:
            probes.append(now)
            breaker.record(at(now), ok=False, probe=True)
    assert probes == [2.0, 6.0, 11.0, 16.0]  # 2 s, then 4 s, then at most 5 s


def test_an_answer_closes_it_and_forgets_the_outage() -> None:
    breaker = CircuitBreaker(BreakerPolicy(min_requests=2))
    breaker.record(at(0), ok=False)
    assert breaker.record(at(0.1), ok=False) is Change.OPENED
    admitted, probe = breaker.admit(at(5))
    assert admitted and probe
    assert breaker.record(at(5), ok=True, probe=True) is Change.CLOSED
    assert breaker.state(at(5)) is BreakerState.CLOSED
    assert breaker.healthy(at(5))  # the failures before do not count any more


def test_a_probe_that_never_went_frees_the_place() -> None:
    breaker = CircuitBreaker(BreakerPolicy(min_requests=1))
    breaker.record(at(0), ok=False)
    assert breaker.admit(at(10)) == (True, True)
    breaker.forget_probe(True)
    assert breaker.admit(at(10)) == (True, True)
