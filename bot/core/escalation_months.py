"""The shape of the advisor escalation ladder: whole, positive, strictly increasing months.

It lives in core because two layers check it: the settings refuse a wrong ADVISOR_*_MONTHS
at start, and `handlers.advisors.policy.EscalationPolicy` refuses to exist with one. Both
say it in the same words. Pure: no I/O, no clock.
"""

from __future__ import annotations

from itertools import pairwise


def check_escalation_months(
    *,
    first_reminder_months: int,
    second_reminder_months: int,
    final_notice_months: int,
    delisting_months: int,
    grace_months_for_already_expired: int,
) -> None:
    """Raise ValueError, naming the number at fault, unless the ladder can be followed."""
    months = {
        "first_reminder_months": first_reminder_months,
        "second_reminder_months": second_reminder_months,
        "final_notice_months": final_notice_months,
        "delisting_months": delisting_months,
    }
    grace = ("grace_months_for_already_expired", grace_months_for_already_expired)
    for name, value in (*months.items(), grace):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be a whole number of months, got {value!r}")
    if first_reminder_months < 1:
        raise ValueError(f"first_reminder_months must be positive, got {first_reminder_months}")
    values = list(months.values())
    if any(b <= a for a, b in pairwise(values)):
        shown = ", ".join(f"{k}={v}" for k, v in months.items())
        raise ValueError(f"policy months must be strictly increasing: {shown}")
    if grace_months_for_already_expired < 1:
        raise ValueError(
            "grace_months_for_already_expired must be at least 1, got "
            f"{grace_months_for_already_expired}"
        )
