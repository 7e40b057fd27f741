"""Tests for handlers.dates: accepted/rejected formats, year inference, DST, scanning."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.dates import (
    DateParseError,
    ParsedWhen,
    check_horizon,
    find_whens,
    format_date,
    format_when,
    parse_date,
    parse_time_range,
    parse_when,
)

BERLIN = ZoneInfo("Europe/Berlin")
# Tuesday, 15 June 2021, 10:00 in Berlin: the fixed "now" for most tables below.
NOW = datetime(2021, 6, 15, 10, 0, tzinfo=BERLIN)
D = date(2021, 6, 15)
TOMORROW = date(2021, 6, 16)
NEXT_TUE = date(2021, 6, 22)

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)

# (text, day, start, end) parsed with NOW and prefer_future=True
ACCEPTED: list[tuple[str, date, time | None, time | None]] = [
    # German numeric dates
    ("15.06.", D, None, None),
    ("15.6.", D, None, None),
    ("14.06.", date(2022, 6, 14), None, None),  # already passed -> next year
    ("15.06.2021", D, None, None),
    ("15.6.21", D, None, None),
    ("15.06. 2021", D, None, None),
    ("15.06.2021 9:00", D, time(9), None),
    ("15.06.2021, 9 Uhr", D, time(9), None),
    ("15.06.2021 9:00 Uhr", D, time(9), None),
    ("15.06.2021 9-10 Uhr", D, time(9), time(10)),
    ("15.06.2021 9.30 Uhr", D, time(9, 30), None),
    # time (ranges) alone: 9:00 has passed at NOW, so prefer_future picks tomorrow
    ("9-10 Uhr", TOMORROW, time(9), time(10)),
    ("9–10 Uhr", TOMORROW, time(9), time(10)),
    ("9:00 - 10:30 Uhr", TOMORROW, time(9), time(10, 30)),
    ("9.30–12 Uhr", TOMORROW, time(9, 30), time(12)),
    ("9 bis 10 Uhr", TOMORROW, time(9), time(10)),
    ("9 Uhr - 10 Uhr", TOMORROW, time(9), time(10)),
    ("11-12 Uhr", D, time(11), time(12)),
    ("22-24 Uhr", D, time(22), time(23, 59)),  # 24 only as range end, stored as 23:59
    # weekday + date
    ("Di 15.6. 14:00", D, time(14), None),
    ("Di., 15.6., 14 Uhr", D, time(14), None),
    ("Dienstag, 15. Juni 2021", D, None, None),
    ("DI 15.6. 14:00", D, time(14), None),
    ("am Dienstag, 15. Juni 2021 um 9 Uhr", D, time(9), None),
    # month names
    ("15. Juni", D, None, None),
    ("15. Jun. 2021 14:00", D, time(14), None),
    ("15 Juni 2021", D, None, None),
    # relative words
    ("heute", D, None, None),
    ("Heute 14 Uhr", D, time(14), None),
    ("morgen", TOMORROW, None, None),
    ("morgen um 9 Uhr", TOMORROW, time(9), None),
    ("übermorgen", date(2021, 6, 17), None, None),
    ("Übermorgen", date(2021, 6, 17), None, None),
    ("uebermorgen", date(2021, 6, 17), None, None),
    ("today", D, None, None),
    ("tomorrow 9am", TOMORROW, time(9), None),
    # bare weekdays (NOW is Tuesday 10:00)
    ("Do 14 Uhr", date(2021, 6, 17), time(14), None),
    ("Di", NEXT_TUE, None, None),  # strictly after today without a time
    ("Di 9 Uhr", NEXT_TUE, time(9), None),  # today, but 9:00 has passed
    ("Di 11 Uhr", D, time(11), None),  # today and still ahead
    ("Mo", date(2021, 6, 21), None, None),
    ("So.", date(2021, 6, 20), None, None),
    ("Tuesday", NEXT_TUE, None, None),
    ("Tue", NEXT_TUE, None, None),
    ("Thu 2pm", date(2021, 6, 17), time(14), None),
    # ISO / English
    ("2021-06-15", D, None, None),
    ("2021-06-15 09:00", D, time(9), None),
    ("2021-06-15T09:00", D, time(9), None),
    ("2021-06-15 9:00-10:30", D, time(9), time(10, 30)),
    ("June 15, 2021", D, None, None),
    ("15 June 2021", D, None, None),
    ("Jun 15", D, None, None),
    ("June 15th", D, None, None),
    ("Tue 2021-06-15 14:00", D, time(14), None),
    ("Tuesday, June 15, 2021 at 2:30pm", D, time(14, 30), None),
    ("9am", TOMORROW, time(9), None),
    ("2:30pm", D, time(14, 30), None),
    ("2:30 p.m.", D, time(14, 30), None),
    ("14:00", D, time(14), None),
    ("9-10am", TOMORROW, time(9), time(10)),
    ("11-1pm", D, time(11), time(13)),
    ("12am", TOMORROW, time(0), None),
    ("12pm", D, time(12), None),
    # whitespace and case
    ("  15.06.2021   9:00  ", D, time(9), None),
    ("15. JUNI 2021", D, None, None),
]


@pytest.mark.parametrize(("text", "day", "start", "end"), ACCEPTED)
def test_accepted(text: str, day: date, start: time | None, end: time | None) -> None:
    w = parse_when(text, now=NOW, tz=BERLIN)
    assert (w.day, w.start, w.end) == (day, start, end)
    assert w.tz is BERLIN


# (text, code, expected subset of params)
REJECTED: list[tuple[str, str, dict[str, str]]] = [
    ("", "empty", {}),
    ("   ", "empty", {}),
    ("31.02.2021", "invalid_date", {"text": "31.02.2021"}),
    ("30.02.", "invalid_date", {"text": "30.02."}),
    ("0.6.2021", "invalid_date", {}),
    ("15.13.2021", "invalid_date", {}),
    ("31. Juni 2021", "invalid_date", {}),
    ("2021-02-30", "invalid_date", {}),
    ("25:00", "invalid_time", {"text": "25:00"}),
    ("9:75", "invalid_time", {"text": "9:75"}),
    ("15.06.2021 25:00", "invalid_time", {"text": "25:00"}),
    ("24 Uhr", "invalid_time", {}),
    ("24-25 Uhr", "invalid_time", {}),
    ("13pm", "invalid_time", {}),
    ("10-9 Uhr", "end_before_start", {"start": "10:00", "end": "09:00"}),
    ("22-2 Uhr", "end_before_start", {}),  # no ranges across midnight
    ("9-9 Uhr", "end_before_start", {}),
    ("Mo 15.6.2021", "weekday_mismatch", {"given": "Mo", "actual": "Di"}),
    ("Montag, 15. Juni 2021", "weekday_mismatch", {"given": "Montag", "actual": "Di"}),
    ("Mon 2021-06-15", "weekday_mismatch", {"given": "Mon", "actual": "Tue"}),
    ("Mo 15.6.", "weekday_mismatch", {"given": "Mo", "actual": "Di"}),
    ("01/02/2021", "ambiguous", {"text": "01/02/2021"}),
    ("1/2", "ambiguous", {}),
    ("hallo welt", "unknown_format", {"text": "hallo welt"}),
    ("15.6", "unknown_format", {}),
    ("15.06.2021 9.30", "unknown_format", {}),  # dot time needs Uhr or a range
    ("15.06.2021 9", "unknown_format", {}),  # bare number after a date is no time
    ("15.06.2021 foo", "unknown_format", {}),
    ("14h", "unknown_format", {}),
    ("ab 9 Uhr", "unknown_format", {}),
    ("Juni 2021", "unknown_format", {}),
    ("Juni 15", "unknown_format", {}),  # German month names only after the day
    ("15.6.123", "unknown_format", {}),
]


@pytest.mark.parametrize(("text", "code", "params"), REJECTED)
def test_rejected(text: str, code: str, params: dict[str, str]) -> None:
    with pytest.raises(DateParseError) as info:
        parse_when(text, now=NOW, tz=BERLIN)
    assert info.value.code == code
    assert params.items() <= info.value.params.items()
    assert isinstance(info.value, ValueError)


def test_weekday_mismatch_checks_inferred_year() -> None:
    # At the end of 2021, "15.6." means 15.6.2022, a Wednesday.
    now = datetime(2021, 12, 30, 12, tzinfo=BERLIN)
    with pytest.raises(DateParseError) as info:
        parse_when("Di 15.6.", now=now, tz=BERLIN)
    assert info.value.params["actual"] == "Mi"
    assert parse_when("Mi 15.6.", now=now, tz=BERLIN).day == date(2022, 6, 15)


MONTHS: list[tuple[str, int]] = [
    ("Januar", 1),
    ("Jänner", 1),
    ("Jan", 1),
    ("Jan.", 1),
    ("January", 1),
    ("Februar", 2),
    ("Feb.", 2),
    ("März", 3),
    ("Maerz", 3),
    ("Mär", 3),
    ("March", 3),
    ("April", 4),
    ("Apr.", 4),
    ("Mai", 5),
    ("May", 5),
    ("Juni", 6),
    ("Jun", 6),
    ("Juli", 7),
    ("Jul.", 7),
    ("August", 8),
    ("Aug", 8),
    ("September", 9),
    ("Sep.", 9),
    ("Sept", 9),
    ("Sept.", 9),
    ("Oktober", 10),
    ("Okt.", 10),
    ("October", 10),
    ("November", 11),
    ("Nov", 11),
    ("Dezember", 12),
    ("Dez.", 12),
    ("Dec", 12),
]


GERMAN_ONLY = {
    "januar",
    "jänner",
    "februar",
    "märz",
    "maerz",
    "mär",
    "mai",
    "juni",
    "juli",
    "oktober",
    "okt",
    "dezember",
    "dez",
}


@pytest.mark.parametrize(("token", "month"), MONTHS)
def test_month_names(token: str, month: int) -> None:
    assert parse_date(f"3. {token} 2022", now=NOW, tz=BERLIN) == date(2022, month, 3)
    month_first = f"{token} 3, 2022"
    if token.rstrip(".").lower() in GERMAN_ONLY:  # "Juni 3" is not German usage
        with pytest.raises(DateParseError):
            parse_date(month_first, now=NOW, tz=BERLIN)
    else:
        assert parse_date(month_first, now=NOW, tz=BERLIN) == date(2022, month, 3)


WEEKDAYS: list[tuple[str, date]] = [
    (tok, date(2021, 6, 15) + timedelta(days=(idx - 1) % 7 or 7))
    for idx, names in enumerate(
        [
            ("Mo", "Mo.", "Montag", "Mon", "Monday"),
            ("Di", "Di.,", "Dienstag", "Tue", "Tuesday"),
            ("Mi", "Mi.", "Mittwoch", "Wed", "Wednesday"),
            ("Do", "Do.", "Donnerstag", "Thu", "Thursday"),
            ("Fr", "Fr.", "Freitag", "Fri", "Friday"),
            ("Sa", "Sa.", "Samstag", "Sonnabend", "Sat"),
            ("So", "So.,", "Sonntag", "Sun", "Sunday"),
        ]
    )
    for tok in names
]


@pytest.mark.parametrize(("token", "day"), WEEKDAYS)
def test_weekday_names(token: str, day: date) -> None:
    # 8:00 has passed at NOW, so even today's weekday moves to next week.
    assert parse_when(f"{token} 8 Uhr", now=NOW, tz=BERLIN).day == day


def test_prefer_future_false_keeps_today_and_this_year() -> None:
    assert parse_when("Di", now=NOW, tz=BERLIN, prefer_future=False).day == D
    assert parse_when("9 Uhr", now=NOW, tz=BERLIN, prefer_future=False).day == D
    assert parse_date("14.06.", now=NOW, tz=BERLIN, prefer_future=False) == date(2021, 6, 14)


@pytest.mark.parametrize(
    ("text", "prefer_future", "expected"),
    [
        ("2.1.", True, date(2022, 1, 2)),
        ("2.1.", False, date(2021, 1, 2)),
        ("30.12.", True, date(2021, 12, 30)),  # today is not "passed"
        ("29.12.", True, date(2022, 12, 29)),
        ("31.12.", True, date(2021, 12, 31)),
        ("2. Januar", True, date(2022, 1, 2)),
        ("Jan 2", False, date(2021, 1, 2)),
        ("übermorgen", True, date(2022, 1, 1)),
    ],
)
def test_year_inference_around_new_year(text: str, prefer_future: bool, expected: date) -> None:
    now = datetime(2021, 12, 30, 12, tzinfo=BERLIN)
    assert parse_date(text, now=now, tz=BERLIN, prefer_future=prefer_future) == expected


def test_leap_day_without_year() -> None:
    assert parse_date("29.2.", now=datetime(2023, 5, 1, tzinfo=BERLIN), tz=BERLIN) == date(
        2024,
        2,
        29,
    )
    with pytest.raises(DateParseError) as info:
        parse_date("29.2.", now=datetime(2021, 1, 5, tzinfo=BERLIN), tz=BERLIN)
    assert info.value.code == "invalid_date"


def test_today_is_taken_in_tz_not_utc() -> None:
    now = datetime(2021, 6, 14, 23, 30, tzinfo=UTC)  # already 15 June, 01:30 in Berlin
    assert parse_date("heute", now=now, tz=BERLIN) == D


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_when("heute", now=datetime(2021, 6, 15), tz=BERLIN)


def test_parse_date_rejects_extra_text() -> None:
    assert parse_date("Di, 15.06.2021", now=NOW, tz=BERLIN) == D
    for text in ("15.06.2021 9 Uhr", "9 Uhr", "15.06.2021 x"):
        with pytest.raises(DateParseError) as info:
            parse_date(text, now=NOW, tz=BERLIN)
        assert info.value.code == "unknown_format"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9", (time(9), None)),  # lenient: caller asked for a time
        ("9.30", (time(9, 30), None)),
        ("14:00", (time(14), None)),
        ("9-10 Uhr", (time(9), time(10))),
        ("9 – 10", (time(9), time(10))),
        ("9am-5pm", (time(9), time(17))),
        ("9am-5", (time(9), time(17))),
        ("22-24 Uhr", (time(22), time(23, 59))),
    ],
)
def test_parse_time_range(text: str, expected: tuple[time, time | None]) -> None:
    assert parse_time_range(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("abc", "unknown_format"),
        ("25:00", "invalid_time"),
        ("10-9 Uhr", "end_before_start"),
        ("15.06.2021 9 Uhr", "unknown_format"),
    ],
)
def test_parse_time_range_rejects(text: str, code: str) -> None:
    with pytest.raises(DateParseError) as info:
        parse_time_range(text)
    assert info.value.code == code


# --- DST ------------------------------------------------------------------------------


def test_dst_nonexistent_time_is_shifted_forward() -> None:
    w = parse_when("28.03.2021 2:30", now=NOW, tz=BERLIN)
    at = w.start_at()
    assert at is not None
    assert at.astimezone(UTC) == datetime(2021, 3, 28, 1, 30, tzinfo=UTC)
    assert (at.hour, at.minute, at.utcoffset()) == (3, 30, timedelta(hours=2))


def test_dst_ambiguous_time_takes_first_occurrence() -> None:
    w = parse_when("31.10.2021 2:30", now=NOW, tz=BERLIN)
    at = w.start_at()
    assert at is not None
    assert at.astimezone(UTC) == datetime(2021, 10, 31, 0, 30, tzinfo=UTC)
    assert (at.hour, at.minute, at.utcoffset()) == (2, 30, timedelta(hours=2))


def test_summer_and_winter_offsets() -> None:
    summer = parse_when("15.06.2021 9-10 Uhr", now=NOW, tz=BERLIN)
    winter = parse_when("15.01.2021 9:00", now=NOW, tz=BERLIN)
    assert summer.start_at() == datetime(2021, 6, 15, 7, tzinfo=UTC)
    assert summer.start_at().utcoffset() == timedelta(hours=2)  # type: ignore[union-attr]
    assert summer.end_at() == datetime(2021, 6, 15, 8, tzinfo=UTC)
    assert winter.start_at().utcoffset() == timedelta(hours=1)  # type: ignore[union-attr]
    assert winter.end_at() is None
    assert parse_when("15.06.2021", now=NOW, tz=BERLIN).start_at() is None


# --- find_whens ----------------------------------------------------------------------------


def test_find_whens_two_slots() -> None:
    text = "Wir schlagen vor: 08.04.2021 9–10 Uhr; 17.05.2021 11–15 Uhr"
    found = find_whens(text, now=NOW, tz=BERLIN)
    assert [(w.day, w.start, w.end) for w, _, _ in found] == [
        (date(2021, 4, 8), time(9), time(10)),
        (date(2021, 5, 17), time(11), time(15)),
    ]
    assert [text[s:e] for _, s, e in found] == ["08.04.2021 9–10 Uhr", "17.05.2021 11–15 Uhr"]
    assert [(s, e) for _, s, e in found] == [(18, 37), (39, 59)]


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("Guten Morgen, so geht das nicht", []),
        ("Treffen MORGEN um 9 Uhr?", ["MORGEN um 9 Uhr"]),
        ("Do 14 Uhr oder Fr., 18.6. 9:00-10:00.", ["Do 14 Uhr", "Fr., 18.6. 9:00-10:00"]),
        ("am 31.02.2021 oder 01/02/2021 oder 2021-06-20", ["2021-06-20"]),
        ("Version 1.2.3 und 15.6.2021x", []),
        ("(15. Juni), June 16th 2021", ["15. Juni", "June 16th 2021"]),
        ("15.6. 9.30", ["15.6."]),
        ("Treffen wir uns so um 9 Uhr?", []),
        ("So um 9 Uhr?", ["So um 9 Uhr"]),
        ("Im Mai 3 Leute, am 3. Mai alle", ["3. Mai"]),
    ],
)
def test_find_whens_spans(text: str, spans: list[str]) -> None:
    assert [text[s:e] for _, s, e in find_whens(text, now=NOW, tz=BERLIN)] == spans


# --- formatting ------------------------------------------------------------------------------


def test_format_date() -> None:
    assert format_date(D, "de") == "15.06.2021"
    assert format_date(D, "de-AT") == "15.06.2021"
    assert format_date(D, "en") == "2021-06-15"
    assert format_date(D, "fr") == "2021-06-15"


@pytest.mark.parametrize(
    ("start", "end", "de", "en"),
    [
        (time(9), time(10), "Di, 15.06.2021, 9:00–10:00 Uhr", "Tue 2021-06-15, 09:00–10:00"),
        (time(14, 5), None, "Di, 15.06.2021, 14:05 Uhr", "Tue 2021-06-15, 14:05"),
        (None, None, "Di, 15.06.2021", "Tue 2021-06-15"),
    ],
)
def test_format_when(start: time | None, end: time | None, de: str, en: str) -> None:
    w = ParsedWhen(D, start, end, BERLIN)
    assert format_when(w, "de") == de
    assert format_when(w, "en") == en


def test_parsed_when_rejects_inconsistent_range() -> None:
    with pytest.raises(ValueError):
        ParsedWhen(D, None, time(10), BERLIN)
    with pytest.raises(ValueError):
        ParsedWhen(D, time(10), time(9), BERLIN)


def test_horizon_is_twenty_years_to_the_day() -> None:
    assert check_horizon(date(2041, 6, 15), now=NOW, tz=BERLIN) == date(2041, 6, 15)
    with pytest.raises(DateParseError) as error:
        check_horizon(date(9999, 12, 31), now=NOW, tz=BERLIN)
    assert error.value.code == "too_far"
    assert error.value.params == {"date": "9999-12-31", "years": "20"}
    leap = datetime(2024, 2, 29, 12, 0, tzinfo=BERLIN)
    assert check_horizon(date(2044, 2, 28), now=leap, tz=BERLIN) == date(2044, 2, 28)
    with pytest.raises(DateParseError):
        check_horizon(date(2044, 3, 1), now=leap, tz=BERLIN)


def test_error_code_is_validated() -> None:
    with pytest.raises(ValueError):
        DateParseError("nope")


# --- properties ------------------------------------------------------------------------------

_DATEISH = st.text(
    alphabet=st.sampled_from(list("0123456789.:-–/ ,TtUhrMoDiJunämpaübeg\u0130\u017f")),
    max_size=30,
)
_NOWS = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2100, 12, 31),
    timezones=st.just(UTC),
)


@PROPERTY_SETTINGS
@given(text=st.one_of(st.text(max_size=40), _DATEISH), now=_NOWS, future=st.booleans())
def test_parse_when_only_raises_date_parse_error(text: str, now: datetime, future: bool) -> None:
    try:
        w = parse_when(text, now=now, tz=BERLIN, prefer_future=future)
    except DateParseError:
        return
    assert w.end is None or (w.start is not None and w.end > w.start)


@PROPERTY_SETTINGS
@given(text=st.one_of(st.text(max_size=60), _DATEISH))
def test_find_whens_never_raises(text: str) -> None:
    for _, start, end in find_whens(text, now=NOW, tz=BERLIN):
        assert 0 <= start < end <= len(text)


_MINUTES = st.times().map(lambda t: t.replace(second=0, microsecond=0, tzinfo=None))


@st.composite
def _whens(draw: st.DrawFn) -> ParsedWhen:
    day = draw(st.dates())
    start = draw(st.none() | _MINUTES)
    end = None
    if start is not None and start < time(23, 59) and draw(st.booleans()):
        first = start.hour * 60 + start.minute + 1
        minutes = draw(st.integers(min_value=first, max_value=23 * 60 + 59))
        end = time(minutes // 60, minutes % 60)
    return ParsedWhen(day, start, end, BERLIN)


@PROPERTY_SETTINGS
@given(w=_whens(), lang=st.sampled_from(["de", "en"]))
def test_format_parse_round_trip(w: ParsedWhen, lang: str) -> None:
    back = parse_when(format_when(w, lang), now=NOW, tz=BERLIN)
    assert (back.day, back.start, back.end) == (w.day, w.start, w.end)


@PROPERTY_SETTINGS
@given(d=st.dates(min_value=date(1000, 1, 1)))  # 4-digit years; 2-digit ones mean 20xx
def test_unpadded_german_date_parses(d: date) -> None:
    assert parse_date(f"{d.day}.{d.month}.{d.year}", now=NOW, tz=BERLIN) == d
