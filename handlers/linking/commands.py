"""Linking across platforms: one working group in a Telegram group and a Matrix room, one
person with a Telegram and a Matrix account."""

from __future__ import annotations

from bot.core.enums import Role
from bot.core.errors import UserError
from bot.core.i18n import N_, Translator
from bot.core.messages import Button, OutgoingMessage, Reply
from bot.core.numbers import small_number
from bot.core.router import Arg, Command
from handlers.admins.directory import admin_group_ids, is_admin
from handlers.context import HandlerContext
from handlers.members.presence import admin_rights_note
from storage import linking, outbox, people
from storage.models import Identity

GROUP = "group"
IDENTITY = "identity"
CONFIRM_CHOICES = {"yes": "yes", "ja": "yes", "no": "no", "nein": "no"}


async def link(ctx: HandlerContext) -> Reply:
    code = ctx.args.get("code")
    if ctx.message.is_direct and code and code.lower() in CONFIRM_CHOICES:
        return await answer_request(ctx, code.lower(), ctx.args.get("request"))
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
        # A chair because they are an admin of this chat: derived (no granting chair), so
        # it ends with that status – not kept as if granted by whoever once made them
        # minute-taker.
        member.role = Role.CHAIR.value
        member.role_granted_by_user_id = None
    note = await admin_rights_note(ctx)
    text = ctx._(
        "This chat now belongs to “{group}”: meetings, decisions and announcements are "
        "shared with its other chats.",
        group=group.name,
    )
    return Reply(f"{text}\n\n{note}" if note else text)


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
    await _refuse_same_platform(ctx, used.user_id, ctx.user.id)
    request = await linking.request_link(
        ctx.session, target_user_id=used.user_id, requester_user_id=ctx.user.id, now=ctx.now
    )
    target = await people.user_by_id(ctx.session, used.user_id)
    t = Translator(target.language or ctx.services.settings.bot_language)
    command = ctx.platform.command_prefix + "link"
    asking = f"{ctx.identity.display_name} ({_account(ctx.identity)})"
    queued = await outbox.enqueue_to_person(
        ctx.session,
        user_id=target.id,
        dedupe_key=f"link_request:{request.id}",
        purpose="link_request",
        message=OutgoingMessage(
            t.gettext(
                "The account {account} sent your link code and asks to become one person with "
                "you: your groups, roles and data would be shared. Confirm only if this is "
                "your own account. Answer with {confirm} or {refuse}.",
                account=asking,
                confirm=f"{command} yes {request.id}",
                refuse=f"{command} no {request.id}",
            ),
            buttons=Reply.rows(
                [
                    Button(t.gettext("Yes, that is me"), f"{command} yes {request.id}"),
                    Button(t.gettext("No, refuse"), f"{command} no {request.id}"),
                ]
            ),
        ),
        now=ctx.now,
    )
    ctx.enqueued += int(queued)
    return Reply(
        ctx._(
            "I asked the account that made this code to confirm in its private chat. Nothing "
            "is linked until then."
        )
    )


def _account(identity: Identity) -> str:
    """How an account is named to a person asked to trust it: platform and username."""
    name = identity.username or identity.platform_user_id
    return f"{identity.platform.capitalize()}: {name}"


async def _refuse_same_platform(ctx: HandlerContext, keep_id: int, absorb_id: int) -> None:
    """Two accounts on one platform are two people far more often than one: never merged
    on a code alone."""
    kept = {i.platform for i in await people.identities_of(ctx.session, keep_id)}
    joining = {i.platform for i in await people.identities_of(ctx.session, absorb_id)}
    if kept & joining:
        raise UserError(
            ctx._(
                "Both accounts are on the same platform; I link only accounts on different "
                "platforms (e.g. Telegram and Matrix). Nothing was linked."
            )
        )


async def answer_request(ctx: HandlerContext, answer: str, number: str | None) -> Reply:
    """The code's creator answers a link request, by button or typed, in their private
    chat; anyone else holding the button data is refused."""
    request_id = small_number(number or "")
    request = (
        await linking.open_request(ctx.session, request_id, ctx.now)
        if request_id is not None
        else None
    )
    if request is None:
        raise UserError(ctx._("This link request is unknown, answered already or expired."))
    if request.target_user_id != ctx.user.id:
        raise UserError(ctx._("Only the person who made the link code can answer this request."))
    edit = bool(ctx.message.callback_data)
    if CONFIRM_CHOICES[answer] == "no":
        await linking.decide(ctx.session, request, confirmed=False, now=ctx.now)
        return Reply(ctx._("Refused: the accounts stay separate."), edit=edit)
    await _refuse_same_platform(ctx, request.target_user_id, request.requester_user_id)
    keep_id = ctx.user.id
    await linking.decide(ctx.session, request, confirmed=True, now=ctx.now)
    identities = await people.identities_of(ctx.session, keep_id)
    platforms = ", ".join(sorted({i.platform.capitalize() for i in identities}))
    return Reply(
        ctx._("Linked: your accounts ({platforms}) are now one person.", platforms=platforms),
        edit=edit,
    )


async def unlink(ctx: HandlerContext) -> Reply:
    """An admin splits an account off a person again (a link made by mistake or by a
    trick)."""
    settings = ctx.services.settings
    if not await is_admin(ctx.session, settings, ctx.user.id):
        raise UserError(ctx._("Only admins may do that."))
    if not ctx.message.is_direct and (
        ctx.group is None or ctx.group.id not in await admin_group_ids(ctx.session, settings)
    ):
        raise UserError(ctx._("Please do this in our private chat or in the admin group."))
    found = await people.identities_named(ctx.session, ctx.args["account"])
    if len(found) != 1:
        raise UserError(
            ctx._(
                "I know no single account named {name}. Name it as its username, e.g. "
                "@anna or @anna:example.org.",
                name=ctx.args["account"],
            )
        )
    identity = found[0]
    if len(await people.identities_of(ctx.session, identity.user_id)) < 2:
        raise UserError(ctx._("This account is not linked with another one."))
    account = _account(identity)
    await linking.split_identity(ctx.session, identity, ctx.now)
    return Reply(
        ctx._(
            "Unlinked: {account} is a person of its own again. Memberships, roles, answers, "
            "votes, attendance, tasks and calendar links stay with the other account; this "
            "one rejoins groups by writing in them.",
            account=account,
        )
    )


COMMANDS = (
    Command(
        "link",
        link,
        N_("Link chats of one group, or your accounts on two platforms"),
        german="verknuepfen",
        role=Role.CHAIR,  # applies in registered groups only: there a chair hands out codes
        args=(
            Arg("code", N_("code"), required=False, max_length=20),
            Arg("request", N_("request"), required=False, max_length=12),
        ),
        details=N_(
            "In a group: a chair gets a code; an admin of the other chat (e.g. the Matrix "
            "room) sends the command with that code there, and both chats form one working "
            "group. In a private chat: you get a code; send it from your other account, then "
            "confirm in this account's private chat which account asked – only then are both "
            "accounts one person. Accounts on the same platform are never linked. Codes work "
            "once, for an hour."
        ),
    ),
    Command(
        "unlink",
        unlink,
        N_("Split a linked account off again (admins)"),
        german="verknuepfungloesen",
        args=(Arg("account", N_("@account")),),
        details=N_(
            "Makes the named account a person of its own again, e.g. after a link made by "
            "mistake. Its groups, roles, answers and tasks stay with the other account. "
            "Example: /verknuepfungloesen @anna:example.org. Admins only."
        ),
        admin_only=True,
    ),
)
