"""How groups are named by others: a chair gives the group short names (/alias QS), and a
minute-taker picks the group a decision addresses when its name fits several."""

from __future__ import annotations

from bot.core.enums import Role
from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.messages import Reply
from bot.core.numbers import decision_label
from bot.core.router import Arg, ArgKind, Command, Scope
from handlers.context import HandlerContext
from handlers.dispatcher import role_name
from handlers.minutes.parsing import parse_decision_ref
from handlers.organisation.addressees import FORWARDED_KINDS, candidates
from handlers.organisation.addressing import MAX_ALIAS, key, match, valid_alias
from storage import minutes as minutes_store
from storage import organisation as org_store


async def alias(ctx: HandlerContext) -> Reply:
    assert ctx.group is not None
    wanted = " ".join((ctx.args.get("alias") or "").split())
    if not wanted:
        aliases = await org_store.aliases_of(ctx.session, ctx.group.id)
        if not aliases:
            return Reply(
                ctx._(
                    "{group} has no short names yet. A chair adds one: {command}",
                    group=ctx.group.name,
                    command=f"{ctx.command_name('alias')} QS",
                )
            )
        return Reply(
            ctx._(
                "Other groups may also call {group}: {aliases}",
                group=ctx.group.name,
                aliases=", ".join(aliases),
            )
        )
    if ctx.role is None or not ctx.role.allows(Role.CHAIR):
        raise UserError(
            ctx._(
                "Only {role} may do that in this group. Ask a chair to give you that role.",
                role=role_name(ctx, Role.CHAIR.value),
            )
        )
    if not valid_alias(wanted):
        raise UserError(
            ctx._(
                "A short name has at most {limit} letters, digits or spaces, e.g. QS.",
                limit=MAX_ALIAS,
            )
        )
    others = await candidates(ctx.session, excluding=ctx.group.id)
    taken_by = [c for c in others if key(c.name) == key(wanted)]
    owner = await org_store.alias_owner(ctx.session, key(wanted))
    if taken_by or (owner is not None and owner != ctx.group.id):
        raise UserError(ctx._("“{alias}” already names another group.", alias=wanted))
    if owner is None:
        await org_store.add_alias(
            ctx.session, ctx.group.id, wanted, key(wanted), ctx.user.id, ctx.now
        )
    return Reply(
        ctx._(
            "Decisions addressed to “{alias}” now reach {group}.",
            alias=wanted,
            group=ctx.group.name,
        )
    )


async def remove_alias(ctx: HandlerContext) -> Reply:
    assert ctx.group is not None
    wanted = " ".join(ctx.args["alias"].split())
    if not await org_store.remove_alias(ctx.session, ctx.group.id, key(wanted)):
        raise UserError(
            ctx._("{group} has no short name “{alias}”.", group=ctx.group.name, alias=wanted)
        )
    return Reply(ctx._("“{alias}” no longer names {group}.", alias=wanted, group=ctx.group.name))


async def choose_addressee(ctx: HandlerContext) -> Reply:
    """The answer to "which group do you mean?" asked when a decision was recorded."""
    assert ctx.group is not None
    raw = ctx.args["number"]
    ref = parse_decision_ref(raw)
    decision = await minutes_store.decision_by_ref(ctx.session, ctx.group.id, *ref) if ref else None
    if decision is None or decision.kind not in FORWARDED_KINDS:
        raise UserError(
            ctx._(
                "There is no recommendation or assignment {number} in this group.",
                number=raw,
            )
        )
    label = decision_label(decision.year, decision.number)
    if await minutes_store.is_frozen(ctx.session, decision):
        raise UserError(
            ctx._(
                "{label} can no longer be changed: the minutes of its meeting are approved.",
                label=label,
            )
        )
    found = match(ctx.args["group"], await candidates(ctx.session, excluding=ctx.group.id))
    if len(found) != 1:
        names = ", ".join(c.name for c in found) or "–"
        raise UserError(
            ctx._("Please name exactly one registered group. Matching: {groups}", groups=names)
        )
    await org_store.set_addressee(ctx.session, decision.id, found[0].group_id)
    return Reply(
        ctx._(
            "Once the minutes are approved, {label} goes to the inbox of {group}.",
            label=label,
            group=found[0].name,
        )
    )


COMMANDS = (
    Command(
        "alias",
        alias,
        N_("Show or add a short name other groups may address this group by"),
        german="kurzname",
        args=(Arg("alias", N_("short name"), kind=ArgKind.TEXT, required=False, max_length=200),),
        details=N_(
            "Recommendations and assignments of other groups reach this group when they name "
            "it or a short name. Adding one is for chairs. Example: /alias QS"
        ),
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "removealias",
        remove_alias,
        N_("Remove a short name of this group"),
        german="aliasentfernen",
        args=(Arg("alias", N_("short name"), kind=ArgKind.TEXT, max_length=200),),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "addressee",
        choose_addressee,
        N_("Choose the group a recommendation or assignment goes to"),
        german="adressat",
        args=(
            Arg("number", N_("number")),
            Arg("group", N_("group"), kind=ArgKind.TEXT, max_length=200),
        ),
        details=N_(
            "When the addressee's name fits several groups. Example: /addressee B-2021-07 AG "
            "Qualitätssicherung"
        ),
        role=Role.MINUTE_TAKER,
        scope=Scope.GROUP,
        needs_group=True,
    ),
)
