"""Resolve a recommendation's or assignment's addressee to a registered group when the
decision is recorded, so the minute-taker sees at once where it will go (and is asked when
the name fits several groups); an addressee no group matches stays text."""

from __future__ import annotations

from bot.core.enums import DecisionKind
from bot.core.numbers import decision_label
from handlers.context import HandlerContext
from handlers.organisation.addressing import Candidate, match
from storage import organisation as org_store
from storage.db import Session
from storage.models import Decision

FORWARDED_KINDS = frozenset({DecisionKind.RECOMMENDATION.value, DecisionKind.ASSIGNMENT.value})


async def candidates(session: Session, *, excluding: int | None = None) -> list[Candidate]:
    """Every registered group but the sender: a group does not address itself."""
    return [
        Candidate(group.id, group.name, tuple(aliases))
        for group, aliases in await org_store.groups_with_aliases(session)
        if group.id != excluding
    ]


async def matching_groups(session: Session, decision: Decision) -> list[Candidate]:
    if decision.kind not in FORWARDED_KINDS or not decision.addressee:
        return []
    return match(decision.addressee, await candidates(session, excluding=decision.group_id))


async def resolve_on_record(ctx: HandlerContext, decision: Decision) -> str | None:
    """Remember the addressed group and say what happens; None for decisions that stay in
    the group. Called by the decision commands after recording or correcting one."""
    found = await matching_groups(ctx.session, decision)
    await org_store.set_addressee(
        ctx.session, decision.id, found[0].group_id if len(found) == 1 else None
    )
    if decision.kind not in FORWARDED_KINDS or not decision.addressee:
        return None
    label = decision_label(decision.year, decision.number)
    if len(found) == 1:
        return ctx._(
            "Once the minutes are approved, {label} goes to the inbox of {group}.",
            label=label,
            group=found[0].name,
        )
    if not found:
        return ctx._(
            "“{addressee}” is no group registered with the bot: the addressee stays text.",
            addressee=decision.addressee,
        )
    return ctx._(
        "“{addressee}” could mean: {groups}. Which one? {command}",
        addressee=decision.addressee,
        groups=", ".join(c.name for c in found),
        command=f"{ctx.command_name('addressee')} {label} {found[0].name}",
    )
