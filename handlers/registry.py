"""All commands, in the order /help lists them."""

from __future__ import annotations

from bot.core.router import Command, Router
from handlers import general, groups, linking, me, meetings, members, reminders


def all_commands() -> tuple[Command, ...]:
    return (
        *general.COMMANDS,
        *groups.COMMANDS,
        *members.COMMANDS,
        *meetings.COMMANDS,
        *reminders.COMMANDS,
        *linking.COMMANDS,
        *me.COMMANDS,
    )


def build_router(prefixes: tuple[str, ...] = ("/", "!")) -> Router:
    return Router(all_commands(), prefixes=prefixes)
