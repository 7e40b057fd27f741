"""Polls whose deadline passed are closed by the sweep."""

from __future__ import annotations

from handlers.context import Job
from handlers.polls.deadlines import run_poll_deadlines

JOBS = (Job("poll_deadlines", run_poll_deadlines),)
