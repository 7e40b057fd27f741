"""Which group a decision's addressee names (pure matching, handlers/organisation/addressing)."""

from __future__ import annotations

import pytest

from handlers.organisation.addressing import Candidate, key, match, valid_alias

STRATEGIEKREIS = Candidate(1, "Strategiekreis")
QS = Candidate(2, "AG Qualitätssicherung", ("QS",))
TRANSFER = Candidate(3, "AG Transfer")
HANDWERK = Candidate(4, "Fachgruppe Handwerk")
QUALITAET_NORD = Candidate(5, "AG Qualität Nord")
GROUPS = [STRATEGIEKREIS, QS, TRANSFER, HANDWERK]


@pytest.mark.parametrize(
    ("addressee", "expected"),
    [
        ("Strategiekreis", STRATEGIEKREIS),
        ("den Strategiekreis", STRATEGIEKREIS),
        ("dem STRATEGIEKREIS", STRATEGIEKREIS),
        ("AG Qualitätssicherung", QS),
        ("die AG Qualitätssicherung", QS),
        ("AG QS", QS),  # alias with the body word
        ("qs", QS),
        ("Qualitätssicherung", QS),  # the name without "AG"
        ("AG Qualität", QS),  # a unique beginning
        ("Transfer", TRANSFER),
        ("FG Handwerk", HANDWERK),
    ],
)
def test_names_aliases_and_beginnings_find_one_group(addressee: str, expected: Candidate) -> None:
    assert match(addressee, GROUPS) == [expected]


def test_an_unregistered_body_matches_nothing() -> None:
    assert match("Leitungskreis", GROUPS) == []
    assert match("Stiftungsvorstand", GROUPS) == []
    assert match("", GROUPS) == []
    assert match("AG", GROUPS) == []  # a body word alone names no group


def test_a_name_fitting_several_groups_is_ambiguous() -> None:
    assert match("AG Qualität", [*GROUPS, QUALITAET_NORD]) == [QS, QUALITAET_NORD]


def test_an_exact_name_beats_a_beginning() -> None:
    nord = Candidate(6, "AG Qualität")
    assert match("AG Qualität", [*GROUPS, nord]) == [nord]


def test_short_beginnings_name_no_group() -> None:
    assert match("AG Qu", GROUPS) == []


def test_aliases_are_compared_by_their_key() -> None:
    assert key("  QS ") == key("qs") == "qs"
    assert key("die AG Transfer") == "ag transfer"
    assert valid_alias("QS") and valid_alias("AG QS-Nord")
    assert not valid_alias("") and not valid_alias("AG") and not valid_alias("<b>x</b>")
    assert not valid_alias("x" * 61)
