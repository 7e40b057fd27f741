"""Members and roles of a working group."""

from __future__ import annotations

from bot.core.enums import Role
from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.messages import Reply
from bot.core.router import Arg, ArgKind, Command, Scope
from bot.core.text import strip_bidi
from handlers.context import HandlerContext
from handlers.dispatcher import private_chat_hint
from handlers.meetings.lookup import member_by_mention
from handlers.members.direct_chat import open_direct_chat, reachable_directly
from storage import people
from storage.models import Identity

ROLE_CHOICES = {
    "chair": Role.CHAIR.value,
    "vorsitz": Role.CHAIR.value,
    "leitung": Role.CHAIR.value,
    "minute-taker": Role.MINUTE_TAKER.value,
    "minutetaker": Role.MINUTE_TAKER.value,
    "protokoll": Role.MINUTE_TAKER.value,
    "member": Role.MEMBER.value,
    "mitglied": Role.MEMBER.value,
}
ROLE_LABELS = {
    Role.CHAIR.value: N_("chair"),
    Role.MINUTE_TAKER.value: N_("minute-taker"),
    Role.MEMBER.value: N_("member"),
}


def _name(identity: Identity | None) -> str:
    """Name and handle; bidi controls stripped also from names stored before they were."""
    if identity is None:
        return "?"
    if not identity.username:
        return strip_bidi(identity.display_name)
    handle = identity.username if identity.username.startswith("@") else f"@{identity.username}"
    return strip_bidi(f"{identity.display_name} ({handle})")


def _is_bot(ctx: HandlerContext, flagged: bool, username: str | None) -> bool:
    """A bot account: flagged so by the platform, or this bot itself (whose account a
    membership from before this check may still name)."""
    own = ctx.platform.bot_username
    return flagged or bool(
        own and username and username.lstrip("@").lower() == own.lstrip("@").lower()
    )


async def members(ctx: HandlerContext) -> Reply:
    assert ctx.group is not None
    rows = await people.members_with_identities(ctx.session, ctx.group.id, ctx.message.platform)
    rows = [
        (member, identity)
        for member, identity in rows
        if identity is None or not _is_bot(ctx, False, identity.username)
    ]
    lines = [
        ctx.ngettext(
            "“{group}” has {n} member:",
            "“{group}” has {n} members:",
            len(rows),
            group=ctx.group.name,
        )
    ]
    unreachable = [not reachable_directly(ctx, identity) for _, identity in rows]
    for (member, identity), marked in zip(rows, unreachable, strict=True):
        marker = " ✉︎✗" if marked else ""
        lines.append(f"• {_name(identity)} – {ctx._(ROLE_LABELS[member.role])}{marker}")
    if any(unreachable):
        legend = (
            ctx._("✉︎✗ = did not accept a direct chat with me, so gets no reminders.")
            if ctx.services.platform_traits(ctx.message.platform).opens_direct_chats
            else ctx._("✉︎✗ = has not opened a private chat with me yet, so gets no reminders.")
        )
        lines += ["", legend]
    return Reply("\n".join(lines))


async def set_role(ctx: HandlerContext) -> Reply:
    assert ctx.group is not None
    target = await _target_identity(ctx)
    new_role = ctx.args["role"]
    member = await people.ensure_membership(ctx.session, ctx.group.id, target.user_id, ctx.now)
    demotes_chair = member.role == Role.CHAIR.value and new_role != Role.CHAIR.value
    if demotes_chair and await people.count_chairs(ctx.session, ctx.group.id) <= 1:
        raise UserError(
            ctx._("{name} is the only chair. Make someone else chair first.", name=_name(target))
        )
    member.role = new_role
    member.role_granted_by_user_id = ctx.user.id
    return Reply(
        ctx._(
            "{name} is now {role} in “{group}”.",
            name=_name(target),
            role=ctx._(ROLE_LABELS[new_role]),
            group=ctx.group.name,
        )
    )


async def _target_identity(ctx: HandlerContext) -> Identity:
    """The person named (as @username, Matrix ID, pill or display name: the one resolver),
    or the author of the message replied to."""
    mention = ctx.args.get("person")
    if mention:
        # Only people who are in this group already: naming someone known from another
        # group must not pull them in (nor reveal that the bot knows them).
        return await member_by_mention(ctx, mention)
    replied = ctx.message.reply_to
    if replied is not None and replied.sender is not None:
        if _is_bot(ctx, replied.sender.is_bot, replied.sender.username):
            # A reply to the bot's own message (or another bot's) names no person.
            raise UserError(ctx._("Bots cannot have a role in a working group."))
        return await people.upsert_identity(ctx.session, replied.sender, ctx.now)
    raise UserError(
        ctx._(
            "Whom do you mean? Write @username, "
            "or reply to one of their messages with this command."
        )
    )


async def join(ctx: HandlerContext) -> Reply:
    assert ctx.group is not None
    text = ctx._(
        "{name}, you are a member of “{group}” ({role}).",
        name=ctx.message.sender.display_name,
        group=ctx.group.name,
        role=ctx._(ROLE_LABELS[ctx.member.role if ctx.member else Role.MEMBER.value]),
    )
    if not ctx.identity.dm_chat_id:
        text += "\n" + private_chat_hint(ctx)
        await open_direct_chat(ctx)
    return Reply(text)


COMMANDS = (
    Command(
        "join",
        join,
        N_("Become a member of this working group"),
        german="beitreten",
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "members",
        members,
        N_("List the members and their roles"),
        german="mitglieder",
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "role",
        set_role,
        N_("Give a member a role: chair, minute-taker or member"),
        german="rolle",
        args=(
            Arg(
                "role",
                N_("role"),
                kind=ArgKind.CHOICE,
                choices=ROLE_CHOICES,
                display={"de": "vorsitz|protokoll|mitglied", "en": "chair|minute-taker|member"},
            ),
            # The rest of the line: a display name may have several words.
            Arg("person", N_("@person"), kind=ArgKind.TEXT, required=False),
        ),
        details=N_(
            "Name the person as @username or by their display name, or reply to one of their "
            "messages. Example: /role protokoll @anna or /rolle protokoll Clara Conrad. "
            "A group always keeps at least one chair."
        ),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
)
