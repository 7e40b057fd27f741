"""All commands, in the order /help lists them."""

from __future__ import annotations

from bot.core.router import Command, Router
from handlers import advisors, general, groups, linking, me, meetings, members


def all_commands() -> tuple[Command, ...]:
    return (
        *general.COMMANDS,
        *groups.COMMANDS,
        *members.COMMANDS,
        *meetings.COMMANDS,
        *linking.COMMANDS,
        *me.COMMANDS,
        *advisors.COMMANDS,
    )


def build_router(prefixes: tuple[str, ...] = ("/", "!")) -> Router:
    return Router(all_commands(), prefixes=prefixes)
