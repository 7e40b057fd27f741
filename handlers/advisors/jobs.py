"""The advisors' re-authorization escalation runs once a day."""

from __future__ import annotations

from datetime import datetime

from handlers.advisors.escalation import EscalationReport, run_advisor_escalation
from handlers.context import Job, Services, local_today


async def advisor_escalation(services: Services, now: datetime) -> EscalationReport:
    """Today's escalation steps, today being the deployment's local day."""
    return await run_advisor_escalation(services, local_today(services, now))


JOBS = (Job("advisor_escalation", advisor_escalation, daily=True),)
