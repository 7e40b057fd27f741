"""Undeliverable mail is reported to admins (and refused addresses marked) every sweep."""

from __future__ import annotations

from handlers.context import Job
from handlers.email.failures import report_failed_mail

JOBS = (Job("mail_failed", report_failed_mail),)
