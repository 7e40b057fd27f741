"""All commands, in the order /help lists them, and all sweep jobs, in the order they run:
each capability's `COMMANDS` and `JOBS` in turn."""

from __future__ import annotations

from bot.core.router import Command, Router
from handlers.action_items import commands as action_item_commands
from handlers.advisors import commands as advisor_commands
from handlers.advisors import jobs as advisor_jobs
from handlers.agenda import commands as agenda_commands
from handlers.agenda import live_commands
from handlers.calendar import commands as calendar_commands
from handlers.calendar import invitations
from handlers.context import Job
from handlers.decisions import commands as decision_commands
from handlers.delivery import commands as delivery_commands
from handlers.delivery import jobs as delivery_jobs
from handlers.email import commands as email_commands
from handlers.email import jobs as email_jobs
from handlers.general import commands as general_commands
from handlers.groups import commands as group_commands
from handlers.linking import commands as linking_commands
from handlers.meetings import commands as meeting_commands
from handlers.meetings import edit_commands, series_commands
from handlers.meetings import jobs as meeting_jobs
from handlers.members import commands as member_commands
from handlers.minutes import commands as minutes_commands
from handlers.organisation import (
    alias_commands,
    digest_commands,
    digest_jobs,
    inbox_commands,
    report_commands,
    report_jobs,
    search_commands,
)
from handlers.personal_data import commands as personal_data_commands
from handlers.personal_links import commands as personal_link_commands
from handlers.polls import commands as poll_commands
from handlers.polls import jobs as poll_jobs
from handlers.processes import jobs as process_jobs
from handlers.reminders import commands as reminder_commands
from handlers.reminders import jobs as reminder_jobs


def all_commands() -> tuple[Command, ...]:
    return (
        *general_commands.COMMANDS,
        *group_commands.COMMANDS,
        *member_commands.COMMANDS,
        *meeting_commands.COMMANDS,
        *edit_commands.COMMANDS,
        *series_commands.COMMANDS,
        *agenda_commands.COMMANDS,
        *live_commands.COMMANDS,
        *invitations.COMMANDS,
        *calendar_commands.COMMANDS,
        *decision_commands.COMMANDS,
        *action_item_commands.COMMANDS,
        *minutes_commands.COMMANDS,
        *poll_commands.COMMANDS,
        *reminder_commands.COMMANDS,
        *linking_commands.COMMANDS,
        *personal_data_commands.COMMANDS,
        *advisor_commands.COMMANDS,
        *delivery_commands.COMMANDS,
        *email_commands.COMMANDS,
        *alias_commands.COMMANDS,
        *inbox_commands.COMMANDS,
        *report_commands.COMMANDS,
        *search_commands.COMMANDS,
        *digest_commands.COMMANDS,
        *personal_link_commands.COMMANDS,
    )


def build_router(prefixes: tuple[str, ...] = ("/", "!")) -> Router:
    return Router(all_commands(), prefixes=prefixes)


def all_jobs() -> tuple[Job, ...]:
    """Every sweep job, each capability's `JOBS` in turn; the scheduler runs them in this
    order (every-sweep and daily ones apart, see bot/scheduler/jobs.py)."""
    return (
        *reminder_jobs.JOBS,
        *poll_jobs.JOBS,
        *meeting_jobs.JOBS,
        *delivery_jobs.JOBS,
        *advisor_jobs.JOBS,
        *email_jobs.JOBS,
        *report_jobs.JOBS,
        *digest_jobs.JOBS,
        *process_jobs.JOBS,
    )
