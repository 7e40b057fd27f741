"""Mentions in command text: a Matrix ID keeps its colon, a Telegram @name does not."""

from __future__ import annotations

import pytest

from bot.core.mentions import is_mention, mentions_in, split_who


@pytest.mark.parametrize(
    ("text", "who", "what"),
    [
        ("@bernd:localhost: Bögen senden", "@bernd:localhost", " Bögen senden"),
        ("@bernd:example.org:8448: Bögen", "@bernd:example.org:8448", " Bögen"),
        ("@anna: Bericht um 10:30", "@anna", " Bericht um 10:30"),
        ("@anna:Bericht schreiben", "@anna", "Bericht schreiben"),
        ("Clara Conrad, @bernd:localhost: Liste", "Clara Conrad, @bernd:localhost", " Liste"),
    ],
)
def test_who_ends_at_the_first_colon_outside_a_matrix_id(text: str, who: str, what: str) -> None:
    assert split_who(text) == (who, what)


def test_mentions_keep_matrix_ids_whole_and_drop_punctuation() -> None:
    assert mentions_in("@anna, @bernd:localhost; @clara:example.org und @dora") == [
        "@anna",
        "@bernd:localhost",
        "@clara:example.org",
        "@dora",
    ]
    assert is_mention("@bernd:localhost") and is_mention("@anna")
    assert not is_mention("Clara Conrad") and not is_mention("@anna @bernd")
    assert split_who("ohne Doppelpunkt") is None
