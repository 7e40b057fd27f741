"""Linking across platforms: one working group in a Telegram group and a Matrix room, one
person with a Telegram and a Matrix account."""

from __future__ import annotations

from bot.core.enums import Role
from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.messages import Reply
from bot.core.router import Arg, Command
from handlers.context import HandlerContext
from storage import linking, people

GROUP = "group"
IDENTITY = "identity"


async def link(ctx: HandlerContext) -> Reply:
    code = ctx.args.get("code")
    if ctx.message.is_direct:
        return await (_join_account(ctx, code) if code else _account_code(ctx))
    return await (_join_group(ctx, code) if code else _group_code(ctx))


async def _group_code(ctx: HandlerContext) -> Reply:
    if ctx.group is None:
        raise UserError(
            ctx._(
                "To link this chat to a working group, send {command} with the code a chair "
                "of that group got. To start a new group here, use {register}.",
                command=ctx.command_name("link"),
                register=ctx.command_name("register"),
            )
        )
    code = await linking.create_code(ctx.session, purpose=GROUP, group_id=ctx.group.id, now=ctx.now)
    return Reply(
        ctx._(
            "Link code for “{group}”: {code}\nSend the link command with this code in the other "
            "chat (e.g. the Matrix room or Telegram group) within an hour. Someone with admin "
            "rights there must send it.",
            group=ctx.group.name,
            code=code,
        )
    )


async def _join_group(ctx: HandlerContext, code: str) -> Reply:
    message = ctx.message
    if ctx.group is not None:
        raise UserError(ctx._("This chat already belongs to “{group}”.", group=ctx.group.name))
    if not await ctx.platform.is_chat_admin(message.chat.chat_id, message.sender.user_id):
        raise UserError(ctx._("Only an admin of this chat can link it to a working group."))
    used = await linking.redeem(ctx.session, code, purpose=GROUP, now=ctx.now)
    if used is None or used.group_id is None:
        raise UserError(ctx._("This code is unknown or expired. Ask a chair for a new one."))
    group = await people.group_by_id(ctx.session, used.group_id)
    await people.add_group_chat(
        ctx.session,
        group.id,
        platform=message.platform,
        chat_id=message.chat.chat_id,
        title=message.chat.title,
        now=ctx.now,
    )
    member = await people.ensure_membership(ctx.session, group.id, ctx.user.id, ctx.now)
    if not Role(member.role).allows(Role.CHAIR):
        member.role = Role.CHAIR.value
    return Reply(
        ctx._(
            "This chat now belongs to “{group}”: meetings, decisions and announcements are "
            "shared with its other chats.",
            group=group.name,
        )
    )


async def _account_code(ctx: HandlerContext) -> Reply:
    code = await linking.create_code(
        ctx.session, purpose=IDENTITY, user_id=ctx.user.id, now=ctx.now
    )
    return Reply(
        ctx._(
            "Your link code: {code}\nSend the link command with this code to me in a private "
            "chat on your other account (Telegram or Matrix) within an hour. Both accounts then "
            "count as one person: reminders, groups and data.",
            code=code,
        )
    )


async def _join_account(ctx: HandlerContext, code: str) -> Reply:
    from handlers.advisors.commands import redeem_advisor_code  # the registry builds on linking

    if (advisor_reply := await redeem_advisor_code(ctx, code)) is not None:
        return advisor_reply
    used = await linking.redeem(ctx.session, code, purpose=IDENTITY, now=ctx.now)
    if used is None or used.user_id is None:
        raise UserError(ctx._("This code is unknown or expired. Ask for a new one."))
    if used.user_id == ctx.user.id:
        raise UserError(ctx._("This code belongs to this account; send it from the other one."))
    keep_id = used.user_id
    keep = await people.user_by_id(ctx.session, keep_id)
    await linking.merge_users(ctx.session, keep=keep, absorb=ctx.user)
    identities = await people.identities_of(ctx.session, keep_id)
    platforms = ", ".join(sorted({i.platform.capitalize() for i in identities}))
    return Reply(
        ctx._("Linked: your accounts ({platforms}) are now one person.", platforms=platforms)
    )


COMMANDS = (
    Command(
        "link",
        link,
        N_("Link chats of one group, or your accounts on two platforms"),
        german="verknuepfen",
        role=Role.CHAIR,  # applies in registered groups only: there a chair hands out codes
        args=(Arg("code", N_("code"), required=False, max_length=20),),
        details=N_(
            "In a group: a chair gets a code; an admin of the other chat (e.g. the Matrix "
            "room) sends the command with that code there, and both chats form one working "
            "group. In a private chat: you get a code; send it from your other account to "
            "link both accounts. Codes work once, for an hour."
        ),
    ),
)
