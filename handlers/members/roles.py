"""Derived roles: a chair because the platform says so (chat admin, Matrix power level),
as opposed to a role a chair granted with /rolle. Derived ones end when the platform's
say-so does; granted ones stay."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.enums import Role

if TYPE_CHECKING:
    from storage.models import Membership


def is_derived_role(member: Membership) -> bool:
    """A role the platform gave (chat admin, power level), not one a chair granted: no
    granting chair, or a chair by their own hand (who registered the group as its admin)."""
    granted_by = member.role_granted_by_user_id
    return granted_by is None or (granted_by == member.user_id and member.role == Role.CHAIR.value)


def end_derived_role(member: Membership) -> bool:
    """The platform no longer backs this member's role: a derived one falls back to member
    (a granted one stays). True when it did."""
    if member.role == Role.MEMBER.value or not is_derived_role(member):
        return False
    member.role = Role.MEMBER.value
    member.role_granted_by_user_id = None
    return True
