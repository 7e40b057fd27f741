"""Pure reminder rules: offsets, local instants across DST, late decisions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.reminder_offsets import OffsetError, format_offsets, parse_offsets
from handlers.reminders.policy import (
    Lateness,
    Timing,
    decide,
    due_instant,
    local_instant,
)

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("1d 1h", (1440, 60)),
        ("1T 1Std", (1440, 60)),
        ("2h, 30m", (120, 30)),
        ("90min 1h 90m", (90, 60)),
        ("1h30m", (90,)),
        ("14d", (20160,)),
    ],
)
def test_offsets_are_read_in_both_languages(text: str, minutes: tuple[int, ...]) -> None:
    assert parse_offsets(text) == minutes


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "empty"), ("morgen", "unreadable"), ("15d", "range"), ("0h", "range")],
)
def test_bad_offsets_say_why(text: str, code: str) -> None:
    with pytest.raises(OffsetError) as error:
        parse_offsets(text)
    assert error.value.code == code


def test_too_many_offsets() -> None:
    with pytest.raises(OffsetError) as error:
        parse_offsets("1d 2h 1h 30m 5m")
    assert error.value.code == "too_many"


@pytest.mark.parametrize("language", ["de", "en"])
def test_formatted_offsets_read_back(language: str) -> None:
    offsets = (2880, 1530, 90, 5)
    shown = format_offsets(offsets, language)
    assert parse_offsets(shown.replace(",", " ")) == offsets


def test_spring_gap_moves_forward_and_autumn_fold_takes_the_first() -> None:
    # 28.03.2027: 02:00 CET -> 03:00 CEST; 31.10.2027: 03:00 CEST -> 02:00 CET
    spring = local_instant(date(2027, 3, 28), time(2, 30), BERLIN)
    assert spring == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # = 03:30 CEST
    assert spring.astimezone(BERLIN).strftime("%H:%M %Z") == "03:30 CEST"
    autumn = local_instant(date(2027, 10, 31), time(2, 30), BERLIN)
    assert autumn == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # the first 02:30 (CEST)


def test_day_offsets_keep_the_clock_time_across_dst() -> None:
    sunday_9 = datetime(2027, 3, 28, 9, 0, tzinfo=BERLIN)  # CEST, the day of the change
    due = due_instant(sunday_9, 1440, BERLIN)
    assert due.astimezone(BERLIN).replace(tzinfo=None) == datetime(2027, 3, 27, 9, 0)
    assert sunday_9 - due == timedelta(hours=23)
    assert due_instant(sunday_9, 60, BERLIN) == sunday_9 - timedelta(hours=1)


def test_decide_sends_late_reminders_only_while_meaningful() -> None:
    due = datetime(2027, 6, 1, 7, 0, tzinfo=UTC)
    start = due + timedelta(hours=1)
    lateness = Lateness(timedelta(minutes=30), start)
    assert decide(due, due - timedelta(seconds=1), lateness) is Timing.NOT_YET
    assert decide(due, due, lateness) is Timing.SEND
    assert decide(due, due + timedelta(minutes=30), lateness) is Timing.SEND
    assert decide(due, due + timedelta(minutes=31), lateness) is Timing.MISSED
    generous = Lateness(timedelta(hours=5), start)
    assert decide(due, start - timedelta(minutes=1), generous) is Timing.SEND
    assert decide(due, start, generous) is Timing.MISSED  # the meeting has begun
