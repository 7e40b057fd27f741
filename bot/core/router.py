"""Declarative commands and the router that finds and binds them.

A command is data: its names in both languages, its arguments, its help text and the role
it needs. The router turns raw text into (command, bound arguments) or a precise error code
that the dispatcher translates for the user. It knows nothing of platforms or storage.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from bot.core.enums import Role
from bot.core.quotes import UnmatchedQuote, phrases

if TYPE_CHECKING:
    from bot.core.messages import Reply
    from handlers.context import HandlerContext

Handler = Callable[["HandlerContext"], Awaitable["Reply | list[Reply] | None"]]

MAX_COMMAND_CHARS = 3000
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_HEAD = re.compile(r"\S*")


class Scope(StrEnum):
    ANY = "any"
    GROUP = "group"
    PRIVATE = "private"


class ArgKind(StrEnum):
    WORD = "word"
    TEXT = "text"  # the rest of the line, spaces included
    CHOICE = "choice"
    USER = "user"  # @username; the handler falls back to the replied-to message


@dataclass(frozen=True, slots=True)
class Arg:
    name: str
    label: str  # N_() marked, shown in usage lines: "<name>"
    kind: ArgKind = ArgKind.WORD
    required: bool = True
    choices: Mapping[str, str] = field(default_factory=dict)  # accepted token -> value
    max_length: int = 200
    display: Mapping[str, str] = field(default_factory=dict)  # language -> "a|b|c" for usage


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    handler: Handler
    summary: str  # N_() marked one-liner
    german: str | None = None
    aliases: tuple[str, ...] = ()
    args: tuple[Arg, ...] = ()
    details: str = ""  # N_() marked longer help
    role: Role | None = None  # None: anyone; otherwise the minimum group role
    scope: Scope = Scope.ANY
    needs_group: bool = False  # group must be registered first
    hidden: bool = False
    # Deployment admins only (handlers.admins checks it): left out of the help and the
    # command menu for everyone else, who could not use it anyway.
    admin_only: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        german = (self.german,) if self.german else ()
        return (self.name, *german, *self.aliases)

    def display_name(self, language: str) -> str:
        return self.german if language == "de" and self.german else self.name


@dataclass(frozen=True, slots=True)
class CommandCall:
    command: Command
    invoked_as: str
    raw_args: str


@dataclass(frozen=True, slots=True)
class UnknownCommand:
    name: str


class ArgError(Exception):
    """Bad arguments; `code` selects the translated message."""

    def __init__(self, code: str, **params: str) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class Router:
    def __init__(self, commands: Iterable[Command], prefixes: tuple[str, ...] = ("/",)) -> None:
        self.commands: list[Command] = []
        self._by_name: dict[str, Command] = {}
        self.prefixes = prefixes
        for command in commands:
            self.add(command)

    def add(self, command: Command) -> None:
        for name in command.names:
            if not _COMMAND_NAME.match(name):
                raise ValueError(f"invalid command name {name!r}")
            if name in self._by_name:
                raise ValueError(f"command name {name!r} is used twice")
            self._by_name[name] = command
        self.commands.append(command)

    def get(self, name: str) -> Command | None:
        for prefix in self.prefixes:
            name = name.removeprefix(prefix)
        return self._by_name.get(name.lower())

    def parse(self, text: str, bot_username: str | None) -> CommandCall | UnknownCommand | None:
        """None when the text is no command for this bot (plain chat, or `/x@other_bot`)."""
        stripped = text.lstrip()
        prefix = next((p for p in self.prefixes if stripped.startswith(p)), None)
        if prefix is None:
            return None
        # The command word ends at the first space or line break; the arguments keep their
        # lines ("/anwesend" and one participant per line below it).
        body = stripped[len(prefix) :]
        head = _HEAD.match(body).group()  # type: ignore[union-attr]
        rest = body[len(head) :]
        name, _, addressee = head.partition("@")
        if addressee and bot_username and addressee.lower() != bot_username.lower():
            return None
        name = name.lower()
        if not name:
            return None
        command = self._by_name.get(name)
        if command is None:
            return UnknownCommand(name)
        return CommandCall(command, name, rest.strip())

    def suggest(self, name: str) -> Command | None:
        """The closest known command, for 'did you mean …?'."""
        import difflib

        match = difflib.get_close_matches(name, list(self._by_name), n=1, cutoff=0.6)
        return self._by_name[match[0]] if match else None

    @staticmethod
    def bind(command: Command, raw_args: str) -> dict[str, Any]:
        if len(raw_args) > MAX_COMMAND_CHARS:
            raise ArgError("too_long", limit=str(MAX_COMMAND_CHARS))
        tokens = _tokenize(raw_args)
        bound: dict[str, Any] = {}
        for index, arg in enumerate(command.args):
            if arg.kind is ArgKind.TEXT:
                value: str | None = _rest_from(raw_args, tokens, index) or None
                tokens = tokens[:index]
            else:
                value = tokens[index].value if index < len(tokens) else None
            if value is None:
                if arg.required:
                    raise ArgError("missing", arg=arg.name)
                bound[arg.name] = None
                continue
            if len(value) > arg.max_length:
                raise ArgError("arg_too_long", arg=arg.name, limit=str(arg.max_length))
            if arg.kind is ArgKind.CHOICE:
                choice = arg.choices.get(value.lower())
                if choice is None:
                    raise ArgError("bad_choice", arg=arg.name, value=value)
                value = choice
            elif arg.kind is ArgKind.USER and not value.startswith("@"):
                raise ArgError("bad_user", arg=arg.name, value=value)
            bound[arg.name] = value
        if len(tokens) > len(command.args):
            raise ArgError("extra", value=" ".join(t.value for t in tokens[len(command.args) :]))
        return bound


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    start: int


def _tokenize(raw: str) -> list[_Token]:
    """Words, or "quoted phrases" („…“, “…”, ”…” too); an unmatched opening quote is an
    error. Quotes inside a word or phrase are text and stay as typed."""
    try:
        return [_Token(phrase.value, phrase.start) for phrase in phrases(raw)]
    except UnmatchedQuote:
        raise ArgError("quotes") from None


def _rest_from(raw: str, tokens: list[_Token], index: int) -> str:
    """The raw text from token `index` on, so free text keeps its spacing, punctuation and
    quotation marks; one quoted phrase alone is given without its quotes."""
    if index >= len(tokens):
        return ""
    if index == len(tokens) - 1:
        return tokens[index].value.strip()
    return raw[tokens[index].start :].strip()
