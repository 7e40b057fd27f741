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


def test_failures_that_left_the_window_no_longer_count() -> None:
    """The failures are counted as they come and go (not recounted per request): failures
    older than the window must stop counting, new ones must count again."""
    breaker = CircuitBreaker(BreakerPolicy(window=timedelta(seconds=30), min_requests=5))
    for index in range(9):  # 4 of 9 failed: below half, still healthy
        assert breaker.record(at(index), ok=index < 5) is None
    assert breaker.healthy(at(9))
    # 40 s later the old answers are gone: the breaker opens at the 5th fresh failure among
    # 5 fresh answers, not at the first (as it would with the 4 old failures still counted).
    for index in range(5):
        assert breaker.record(at(40 + index * 0.1), ok=True) is None
    changes = [breaker.record(at(41 + index * 0.1), ok=False) for index in range(5)]
    assert changes == [None, None, None, None, Change.OPENED]  # 5 of 10 failed
    assert not breaker.healthy(at(42))


def test_a_window_of_thousands_of_answers_counts_its_failures_right() -> None:
    breaker = CircuitBreaker(BreakerPolicy(window=timedelta(seconds=30), min_requests=5))
    for index in range(6000):  # 600 a second for 10 s, one in ten failed
        assert breaker.record(at(index / 600), ok=index % 10 != 0) is None
    assert breaker.healthy(at(10))
    for index in range(6000):  # the next 10 s: 9 in 10 fail, the old answers still count
        change = breaker.record(at(10 + index / 600), ok=index % 10 == 0)
        if change is Change.OPENED:
            # opens once failures reach half of all 6000 + index + 1 answers in the window
            assert 600 + (index + 1) * 9 // 10 >= (6000 + index + 1) / 2
            break
    else:
        raise AssertionError("never opened")
