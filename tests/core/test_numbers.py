"""Typed numbers: only plain, small ASCII numbers reach the database."""

from __future__ import annotations

import pytest

from bot.core.numbers import small_number, split_leading_ref


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3", 3),
        ("#12", 12),
        (" 7 ", 7),
        ("999999999", 999_999_999),
        ("9999999999", None),  # ten digits: too big for a number anyone types
        ("99999999999999999999", None),  # would overflow SQLite's INTEGER
        ("²", None),  # isdigit() says yes, int() says no
        ("٣", None),  # Arabic-Indic three: decimal, but not what a user means here
        ("", None),
        (None, None),
        ("#", None),
        ("-1", None),
        ("1.5", None),
    ],
)
def test_small_number(raw: str | None, expected: int | None) -> None:
    assert small_number(raw) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#3 Nachtrag", ("3", "Nachtrag")),
        ("  #12\nText", ("12", "Text")),
        ("#3", ("3", "")),
        ("#3: Beschluss", ("3", "Beschluss")),  # the colon people put after the number
        ("#３ Text", ("３", "Text")),  # found as a reference, refused by the lookup
        ("#1234567890 Text", (None, "#1234567890 Text")),  # too long to be a number
        ("#3abc Text", (None, "#3abc Text")),
        ("Text #3", (None, "Text #3")),
        (None, (None, "")),
    ],
)
def test_split_leading_ref(text: str | None, expected: tuple[str | None, str]) -> None:
    assert split_leading_ref(text) == expected
