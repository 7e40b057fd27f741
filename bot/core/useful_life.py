"""How long a queued message stays worth sending, by its purpose.

Pure policy. A delivery delayed by an outage should still go out when it is still useful
(an invitation, minutes, a decision), but not when it has become pointless: a meeting
reminder after the meeting started, a poll reminder a day late. Purposes not listed here
never expire. The enqueuing code may give an exact end instead (a meeting reminder ends when
the meeting starts), which wins over the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

# From the moment the message was due.
USEFUL_LIFE: Mapping[str, timedelta] = {
    "reminder_meeting": timedelta(hours=2),  # usually ended earlier: at the meeting's start
    "reminder_action_item": timedelta(days=1),
    "reminder_digest": timedelta(days=1),
    "poll_reminder": timedelta(days=1),
}


def useful_until(purpose: str, due: datetime, explicit: datetime | None = None) -> datetime | None:
    """When a message with `purpose`, due at `due`, becomes pointless (None: never)."""
    if explicit is not None:
        return explicit
    life = USEFUL_LIFE.get(purpose)
    return due + life if life is not None else None
