"""All commands, in the order /help lists them."""

from __future__ import annotations

from bot.core.router import Command, Router
from handlers import (
    actions,
    advisors,
    agenda,
    decisions,
    general,
    groups,
    invitations,
    linking,
    me,
    meeting_live,
    meeting_view,
    meetings,
    members,
    minutes,
    outbox_report,
    polls,
    reminders,
    series,
    subscriptions,
)


def all_commands() -> tuple[Command, ...]:
    return (
        *general.COMMANDS,
        *groups.COMMANDS,
        *members.COMMANDS,
        *meetings.COMMANDS,
        *meeting_view.COMMANDS,
        *series.COMMANDS,
        *agenda.COMMANDS,
        *meeting_live.COMMANDS,
        *invitations.COMMANDS,
        *subscriptions.COMMANDS,
        *decisions.COMMANDS,
        *actions.COMMANDS,
        *minutes.COMMANDS,
        *polls.COMMANDS,
        *reminders.COMMANDS,
        *linking.COMMANDS,
        *me.COMMANDS,
        *advisors.COMMANDS,
        *outbox_report.COMMANDS,
    )


def build_router(prefixes: tuple[str, ...] = ("/", "!")) -> Router:
    return Router(all_commands(), prefixes=prefixes)
