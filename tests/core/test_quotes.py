"""Which quotation marks delimit an argument and which belong to the text."""

from __future__ import annotations

import pytest

from bot.core.quotes import UnmatchedQuote, phrases, unquote
from bot.core.router import ArgError, Router
from handlers.registry import all_commands

ROUTER = Router(all_commands())


@pytest.mark.parametrize(
    "typed", ['"AG Transfer"', "„AG Transfer“", "“AG Transfer”", "”AG Transfer”", "„AG Transfer”"]
)
def test_any_german_or_english_quotes_delimit(typed: str) -> None:
    assert unquote(typed) == "AG Transfer"
    assert Router.bind(ROUTER.get("register"), f"ag {typed}") == {
        "kind": "ag",
        "name": "AG Transfer",
    }


@pytest.mark.parametrize(
    "text",
    [
        "Konzept „Digital Mentor“",
        "„Digital Mentor“ – Konzept",
        '"A" und "B"',
        "Das „Mentoring“-Programm",
        'Zoll 5" Bildschirm',
    ],
)
def test_quotes_inside_text_stay_as_typed(text: str) -> None:
    assert unquote(text) == text
    assert Router.bind(ROUTER.get("note"), text) == {"text": text}


def test_a_quoted_title_keeps_its_inner_quotes() -> None:
    assert unquote("„Konzept „Digital Mentor““") == "Konzept „Digital Mentor“"
    assert [p.value for p in phrases('9 Uhr "Konzept „Digital Mentor“" | x')] == [
        "9",
        "Uhr",
        "Konzept „Digital Mentor“",
        "|",
        "x",
    ]


def test_an_unclosed_opening_quote_is_an_error() -> None:
    with pytest.raises(UnmatchedQuote):
        phrases("„AG Transfer")
    with pytest.raises(ArgError):
        Router.bind(ROUTER.get("register"), "ag „AG Transfer")


def test_nested_german_quotes_inside_a_quoted_title() -> None:
    assert unquote("„Die „Checks“ für KMU“") == "Die „Checks“ für KMU"
    assert unquote("„A“ und „B“") == "„A“ und „B“"


def test_arguments_on_the_following_lines_keep_their_lines() -> None:
    call = ROUTER.parse("/anwesend\nDr. Weber, IHK Köln\nLena Roth, HWK", None)
    assert call.raw_args == "Dr. Weber, IHK Köln\nLena Roth, HWK"
