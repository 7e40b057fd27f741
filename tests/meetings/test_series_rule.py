"""Series phrases to RRULEs, and their expansion in local wall time (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.dates import DateParseError
from handlers.meetings.series_rule import (
    SeriesParseError,
    describe_rule,
    first_occurrence,
    occurrences,
    parse_series,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)  # Mon 01.03.2027, 9:00 Berlin


def _rule(text: str) -> str:
    return parse_series(text, now=NOW, tz=BERLIN).rrule(BERLIN)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("every 2nd Thursday 9–10 Uhr", "FREQ=MONTHLY;BYDAY=2TH"),
        ("jeden 2. Donnerstag im Monat 9-10 Uhr", "FREQ=MONTHLY;BYDAY=2TH"),
        ("Jeden zweiten Donnerstag des Monats 9 Uhr", "FREQ=MONTHLY;BYDAY=2TH"),
        ("am letzten Freitag im Monat 16-17 Uhr", "FREQ=MONTHLY;BYDAY=-1FR"),
        ("the last Friday of the month 4pm", "FREQ=MONTHLY;BYDAY=-1FR"),
        ("monthly on the 1st Monday 9:00", "FREQ=MONTHLY;BYDAY=1MO"),
        ("alle 2 Wochen dienstags 14 Uhr", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"),
        ("alle drei Wochen am Mittwoch 10 Uhr", "FREQ=WEEKLY;INTERVAL=3;BYDAY=WE"),
        ("every 2 weeks on Tuesday 2pm", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"),
        ("every other Tuesday at 14:00", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"),
        ("14-täglich freitags 10 Uhr", "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"),
        ("biweekly on Friday 10-11", "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"),
        ("wöchentlich montags 9 Uhr", "FREQ=WEEKLY;BYDAY=MO"),
        ("Wöchentlich am Montag um 9 Uhr", "FREQ=WEEKLY;BYDAY=MO"),
        ("jeden Mittwoch 9 Uhr", "FREQ=WEEKLY;BYDAY=WE"),
        ("every Monday 9am", "FREQ=WEEKLY;BYDAY=MO"),
        ("weekly on Mondays 9:00", "FREQ=WEEKLY;BYDAY=MO"),
        ("montags und donnerstags 8 Uhr", "FREQ=WEEKLY;BYDAY=MO,TH"),
        ("dienstags 9:30-11 Uhr", "FREQ=WEEKLY;BYDAY=TU"),
        ("wöchentlich 9 Uhr ab 10.03.2027", "FREQ=WEEKLY;BYDAY=WE"),
    ],
)
def test_phrases_become_rrules(text: str, rule: str) -> None:
    assert _rule(text) == rule


def test_times_clauses_and_title_are_separated() -> None:
    spec = parse_series(
        'jeden 2. Donnerstag im Monat 9-10 Uhr ab 01.04.2027 bis 31.12.2027 "AG Transfer" | X',
        now=NOW,
        tz=BERLIN,
    )
    assert (spec.start, spec.end) == (time(9), time(10))
    assert (spec.first_day, spec.until) == (date(2027, 4, 1), date(2027, 12, 31))
    assert spec.rest == '"AG Transfer" | X'
    # UNTIL is the end of the local day, in UTC (RFC 5545 with a zoned DTSTART)
    assert spec.rrule(BERLIN) == "FREQ=MONTHLY;BYDAY=2TH;UNTIL=20271231T225959Z"
    english = parse_series("every Monday 9-10 until 2027-06-30 Jour fixe", now=NOW, tz=BERLIN)
    assert english.until == date(2027, 6, 30) and english.rest == "Jour fixe"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Sitzung 9 Uhr", "no_rule"),
        ("", "no_rule"),
        ("jeden Montag Sitzung", "no_time"),
        ("wöchentlich 9 Uhr", "no_weekday"),
        ("alle 60 Wochen montags 9 Uhr", "bad_interval"),
        ("jeden Montag 9 Uhr ab 01.06.2027 bis 01.05.2027", "until_before"),
    ],
)
def test_helpful_errors(text: str, code: str) -> None:
    with pytest.raises(SeriesParseError) as error:
        parse_series(text, now=NOW, tz=BERLIN)
    assert error.value.code == code


def test_bad_time_or_date_reports_the_date_parsers_reason() -> None:
    with pytest.raises(DateParseError):
        parse_series("jeden Montag 25 Uhr", now=NOW, tz=BERLIN)
    with pytest.raises(DateParseError):
        parse_series("jeden Montag 9 Uhr bis 31.02.2027", now=NOW, tz=BERLIN)


def _local(starts: list[datetime]) -> list[str]:
    return [s.astimezone(BERLIN).strftime("%a %d.%m.%Y %H:%M") for s in starts]


def test_second_thursday_of_each_month() -> None:
    spec = parse_series("every 2nd Thursday 9–10 Uhr", now=NOW, tz=BERLIN)
    first = first_occurrence(spec, now=NOW, tz=BERLIN)
    starts = occurrences(
        spec.rrule(BERLIN), first, BERLIN, after=NOW, before=datetime(2027, 6, 1, tzinfo=UTC)
    )
    assert _local(starts) == [
        "Thu 11.03.2027 09:00",
        "Thu 08.04.2027 09:00",
        "Thu 13.05.2027 09:00",
    ]


def test_nine_oclock_stays_nine_oclock_across_both_clock_changes() -> None:
    # DST 2027 in Berlin: 28.03. (to UTC+2) and 31.10. (back to UTC+1)
    spec = parse_series("wöchentlich montags 9 Uhr ab 22.03.2027", now=NOW, tz=BERLIN)
    first = first_occurrence(spec, now=NOW, tz=BERLIN)
    rule = spec.rrule(BERLIN)
    spring = occurrences(rule, first, BERLIN, after=NOW, before=datetime(2027, 4, 1, tzinfo=UTC))
    assert [s.isoformat() for s in spring] == [
        "2027-03-22T08:00:00+00:00",  # CET
        "2027-03-29T07:00:00+00:00",  # CEST
    ]
    autumn = occurrences(
        rule,
        first,
        BERLIN,
        after=datetime(2027, 10, 20, tzinfo=UTC),
        before=datetime(2027, 11, 5, tzinfo=UTC),
    )
    assert [s.isoformat() for s in autumn] == [
        "2027-10-25T07:00:00+00:00",
        "2027-11-01T08:00:00+00:00",
    ]
    assert {s.astimezone(BERLIN).time() for s in spring + autumn} == {time(9)}


def test_a_time_in_the_spring_gap_moves_forward() -> None:
    spec = parse_series("sonntags 2:30 Uhr ab 21.03.2027", now=NOW, tz=BERLIN)
    first = first_occurrence(spec, now=NOW, tz=BERLIN)
    starts = occurrences(
        spec.rrule(BERLIN), first, BERLIN, after=NOW, before=datetime(2027, 4, 5, tzinfo=UTC)
    )
    assert _local(starts) == [
        "Sun 21.03.2027 02:30",
        "Sun 28.03.2027 03:30",  # 2:30 does not exist that night
        "Sun 04.04.2027 02:30",
    ]


def test_until_is_inclusive_and_ends_the_series() -> None:
    spec = parse_series("jeden Montag 9 Uhr bis 15.03.2027", now=NOW, tz=BERLIN)
    first = first_occurrence(spec, now=NOW, tz=BERLIN)
    starts = occurrences(
        spec.rrule(BERLIN), first, BERLIN, after=NOW, before=datetime(2028, 1, 1, tzinfo=UTC)
    )
    assert _local(starts) == [
        "Mon 01.03.2027 09:00",
        "Mon 08.03.2027 09:00",
        "Mon 15.03.2027 09:00",
    ]


def test_a_series_starting_now_skips_a_past_start_today() -> None:
    # 9:00 today has just begun (NOW is 9:00 local): the first one is today at 9:00; at
    # 9:01 it is next week's
    spec = parse_series("montags 9 Uhr", now=NOW, tz=BERLIN)
    assert first_occurrence(spec, now=NOW, tz=BERLIN) == NOW
    later = NOW.replace(minute=1)
    assert first_occurrence(spec, now=later, tz=BERLIN).isoformat() == "2027-03-08T08:00:00+00:00"


def test_descriptions_in_both_languages() -> None:
    assert (
        describe_rule("FREQ=MONTHLY;BYDAY=2TH", time(9), time(10), "de")
        == "jeden 2. Donnerstag im Monat, 9:00–10:00 Uhr"
    )
    assert (
        describe_rule("FREQ=MONTHLY;BYDAY=2TH", time(9), time(10), "en")
        == "the 2nd Thursday of every month, 09:00–10:00"
    )
    assert (
        describe_rule("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", time(14), None, "de", date(2027, 12, 31))
        == "alle 2 Wochen am Dienstag, 14:00 Uhr, bis 31.12.2027"
    )


@given(st.text(max_size=80))
def test_random_input_never_crashes(text: str) -> None:
    try:
        spec = parse_series(text, now=NOW, tz=BERLIN)
    except (SeriesParseError, DateParseError):
        return
    first = first_occurrence(spec, now=NOW, tz=BERLIN)
    if first is not None:
        occurrences(
            spec.rrule(BERLIN), first, BERLIN, after=NOW, before=datetime(2027, 9, 1, tzinfo=UTC)
        )
