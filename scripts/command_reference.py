"""Print the bot's command reference as Markdown, one table per language.

Why this exists: the README's command list is generated from the same declarative
`Command` objects the bot runs on (`handlers.registry.all_commands()`), with the bot's own
translations and its own usage-line code, so the documentation cannot drift from the bot.
`tests/docs/test_readme.py` fails when README.md no longer matches this output.

    python scripts/command_reference.py     # paste the output into README.md
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.core.enums import Role  # noqa: E402
from bot.core.i18n import LANGUAGE_NAMES, Translator  # noqa: E402
from bot.core.router import Command, Router, Scope  # noqa: E402
from handlers.context import HandlerContext  # noqa: E402
from handlers.dispatcher import usage_line  # noqa: E402
from handlers.members.commands import ROLE_LABELS  # noqa: E402
from handlers.registry import all_commands, build_router  # noqa: E402

LANGUAGE_ORDER = ("de", "en")

# Table texts that are documentation only (the bot never says them), so they live here
# rather than in the gettext catalogs.
HEADERS = {
    "de": ("Befehl", "Wozu", "Wer", "Wo", "Auch"),
    "en": ("Command", "What for", "Who", "Where", "Also"),
}
LEGEND = {
    "de": "`<…>` muss angegeben werden, `[…]` kann entfallen.",
    "en": "`<…>` is required, `[…]` is optional.",
}
ANYONE = {"de": "alle", "en": "anyone"}
PRIVATE_ANYONE = {"de": "privat: alle", "en": "private chat: anyone"}
SCOPES = {
    Scope.ANY: {"de": "überall", "en": "anywhere"},
    Scope.GROUP: {"de": "Gruppe", "en": "group"},
    Scope.PRIVATE: {"de": "privater Chat", "en": "private chat"},
}
REGISTERED_GROUP = {"de": "registrierte Gruppe", "en": "registered group"}
# Permissions a handler checks itself instead of through `Command.role`.
# The advisor registry: admins only (handlers.admins), in a private chat or an admin chat.
ADMIN_ONLY = tuple(c.name for c in build_router().commands if c.admin_only)
HANDLER_CHECKED = {
    "register": {"de": "Chat-Admins", "en": "chat admins"},
    **{name: {"de": "Admins", "en": "admins"} for name in ADMIN_ONLY},
    "exchange": {
        "de": "alle sehen; eintragen: Admins, Vorsitz für die Gruppe",
        "en": "anyone lists; records: admins, chairs for their group",
    },
    "orgsearch": {"de": "Admins, Strategiekreis", "en": "admins, steering body"},
    "digestshare": {"de": "alle sehen; ändern: Vorsitz", "en": "anyone sees; changes: chairs"},
}


class _UsageContext:
    """The part of a HandlerContext that `usage_line` and `command_name` use.

    The methods are the real HandlerContext ones, so the synopsis here is exactly what the
    bot prints after "Usage:"; only the conversation (database, platform, sender) is absent.
    """

    _: Callable[..., str] = HandlerContext._
    language: Any = HandlerContext.language
    command_name: Callable[..., str] = HandlerContext.command_name

    def __init__(self, router: Router, language: str) -> None:
        self.services = _Services(router)
        self.t = Translator(language)
        self.platform = SimpleNamespace(command_prefix=router.prefixes[0])  # as on Telegram


class _Services:
    def __init__(self, router: Router) -> None:
        self.router = router


def synopsis(router: Router, command: Command, language: str) -> str:
    """`/registrieren <ag|fachgruppe|netzwerk|adhoc> <Name>`: the bot's usage line."""
    ctx: Any = _UsageContext(router, language)
    line = usage_line(ctx, command)
    prefix = ctx._("Usage: {usage}", usage="")
    if not line.startswith(prefix):
        raise RuntimeError(f"unexpected usage line {line!r}")
    return line.removeprefix(prefix)


def who(command: Command, language: str) -> str:
    if command.name in HANDLER_CHECKED:
        return HANDLER_CHECKED[command.name][language]
    if command.role is None:
        return ANYONE[language]
    t = Translator(language)
    allowed = sorted((r for r in Role if r.allows(command.role)), key=lambda r: -r.rank)
    text = ", ".join(t.gettext(ROLE_LABELS[r.value]) for r in allowed)
    if command.scope is Scope.ANY:  # roles exist in groups only; in private, it is your own
        text += f" ({PRIVATE_ANYONE[language]})"
    return text


# Where a handler allows a command beyond its declared scope (see handlers.admins).
HANDLER_PLACES = {
    name: {"de": "privater Chat, Admin-Gruppe", "en": "private chat, admin group"}
    for name in ADMIN_ONLY
    if name != "resend"  # an admin's decision about one message number: anywhere
}
HANDLER_PLACES["orgsearch"] = {
    "de": "privater Chat, Admin-Gruppe, Chat des Strategiekreises",
    "en": "private chat, admin group, steering body's chat",
}
HANDLER_PLACES["digest"] = {
    "de": "privater Chat, Admin-Gruppe; `hier`: jeder Chat",
    "en": "private chat, admin group; `here`: any chat",
}


def where(command: Command, language: str) -> str:
    if command.name in HANDLER_PLACES:
        return HANDLER_PLACES[command.name][language]
    if command.needs_group:
        return REGISTERED_GROUP[language]
    return SCOPES[command.scope][language]


def other_names(router: Router, command: Command, language: str) -> str:
    shown = command.display_name(language)
    prefix = router.prefixes[0]
    return ", ".join(f"`{prefix}{name}`" for name in command.names if name != shown) or "–"


def _cell(text: str) -> str:
    """Pipes would end a table cell (even inside backticks), so escape them."""
    return text.replace("|", "\\|")


def language_table(router: Router, commands: tuple[Command, ...], language: str) -> list[str]:
    t = Translator(language)
    headers = HEADERS[language]
    lines = [
        f"### {LANGUAGE_NAMES[language]}",
        "",
        LEGEND[language],
        "",
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
    ]
    for command in commands:
        cells = (
            f"`{synopsis(router, command, language)}`",
            t.gettext(command.summary),
            who(command, language),
            where(command, language),
            other_names(router, command, language),
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def command_reference() -> str:
    """The Markdown that belongs between the README's `commands:start/end` markers."""
    for name in HANDLER_CHECKED:
        if not any(c.name == name for c in all_commands()):
            raise RuntimeError(f"HANDLER_CHECKED names unknown command {name!r}")
    router = build_router()
    visible = tuple(c for c in router.commands if not c.hidden)
    lines: list[str] = []
    for language in LANGUAGE_ORDER:
        if lines:
            lines.append("")
        lines += language_table(router, visible, language)
    return "\n".join(lines) + "\n"


def main() -> None:
    sys.stdout.write(command_reference())


if __name__ == "__main__":
    main()
