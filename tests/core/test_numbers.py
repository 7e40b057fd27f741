"""Typed numbers: only plain, small ASCII numbers reach the database."""

from __future__ import annotations

import pytest

from bot.core.numbers import small_number


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
