"""The pure poll rules: reading a chair's one-liner, typed answers, tallies and the best slot."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.dates import DateParseError
from handlers.polls.tally import (
    PollInputError,
    Vote,
    parse_date_poll,
    parse_survey,
    parse_vote,
    reminder_due,
    tally,
)

NOW = datetime(2021, 6, 10, 8, 0, tzinfo=UTC)  # Thu 10.06.2021 10:00 Berlin
BERLIN = ZoneInfo("Europe/Berlin")


def date_poll(text: str):  # type: ignore[no-untyped-def]
    return parse_date_poll(text, now=NOW, tz=BERLIN)


def survey(text: str):  # type: ignore[no-untyped-def]
    return parse_survey(text, now=NOW, tz=BERLIN)


def code_of(text: str, parse=date_poll) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(PollInputError) as caught:
        parse(text)
    return caught.value.code


def test_the_chairs_example_reads_title_slots_and_deadline() -> None:
    spec = date_poll('"Juni-Sitzung" 15.06. 9-12 Uhr; 17.06. 14-16 Uhr; 22.06. 10 Uhr bis 20.06.')
    assert spec.title == "Juni-Sitzung"
    assert [(s.day.day, s.start, s.end) for s in spec.slots] == [
        (15, time(9), time(12)),
        (17, time(14), time(16)),
        (22, time(10), None),  # "10 Uhr bis 20.06." is no range to 20:06
    ]
    assert spec.deadline == datetime(2021, 6, 20, 23, 59, tzinfo=BERLIN)
    assert not spec.allow_maybe and not spec.anonymous


def test_unquoted_title_flags_iso_and_a_deadline_with_time() -> None:
    spec = date_poll(
        "Juli-Sitzung: 2021-07-01 09:00-12:00\n"
        "Fr 2.7. 9 bis 12 Uhr, und 05.07.2021 14 Uhr notfalls anonym Frist: 28.06. 18 Uhr"
    )
    assert spec.title == "Juli-Sitzung"
    assert [(s.day.isoformat(), s.start, s.end) for s in spec.slots] == [
        ("2021-07-01", time(9), time(12)),
        ("2021-07-02", time(9), time(12)),  # "9 bis 12 Uhr" stays a time range
        ("2021-07-05", time(14), None),
    ]
    assert spec.deadline == datetime(2021, 6, 28, 18, 0, tzinfo=BERLIN)
    assert spec.allow_maybe and spec.anonymous


def test_german_quotes_and_bis_zum() -> None:
    spec = date_poll("„AG Transfer“ 15.06. 9 Uhr; 16.06. 9 Uhr bis zum 14.06.")
    assert spec.title == "AG Transfer" and len(spec.slots) == 2
    assert spec.deadline is not None and spec.deadline.day == 14


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('"X" 15.06.', "slot_needs_time"),
        ('"X" 15.06. 9 Uhr; quatsch', "unreadable"),
        ('"X" quatsch 15.06. 9 Uhr', "unreadable"),
        ('"X" 01.06.2021 9 Uhr', "slot_past"),
        ('"X" 10.06. 9 Uhr', "slot_past"),  # today, but an hour ago
        ('"X" 15.06. 9 Uhr bis 15.06. 18 Uhr', "deadline_after_slot"),
        ('"X" 15.06. 9 Uhr bis 09.06.2021', "deadline_past"),
        ('"X" 15.06. 9 Uhr; 15.06. 9:00', "duplicate"),
        ('"" 15.06. 9 Uhr', "no_title"),
        ("15.06. 9 Uhr", "no_title"),
        ('"X 15.06. 9 Uhr', "quotes"),
        ('"X"', "no_slots"),
        ('"X" 15.06. 9 Uhr mehrfach', "unreadable"),  # a survey word, not a date poll's
        ('"' + "x" * 201 + '" 15.06. 9 Uhr', "title_too_long"),
        ('"X" ' + "; ".join(f"{d}.07. 9 Uhr" for d in range(1, 12)), "many_options"),
    ],
)
def test_bad_date_polls_name_the_problem(text: str, code: str) -> None:
    assert code_of(text) == code


def test_an_impossible_date_gets_the_date_parsers_reason() -> None:
    with pytest.raises(DateParseError) as caught:
        date_poll('"X" 15.06. 9 Uhr; 31.02. 9 Uhr')
    assert caught.value.code == "invalid_date"


def test_surveys() -> None:
    spec = survey('"Welche Themen?" Digitalisierung; Nachfolge;\nFachkräfte mehrfach anonym')
    assert spec.title == "Welche Themen?"
    assert spec.labels == ("Digitalisierung", "Nachfolge", "Fachkräfte")
    assert spec.multiple and spec.anonymous
    commas = survey("Wo tagen wir? Köln, Berlin, online bis 20.06.")
    assert commas.title == "Wo tagen wir?" and commas.labels == ("Köln", "Berlin", "online")
    assert commas.deadline == datetime(2021, 6, 20, 23, 59, tzinfo=BERLIN)
    assert survey("Ort: Köln; Berlin").title == "Ort"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('"Welche?" Digitalisierung', "few_options"),
        ("Themen Digitalisierung Nachfolge", "survey_title"),
        ('"Welche?" A; a', "duplicate"),
        ('"Welche?" A; ' + "b" * 101, "option_too_long"),
    ],
)
def test_bad_surveys(text: str, code: str) -> None:
    assert code_of(text, survey) == code


def test_typed_answers() -> None:
    assert parse_vote("2 ja").answers == {2: "yes"} and parse_vote("2 ja").poll_number is None
    typed = parse_vote("#4 1,3 ja 2 Nein 5 notfalls")
    assert typed.poll_number == 4
    assert typed.answers == {1: "yes", 3: "yes", 2: "no", 5: "maybe"}
    assert parse_vote("1 3").bare == (1, 3)
    for bad in ("", "ja", "#x 1 ja", "1 vielleichtnicht", "#3"):
        with pytest.raises(PollInputError):
            parse_vote(bad)


def test_best_slot_counts_if_need_be_then_yes_then_the_earlier_date() -> None:
    votes = [
        Vote(1, "Anna", 1, "yes"),
        Vote(2, "Bernd", 1, "maybe"),
        Vote(1, "Anna", 2, "yes"),
        Vote(2, "Bernd", 2, "yes"),
        Vote(3, "Clara", 3, "yes"),
        Vote(3, "Clara", 1, "no"),
    ]
    result = tally([1, 2, 3], votes)
    assert result.respondents == 3
    assert result.best == 2  # two can come without trouble beats one plus one "if need be"
    assert result.options[1].names == {"yes": ["Anna"], "maybe": ["Bernd"], "no": ["Clara"]}
    assert tally([1, 2], [Vote(1, "A", 2, "yes"), Vote(2, "B", 1, "yes")]).best == 1  # tie
    assert tally([1, 2], [Vote(1, "A", 1, "no")]).best is None
    assert tally([1, 2], []).best is None


def test_survey_percentages_are_shares_of_the_people_who_answered() -> None:
    result = tally(
        [1, 2, 3],
        [
            Vote(1, "A", 1, "yes"),
            Vote(1, "A", 2, "yes"),
            Vote(2, "B", 1, "yes"),
            Vote(3, "C", 3, "yes"),
        ],
    )
    assert [result.percent(p) for p in (1, 2, 3)] == [67, 33, 33]
    assert tally([1], []).percent(1) == 0


def test_reminder_comes_a_day_before_but_not_in_a_short_polls_first_half() -> None:
    day = timedelta(hours=24)
    deadline = datetime(2021, 6, 14, 16, 0, tzinfo=UTC)
    assert reminder_due(NOW, deadline, day) == deadline - day
    created = deadline - timedelta(hours=6)
    assert reminder_due(created, deadline, day) == deadline - timedelta(hours=3)
