"""The Matrix pace: from what is known, up while the homeserver allows, down when it says no."""

from __future__ import annotations

import asyncio

import pytest

from bot.adapters.matrix_rate import (
    CEILING_PER_SECOND,
    DEFAULT_PER_SECOND,
    RAISE_AFTER,
    MatrixPace,
    PaceStart,
    starting_pace,
)


def test_the_setting_wins_and_is_the_ceiling() -> None:
    assert starting_pace(3.0, lifted=True) == PaceStart(3.0, 3.0, "MATRIX_MESSAGES_PER_SECOND")
    assert starting_pace(None, lifted=True).per_second == CEILING_PER_SECOND
    unknown = starting_pace(None, lifted=False)
    assert (unknown.per_second, unknown.ceiling) == (DEFAULT_PER_SECOND, CEILING_PER_SECOND)
    assert unknown.source == "homeserver defaults"


async def test_raised_while_accepted_and_never_past_a_refused_pace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO", logger="bot.adapters.matrix_rate")
    pace = MatrixPace(starting_pace(None, lifted=False))
    for _ in range(RAISE_AFTER * 3):
        pace.accepted()
    assert pace.per_second == pytest.approx(DEFAULT_PER_SECOND * 1.5**3)
    assert "pace raised from 0.45/s to 0.68/s (measured)" in caplog.text
    refused = pace.per_second
    pace.limited(retry_after=0.0)
    assert pace.per_second == pytest.approx(refused / 2) and pace.limit_exceeded == 1
    assert "M_LIMIT_EXCEEDED at 0.68/s" in caplog.text
    for _ in range(RAISE_AFTER * 10):
        pace.accepted()
    assert pace.per_second == pytest.approx(refused / 1.5)  # the last pace that went through


async def test_the_setting_is_never_exceeded_and_a_refused_setting_not_tried_again() -> None:
    pace = MatrixPace(starting_pace(3.0, lifted=False))
    for _ in range(RAISE_AFTER * 5):
        pace.accepted()
    assert pace.per_second == 3.0
    pace.limited(retry_after=0.0)
    assert pace.per_second == 1.5
    for _ in range(RAISE_AFTER * 5):
        pace.accepted()
    assert pace.per_second == pytest.approx(2.0)  # one step below the refused 3/s


async def test_limits_met_together_lower_the_pace_once() -> None:
    pace = MatrixPace(PaceStart(8.0, 8.0, "test"))
    for _ in range(3):  # three requests in flight, all refused
        pace.limited(retry_after=0.5)
    assert pace.per_second == 4.0 and pace.limit_exceeded == 3


async def test_events_are_spaced_and_replies_take_a_turn_without_waiting() -> None:
    pace = MatrixPace(PaceStart(20.0, 20.0, "test"))
    loop = asyncio.get_running_loop()
    began = loop.time()
    for _ in range(5):
        await pace.wait()
    assert loop.time() - began == pytest.approx(4 / 20, abs=0.04)
    pace.count()  # a direct reply goes at once ...
    began = loop.time()
    await pace.wait()  # ... and the next delivery waits for the turn it took
    assert loop.time() - began == pytest.approx(2 / 20, abs=0.04)
    pace.limited(retry_after=0.3)
    began = loop.time()
    await pace.wait()
    assert loop.time() - began >= 0.29


async def test_a_turn_too_far_away_is_not_taken() -> None:
    """The outbox hands such a message back for later instead of holding it."""
    pace = MatrixPace(PaceStart(1.0, 1.0, "test"))
    assert await pace.wait(at_most=5) is None  # now
    ahead = await pace.wait(at_most=0.5)  # the next turn is a second away
    assert ahead == pytest.approx(1.0, abs=0.05)
    assert await pace.wait(at_most=5) is None  # the turn was not taken by the refused one
