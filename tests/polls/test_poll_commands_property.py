"""Random input to the poll commands and parsers: never a crash, always a helpful answer."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.dates import DateParseError
from handlers.polls.tally import PollInputError, parse_date_poll, parse_survey, parse_vote
from tests.harness import LiveBot, answers_politely, person, running_ag_transfer

anna = person("anna")
COMMANDS = [
    "/terminabfrage", "/umfrage", "/abstimmen", "/abfragen", "/abfrageende", "/terminwahl",
    "/datepoll", "/survey", "/vote", "/polls", "/closepoll", "/pickdate",
]  # fmt: skip
WORDS = [
    "1", "2", "3", "#1", "#2", "#3", "#x", "ja", "nein", "notfalls", "yes", "no", "toggle",
    "maybe", "anonym", "mehrfach", "bis", "bis zum", "Frist", "until", '"Juni"', '"', "„X“",
    "15.06.", "16.06.2021", "9-12 Uhr", "14 Uhr", "31.02.", "25 Uhr", "morgen", "Do 14 Uhr",
    "2021-06-20", ";", ",", "\n", "?", ":", "Digitalisierung", "0", "-1", "99999999999",
]  # fmt: skip
TEXT = st.one_of(
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=80),
    st.lists(st.sampled_from(WORDS), max_size=10).map(" ".join),
)
NOW = datetime(2021, 6, 10, 8, 0, tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@given(text=TEXT)
def test_the_parsers_raise_only_their_own_errors(text: str) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    for parse in (parse_date_poll, parse_survey):
        try:
            spec = parse(text, now=NOW, tz=berlin)
        except (PollInputError, DateParseError):
            continue
        assert spec.title and 1 <= len(spec.slots) + len(spec.labels) <= 10
        assert spec.deadline is None or spec.deadline > NOW
    with contextlib.suppress(PollInputError):
        parse_vote(text)


@pytest.fixture(scope="module")
def live() -> Iterator[LiveBot]:
    with running_ag_transfer(
        NOW,
        (anna, '/terminabfrage "Juni" 15.06. 9-12 Uhr; 17.06. 14 Uhr notfalls bis 14.06.'),
        (anna, '/umfrage "Welche?" A; B; C mehrfach'),
    ) as bot:
        yield bot


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(command=st.sampled_from(COMMANDS), rest=TEXT, who=st.sampled_from(["anna", "bernd"]))
def test_random_poll_commands_never_crash_and_always_answer(live, command, rest, who) -> None:
    answers_politely(live, who, f"{command} {rest}")
