"""/nachsenden: an admin sends again a message whose delivery is uncertain.

The outbox marks a message `uncertain` when the bot was stopped while sending it; the sweep
in `handlers.delivery.uncertain` reports such messages to admins with their numbers, and
this command queues one again once they know it is missing (e.g. after asking the
recipient).
"""

from __future__ import annotations

from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.messages import Reply
from bot.core.numbers import small_number
from bot.core.router import Arg, Command
from handlers.admins.directory import is_admin
from handlers.context import HandlerContext
from storage import outbox


async def resend(ctx: HandlerContext) -> Reply:
    """Queue an uncertain message again, on an admin's word that it is missing."""
    if not await is_admin(ctx.session, ctx.services.settings, ctx.user.id):
        raise UserError(ctx._("Only admins may do that."))
    number = small_number(ctx.args["message"])
    row = await outbox.uncertain_message(ctx.session, number) if number is not None else None
    if row is None:
        raise UserError(
            ctx._(
                "There is no message #{number} whose delivery is uncertain. The numbers are "
                "in my report of messages that may not have arrived.",
                number=ctx.args["message"].lstrip("#"),
            )
        )
    await outbox.send_again(
        ctx.session,
        row.id,
        now=ctx.now,
        note=f"resent on request of an admin ({ctx.user.id})",
    )
    ctx.services.wake_outbox()
    return Reply(ctx._("Message #{number} is sent again.", number=row.id))


COMMANDS = (
    Command(
        "resend",
        resend,
        N_("Send again a message that may not have arrived"),
        german="nachsenden",
        args=(Arg("message", N_("message number")),),
        details=N_(
            "After a crash I report messages I cannot tell were delivered, with their "
            "numbers. Example: /nachsenden 1234. Admins only."
        ),
        admin_only=True,
    ),
)
