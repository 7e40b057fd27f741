"""Random input to the meeting, series, agenda and attendance commands: never a crash,
always a helpful answer (the whole dispatcher on SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.harness import LiveBot, answers_politely, person, running_ag_transfer

anna, bernd = person("anna"), person("bernd")

COMMANDS = [
    "/sitzungaendern", "/sitzunginfo", "/serie", "/serien", "/serieaendern", "/serieende",
    "/tagesordnung", "/tophinzu", "/pause", "/vorschlagen", "/annehmen", "/ablehnen",
    "/topaendern", "/topentfernen", "/topverschieben", "/vertagen", "/top", "/notiz",
    "/notizen", "/anwesend", "/abwesend", "/anwesenheit", "/series", "/present", "/item",
]  # fmt: skip
WORDS = [
    "1", "#1", "#2", "2", "3", "P1", "P2", "S1", "S2", "@anna", "@bernd", "@x", "|", "9:00",
    "10-11 Uhr", "25 Uhr", "titel", "zeit", "ort", "referent", "beschreibung", "weiter",
    "next", "alle mit Zusage", "Gäste:", "58", "jeden", "montags", "alle 2 Wochen", "2.",
    "Donnerstag", "im Monat", "bis", "ab", "31.12.2027", "31.02.2021", "16.06.2021", "X",
    '"', "Dr. Weber (IHK Köln)", ",", "0", "-1", "99999999999",
]  # fmt: skip


@pytest.fixture(scope="module")
def live() -> Iterator[LiveBot]:
    with running_ag_transfer(
        datetime(2021, 6, 10, 8, 0, tzinfo=UTC),
        (anna, "/sitzung 10.06.2021 10:30-12 Uhr Heute | https://meet.example.org"),
        (anna, "/tophinzu 1 Begrüßung | @anna | 10:30"),
        (bernd, "/vorschlagen 1 Idee"),
        (anna, "/serie montags 9 Uhr Jour fixe"),
    ) as bot:
        yield bot


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    command=st.sampled_from(COMMANDS),
    rest=st.one_of(
        st.text(st.characters(blacklist_categories=["Cs"]), max_size=80),
        st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join),
    ),
    who=st.sampled_from(["anna", "bernd"]),
)
def test_random_meeting_commands_never_crash_and_always_answer(live, command, rest, who) -> None:
    answers_politely(live, who, f"{command} {rest}")
