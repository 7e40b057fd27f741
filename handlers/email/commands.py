"""`/email` in the private chat: add an address (confirmed by a code mailed to it), remove
it, and choose per kind of message whether it comes by chat, e-mail or both."""

from __future__ import annotations

import hashlib
import secrets

from bot.core.errors import UserError
from bot.core.i18n import N_, Translator
from bot.core.mail import Channel, MessageKind, to_outgoing
from bot.core.messages import Reply
from bot.core.router import Arg, ArgKind, Command, Scope
from handlers.context import HandlerContext
from handlers.email.routing import route_for
from handlers.email.texts import KIND_WORDS, OFF, confirmation_mail
from handlers.email.typed_address import (
    EmailNotValidError,
    UnsendableAddress,
    checked_address,
    unsendable_text,
)
from storage import mail as mail_store

PURPOSE_CODE = "email_confirmation"
CODE_DIGITS = 6
MAX_CODE_ATTEMPTS = 5

# Both languages' words are accepted whatever the person's language.
KINDS = {
    "einladungen": MessageKind.INVITATIONS,
    "invitations": MessageKind.INVITATIONS,
    "erinnerungen": MessageKind.REMINDERS,
    "reminders": MessageKind.REMINDERS,
    "protokolle": MessageKind.MINUTES,
    "minutes": MessageKind.MINUTES,
    "briefe": MessageKind.LETTERS,
    "letters": MessageKind.LETTERS,
}
CHANNELS = {
    "chat": Channel.CHAT,
    "email": Channel.EMAIL,
    "e-mail": Channel.EMAIL,
    "mail": Channel.EMAIL,
    "beides": Channel.BOTH,
    "both": Channel.BOTH,
}
OFF_WORDS = {"aus", "off", "löschen", "delete"}


def code_hash(user_id: int, code: str) -> str:
    return hashlib.sha256(f"{user_id}:{code}".encode()).hexdigest()


async def email(ctx: HandlerContext) -> Reply:
    words = (ctx.args.get("what") or "").split()
    if not words:
        return await _status(ctx)
    first = words[0].lower()
    if first in OFF_WORDS and len(words) == 1:
        return await _remove(ctx)
    if first.isdigit() and len(words) == 1:
        return await _confirm(ctx, first)
    if first in KINDS:
        return await _choose(ctx, KINDS[first], words[1:])
    if len(words) == 1 and "@" in first:
        return await _add(ctx, words[0])
    raise UserError(_usage(ctx))


def _usage(ctx: HandlerContext) -> str:
    command = ctx.command_name("email")
    return ctx._(
        "Send {command} name@example.org to add your address (you get a code by e-mail), "
        "{command} {off} to remove it, or e.g. {command} {kind} email to get invitations by "
        "e-mail (chat, email or both).",
        command=command,
        off=ctx._(OFF),
        kind=ctx._(KIND_WORDS[MessageKind.INVITATIONS]),
    )


async def _status(ctx: HandlerContext) -> Reply:
    row = await mail_store.address_of(ctx.session, ctx.user.id)
    if row is None:
        lines = [ctx._("I have no e-mail address of yours.")]
    elif row.confirmed_at is None:
        lines = [ctx._("Your address {address} is not confirmed yet.", address=row.address)]
    elif row.unreachable_at is not None:
        lines = [
            ctx._(
                "Mail to {address} could not be delivered; send the address again to "
                "confirm it anew.",
                address=row.address,
            )
        ]
    else:
        lines = [ctx._("Your confirmed address: {address}", address=row.address)]
    for kind in MessageKind:
        route = await route_for(ctx.session, ctx.user.id, kind)
        ways = [ctx._("chat")] if route.by_chat else []
        ways += [ctx._("e-mail")] if route.address else []
        shown = " + ".join(ways) if ways else ctx._("not reachable")
        lines.append(f"• {ctx._(KIND_WORDS[kind])}: {shown}")
    lines.append(_usage(ctx))
    return Reply("\n".join(lines))


