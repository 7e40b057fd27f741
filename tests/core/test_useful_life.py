"""A queued message's useful life by purpose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.useful_life import useful_until

DUE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_an_invitation_is_useful_however_late() -> None:
    assert useful_until("meeting_invitation", DUE) is None


def test_a_reminder_is_not_useful_for_long() -> None:
    until = useful_until("reminder_action_item", DUE)
    assert until is not None and DUE < until <= DUE + timedelta(days=1)


def test_an_exact_end_wins() -> None:
    start = DUE + timedelta(hours=1)
    assert useful_until("reminder_meeting", DUE, start) == start
