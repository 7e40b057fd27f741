"""Messages a crash left uncertain go to the admins' attention, never out of sight; sent
messages lose their text after the retention."""

from __future__ import annotations

from handlers.context import Job
from handlers.delivery.retention import retention
from handlers.delivery.uncertain import report_uncertain

JOBS = (
    Job("outbox_uncertain", report_uncertain),
    Job("outbox_retention", retention, daily=True),
)
