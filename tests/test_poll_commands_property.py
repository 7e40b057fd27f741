"""Random input to the poll commands and parsers: never a crash, always a helpful answer."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.clock import FixedClock
from handlers.dates import DateParseError
from handlers.poll_logic import PollInputError, parse_date_poll, parse_survey, parse_vote

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
def live(tmp_path_factory: pytest.TempPathFactory):
    from bot.app import Core
    from bot.settings import load_settings
    from tests.harness import GROUP, Conversation, person

    loop = asyncio.new_event_loop()
    db = Path(tmp_path_factory.mktemp("pollprop")) / "p.db"
    clock = FixedClock(NOW)
    core = loop.run_until_complete(
        Core.create(load_settings(_env_file=None, database_url=f"sqlite:///{db}"), clock)
    )
    chat = Conversation(core)
    chat.platform.admins.add((GROUP.chat_id, "anna"))
    for who, text in [
        ("anna", '/registrieren ag "AG Transfer"'),
        ("bernd", "/beitreten"),
        ("anna", '/terminabfrage "Juni" 15.06. 9-12 Uhr; 17.06. 14 Uhr notfalls bis 14.06.'),
        ("anna", '/umfrage "Welche?" A; B; C mehrfach'),
    ]:
        loop.run_until_complete(chat.say(person(who), text))
    yield loop, chat
    loop.run_until_complete(core.close())
    loop.close()


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(command=st.sampled_from(COMMANDS), rest=TEXT, who=st.sampled_from(["anna", "bernd"]))
def test_random_poll_commands_never_crash_and_always_answer(live, command, rest, who) -> None:
    from tests.harness import GROUP, person

    loop, chat = live
    replies = loop.run_until_complete(chat.say(person(who), f"{command} {rest}", GROUP))
    assert replies, "every command gets an answer"
    for reply in replies:
        assert reply.text.strip()
        assert "Sorry, something went wrong" not in reply.text
        assert "Entschuldigung" not in reply.text
