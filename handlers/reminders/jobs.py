"""The reminder sweep, as the scheduler runs it."""

from __future__ import annotations

from handlers.context import Job
from handlers.reminders.sweep import run_reminders

JOBS = (Job("reminders", run_reminders),)