async def _add(ctx: HandlerContext, given: str) -> Reply:
    try:
        address = checked_address(given)
    except UnsendableAddress:
        raise UserError(unsendable_text(Translator(ctx.language), given)) from None
    except EmailNotValidError:
        raise UserError(
            ctx._("“{value}” is not a valid e-mail address.", value=given[:100])
        ) from None
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    hashed = code_hash(ctx.user.id, code)
    result = await mail_store.set_pending_address(
        ctx.session, user_id=ctx.user.id, address=address, code_hash=hashed, now=ctx.now
    )
    if result is mail_store.PendingResult.TAKEN:
        raise UserError(ctx._("This address belongs to someone else here."))
    if result is mail_store.PendingResult.ALREADY_CONFIRMED:
        return Reply(ctx._("{address} is already confirmed.", address=address))
    t = Translator(ctx.language)
    ctx.enqueued += await mail_store.enqueue_mail(
        ctx.session,
        address=address,
        dedupe_key=f"{PURPOSE_CODE}:{ctx.user.id}:{hashed[:16]}",
        purpose=PURPOSE_CODE,
        message=to_outgoing(confirmation_mail(t, code=code, command=ctx.command_name("email"))),
        now=ctx.now,
        user_id=ctx.user.id,
    )
    return Reply(
        ctx._(
            "I sent a code to {address}. Send it here as “{command} CODE” to confirm the "
            "address; until then nothing else goes there.",
            address=address,
            command=ctx.command_name("email"),
        )
    )


async def _confirm(ctx: HandlerContext, code: str) -> Reply:
    pending = await mail_store.pending_code(ctx.session, ctx.user.id)
    if pending is None:
        raise UserError(ctx._("No address is waiting for a code. Send your address first."))
    if not secrets.compare_digest(pending.code_hash, code_hash(ctx.user.id, code)):
        pending.attempts += 1
        if pending.attempts >= MAX_CODE_ATTEMPTS:
            await ctx.session.delete(pending)
            return Reply(ctx._("Too many wrong codes. Send your address again for a new code."))
        return Reply(ctx._("This code is not right. Please check the e-mail and try again."))
    row = await mail_store.confirm_address(ctx.session, ctx.user.id, ctx.now)
    assert row is not None
    return Reply(
        ctx._(
            "Confirmed: {address}. Choose per kind of message how it reaches you, e.g. "
            "{command} {kind} email.",
            address=row.address,
            command=ctx.command_name("email"),
            kind=ctx._(KIND_WORDS[MessageKind.INVITATIONS]),
        )
    )


async def _remove(ctx: HandlerContext) -> Reply:
    if not await mail_store.remove_address(ctx.session, ctx.user.id):
        return Reply(ctx._("I have no e-mail address of yours."))
    return Reply(ctx._("Your e-mail address is deleted; I will send nothing there any more."))


async def _choose(ctx: HandlerContext, kind: MessageKind, rest: list[str]) -> Reply:
    channel = CHANNELS.get(rest[0].lower()) if len(rest) == 1 else None
    if channel is None:
        raise UserError(_usage(ctx))
    await mail_store.set_channel(
        ctx.session, user_id=ctx.user.id, kind=kind.value, channel=channel.value, now=ctx.now
    )
    route = await route_for(ctx.session, ctx.user.id, kind)
    text = ctx._("Saved.")
    if channel.by_mail and route.address is None:
        text += " " + ctx._(
            "You have no confirmed address yet, so this comes by chat until you add one."
        )
    return Reply(text)


COMMANDS = (
    Command(
        "email",
        email,
        N_("Get messages by e-mail: add or remove your address, choose per kind"),
        args=(Arg("what", N_("address|off|code|kind channel"), kind=ArgKind.TEXT, required=False),),
        details=N_(
            "Example: /email anna@example.org – you get a code by e-mail; send /email CODE "
            "here to confirm. Then e.g. /email invitations email (or chat, both) chooses how "
            "invitations, reminders, minutes and letters reach you. /email off removes the "
            "address."
        ),
        scope=Scope.PRIVATE,
    ),
)
