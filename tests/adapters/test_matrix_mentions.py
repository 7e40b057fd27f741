"""Mention pills become the Matrix IDs they link to, before a handler reads the text."""

from __future__ import annotations

from bot.adapters.matrix_mentions import pills, with_mentions_resolved

CLARA = "@clara:example.org"


def test_a_pill_in_the_html_replaces_the_shown_name() -> None:
    content = {
        "body": "!aufgabe #1 Clara Conrad: Bögen senden",
        "format": "org.matrix.custom.html",
        "formatted_body": '!aufgabe #1 <a href="https://matrix.to/#/%40clara%3Aexample.org">'
        "Clara &amp; Conrad</a>: Bögen senden",
    }
    assert pills(content["formatted_body"]) == [(CLARA, "Clara & Conrad")]
    content["body"] = "!aufgabe #1 Clara & Conrad: Bögen senden"
    resolved = with_mentions_resolved(
        content, content["body"], own_user_id="@bot:example.org", display_name=lambda _: None
    )
    assert resolved == f"!aufgabe #1 {CLARA}: Bögen senden"


def test_m_mentions_without_html_use_the_rooms_name_and_leave_the_bot_alone() -> None:
    content = {"m.mentions": {"user_ids": [CLARA, "@bot:example.org"]}}
    names = {CLARA: "Clara Conrad", "@bot:example.org": "AG Bot"}
    resolved = with_mentions_resolved(
        content,
        "AG Bot: anwesend Clara Conrad",
        own_user_id="@bot:example.org",
        display_name=names.get,
    )
    assert resolved == f"AG Bot: anwesend {CLARA}"
