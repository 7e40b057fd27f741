"""The command router (pure) and a property test of the whole dispatcher on random input."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.router import Arg, ArgError, ArgKind, Command, CommandCall, Router, UnknownCommand
from bot.core.text import split_text


async def _noop(ctx: object) -> None:
    return None


ROUTER = Router(
    [
        Command(
            "help", _noop, "help", german="hilfe", args=(Arg("command", "command", required=False),)
        ),
        Command(
            "register",
            _noop,
            "register",
            german="registrieren",
            args=(
                Arg("kind", "kind", kind=ArgKind.CHOICE, choices={"ag": "ag", "fg": "fachgruppe"}),
                Arg("name", "name", kind=ArgKind.TEXT, max_length=20),
            ),
        ),
        Command(
            "role",
            _noop,
            "role",
            args=(
                Arg("role", "role", kind=ArgKind.CHOICE, choices={"chair": "chair"}),
                Arg("person", "person", kind=ArgKind.USER, required=False),
            ),
        ),
    ]
)


def test_parse_finds_commands_by_every_name_and_ignores_other_bots() -> None:
    call = ROUTER.parse("/hilfe rolle", "ag_bot")
    assert isinstance(call, CommandCall) and call.command.name == "help"
    assert call.raw_args == "rolle" and call.invoked_as == "hilfe"
    assert isinstance(ROUTER.parse("/HELP@AG_Bot", "ag_bot"), CommandCall)  # case-insensitive
    assert ROUTER.parse("/help@other_bot", "ag_bot") is None
    assert ROUTER.parse("hello /help", "ag_bot") is None
    assert ROUTER.parse("/", "ag_bot") is None
    assert ROUTER.parse("", "ag_bot") is None
    assert ROUTER.parse("/nope", "ag_bot") == UnknownCommand("nope")


def test_arguments_may_start_on_the_next_line() -> None:
    call = ROUTER.parse("/registrieren\nag AG Transfer", None)
    assert isinstance(call, CommandCall)
    assert Router.bind(call.command, call.raw_args) == {"kind": "ag", "name": "AG Transfer"}


def test_bind_choices_text_and_quotes() -> None:
    register = ROUTER.get("register")
    assert Router.bind(register, 'FG "Fachgruppe  Handwerk"') == {
        "kind": "fachgruppe",
        "name": "Fachgruppe  Handwerk",
    }
    assert Router.bind(register, "ag „AG Transfer“") == {"kind": "ag", "name": "AG Transfer"}
    assert Router.bind(register, "ag AG  Transfer, Köln") == {
        "kind": "ag",
        "name": "AG  Transfer, Köln",
    }


@pytest.mark.parametrize(
    ("command", "raw", "code"),
    [
        ("register", "", "missing"),
        ("register", "ag", "missing"),
        ("register", "verein X", "bad_choice"),
        ("register", 'ag "AG Transfer', "quotes"),
        ("register", "ag " + "x" * 21, "arg_too_long"),
        ("register", "ag " + "x" * 4000, "too_long"),
        ("role", "chair anna", "bad_user"),
        ("role", "chair @anna extra", "extra"),
    ],
)
def test_bind_errors_have_codes(command: str, raw: str, code: str) -> None:
    with pytest.raises(ArgError) as error:
        Router.bind(ROUTER.get(command), raw)
    assert error.value.code == code


def test_names_must_be_unique_and_valid() -> None:
    with pytest.raises(ValueError, match="twice"):
        Router([Command("a", _noop, "a"), Command("b", _noop, "b", german="a")])
    with pytest.raises(ValueError, match="invalid"):
        Router([Command("Umlaut-ä", _noop, "x")])


def test_suggest_closest_command() -> None:
    assert ROUTER.suggest("hilf").name == "help"
    assert ROUTER.suggest("zzzzzz") is None


@given(st.text(max_size=300), st.integers(min_value=1, max_value=50))
def test_split_text_keeps_everything_within_the_limit(text: str, limit: int) -> None:
    chunks = split_text(text, limit)
    assert all(len(chunk) <= limit for chunk in chunks)
    assert "".join(chunks).split() == text.split() or "".join(text.split()) == "".join(
        "".join(chunks).split()
    )


# --- the whole dispatcher on random input ----------------------------------------------------

COMMAND_WORDS = [
    "/start",
    "/help",
    "/hilfe",
    "/registrieren",
    "/register",
    "/rolle",
    "/role",
    "/mitglieder",
    "/sprache",
    "/zeitzone",
    "/datum",
    "/date",
    "/meinedaten",
    "/datenloeschen",
    "/beitreten",
    "/einstellungen",
    "/datenschutz",
    "/x",
    "/hilfe@ag_test_bot",
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory):
    from bot.app import Core
    from bot.core.settings import load_settings
    from tests.harness import GROUP, Conversation

    loop = asyncio.new_event_loop()
    db = Path(tmp_path_factory.mktemp("prop")) / "p.db"
    core = loop.run_until_complete(
        Core.create(load_settings(_env_file=None, database_url=f"sqlite:///{db}"))
    )
    chat = Conversation(core)
    chat.platform.admins.add((GROUP.chat_id, "anna"))
    yield loop, chat
    loop.run_until_complete(core.close())
    loop.close()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    command=st.sampled_from(COMMAND_WORDS),
    rest=st.text(st.characters(blacklist_categories=["Cs"]), max_size=120),
    who=st.sampled_from(["anna", "bernd"]),
    private=st.booleans(),
)
def test_random_commands_never_crash_and_always_answer(live, command, rest, who, private) -> None:
    from tests.harness import GROUP, dm, person

    loop, chat = live
    sender = person(who)
    replies = loop.run_until_complete(
        chat.say(sender, f"{command} {rest}", dm(sender) if private else GROUP)
    )
    assert replies, "every command gets an answer"
    for reply in replies:
        assert reply.text.strip()
        assert "Sorry, something went wrong" not in reply.text
        assert "Entschuldigung" not in reply.text
