"""Property test: any command name with any arguments, from any person in any chat, gets a
helpful reply – never an exception, never the "something went wrong" apology.

Runs on SQLite only and with a modest number of examples so it stays fast; the bot is set up
with a meeting, a TOP, a decision and an action item so that numbers people guess can hit
real rows as well as missing ones.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.i18n import Translator
from handlers.registry import all_commands
from tests.harness import GROUP, OTHER_GROUP, Conversation, dm, person, running_bot

anna, bernd, clara, dora = person("anna"), person("bernd"), person("clara", "en"), person("dora")
APOLOGY = "Sorry, something went wrong on my side."
APOLOGIES = {
    Translator(lang).gettext(APOLOGY + " The error was logged; please try again later.")
    for lang in ("de", "en")
}

NAMES = sorted({name for command in all_commands() for name in command.names})
TRICKY = [
    "",
    " ",
    '"',
    "„",
    "“x”",
    '""',
    "#",
    "#1",
    "#0",
    "#99999999999999999999",
    "1",
    "0",
    "-1",
    "99999999999999999999",
    "²",
    "٣",
    "B-2021-01",
    "B-2021-99999",
    "B-0000-0",
    "A-1",
    "A-99999999999",
    "a1",
    "12:0:1",
    "99999999999999999999:0:0",
    "dafür 1 dagegen 99999999999",
    "einstimmig",
    "Empfehlung an :",
    "Auftrag an AG X:",
    "Info:",
    "@anna",
    "@",
    "@niemand",
    "anna, @bernd:",
    ":",
    "bis 31.02.2021",
    "bis 15.06.",
    "15.06.2021 9-12 Uhr",
    "sofort",
    "alle",
    "ueberfaellig",
    "erledigt",
    "|",
    "\n",
    "\x00",
    "🙂",
    "<script>",
    "*_[x](y)_*",
    "ja",
    "x" * 400,
]
argument = st.one_of(st.sampled_from(TRICKY), st.text(max_size=40))
arguments = st.lists(argument, max_size=5).map(" ".join)
who = st.sampled_from([anna, bernd, clara, dora])
where = st.sampled_from(["group", "other", "dm"])


@pytest.fixture(scope="module")
def bot() -> Iterator[tuple[asyncio.Runner, Conversation]]:
    """One bot for all examples (module-scoped, so hypothesis may reuse it)."""
    setup = [
        (anna, '/registrieren ag "AG Transfer"', GROUP),
        (bernd, "/beitreten", GROUP),
        (clara, "/beitreten", GROUP),
        (anna, "/rolle protokoll @bernd", GROUP),
        (anna, "/sitzung 10.06.2021 10:30-12 Uhr Juni-Sitzung", GROUP),
        (anna, "/beschluss einstimmig Der Leitfaden wird beschlossen.", GROUP),
        (bernd, "/aufgabe @clara: Bögen senden bis 30.06.", GROUP),
        (dora, '/registrieren ag "AG Qualität"', OTHER_GROUP),
    ]
    admins = [(GROUP, anna), (OTHER_GROUP, dora)]
    with running_bot(datetime(2021, 6, 10, 8, 0, tzinfo=UTC), setup, admins) as running:
        yield running


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.sampled_from(NAMES),
    prefix=st.sampled_from(["/", "!"]),
    args=arguments,
    sender=who,
    place=where,
)
def test_every_command_answers_helpfully(
    bot: tuple[asyncio.Runner, Conversation],
    caplog: pytest.LogCaptureFixture,
    name: str,
    prefix: str,
    args: str,
    sender: object,
    place: str,
) -> None:
    runner, chat = bot
    chat_ref = {"group": GROUP, "other": OTHER_GROUP, "dm": dm(sender)}[place]  # type: ignore[arg-type]
    text = f"{prefix}{name} {args}"
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        replies = runner.run(chat.say(sender, text, chat_ref))  # type: ignore[arg-type]
    check(replies, text, caplog)


def check(replies: list, text: str, caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], text
    assert replies, f"no reply to {text!r}"
    for reply in replies:
        assert reply.text.strip(), f"empty reply to {text!r}"
        assert reply.text not in APOLOGIES, f"internal error for {text!r}"


FIRST_ARGUMENTS = ["", "#99999999999999999999", "99999999999999999999", "²", "٣", '"', "@"]
FIRST_ARGUMENTS += ["B-2021-01", "A-1", "1 ²", "1 99999999999999999999", "1 x" * 300]


def test_every_command_with_tricky_arguments(
    bot: tuple[asyncio.Runner, Conversation], caplog: pytest.LogCaptureFixture
) -> None:
    """A deterministic sweep next to the random one: every name, every tricky argument,
    from a chair, so no permission check hides a crash."""
    runner, chat = bot
    for name in NAMES:
        for args in FIRST_ARGUMENTS:
            text = f"/{name} {args}"
            caplog.clear()
            with caplog.at_level(logging.ERROR):
                replies = runner.run(chat.say(anna, text, GROUP))
            check(replies, text, caplog)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.text(max_size=80), sender=who)
def test_any_text_after_a_prefix_gets_an_answer(
    bot: tuple[asyncio.Runner, Conversation], raw: str, sender: object
) -> None:
    """Unknown names, unicode, only a prefix: in a private chat there is always an answer."""
    runner, chat = bot
    replies = runner.run(chat.say(sender, "/" + raw, dm(sender)))  # type: ignore[arg-type]
    assert replies and all(r.text.strip() and r.text not in APOLOGIES for r in replies)
