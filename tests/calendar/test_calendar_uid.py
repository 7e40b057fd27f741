"""Our calendar UIDs read back: only our shape, only our domain."""

from __future__ import annotations

import pytest

from handlers.calendar.ics import OurUid, parse_uid, uid_for

DOMAIN = "bot.example.org"


@pytest.mark.parametrize(
    ("kind", "key"), [("meeting", 12), ("series", 3), ("exchange", 1), ("meeting", 10**17)]
)
def test_every_uid_we_make_reads_back(kind: str, key: int) -> None:
    assert parse_uid(uid_for(kind, key, DOMAIN), DOMAIN) == OurUid(kind, key)


def test_host_names_compare_case_insensitively() -> None:
    assert parse_uid("meeting-12@Bot.Example.ORG", DOMAIN) == OurUid("meeting", 12)
    assert parse_uid(" meeting-12@bot.example.org ", "BOT.example.org") == OurUid("meeting", 12)


@pytest.mark.parametrize(
    "uid",
    [
        "meeting-12@evil.example.org",  # another domain
        "meeting-12@bot.example.org.evil.net",
        "meeting-12@sub.bot.example.org",
        "meeting-12",  # no domain
        "meeting-@bot.example.org",
        "-12@bot.example.org",
        "12@bot.example.org",
        "meeting-1x@bot.example.org",
        "meeting-١٢@bot.example.org",  # non-ASCII digits
        "Meeting-12@bot.example.org",
        "meeting 12@bot.example.org",
        "meeting-12@bot.example.org@bot.example.org",
        "-meeting-12@bot.example.org",
        "meeting-1234567890123456789@bot.example.org",  # longer than any id
        "040000008200E00074C5B7101A82E0080000000@bot.example.org",  # Outlook-style
        "",
    ],
)
def test_anything_else_is_not_ours(uid: str) -> None:
    assert parse_uid(uid, DOMAIN) is None


def test_an_empty_domain_recognises_nothing() -> None:
    assert parse_uid("meeting-12@", "") is None
