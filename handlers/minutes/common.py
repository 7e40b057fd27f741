"""What the decision and action-item commands share: which TOP an entry belongs to, who
may change what, and the translated texts of input errors."""

from __future__ import annotations

from bot.core.enums import Role
from bot.core.errors import UserError
from bot.core.i18n import N_
from handlers.context import HandlerContext
from handlers.minutes.parsing import InputError

INPUT_ERRORS = {
    "too_many_votes": N_("That is more votes than people: at most {limit}, please."),
    "decision_text_missing": N_("Please add the text of the decision."),
    "addressee_missing": N_("Please say to whom, e.g. “Recommendation to Strategiekreis: …”."),
    "too_long": N_("That is too long: at most {limit} characters, please."),
    "assignee_missing": N_(
        "Please say who does it, then a colon and what, e.g. “@bernd, IHK Köln: send the forms by "
        "15.07.”."
    ),
    "action_text_missing": N_("Please say what is to be done after the colon."),
    "name_too_long": N_("A name is too long: at most {limit} characters, please."),
}


def input_error(ctx: HandlerContext, error: InputError) -> UserError:
    return UserError(ctx._(INPUT_ERRORS[error.code], **error.params))


async def is_chair(ctx: HandlerContext) -> bool:
    """A chair, or a chat admin whose role no chair has set (as the dispatcher rules)."""
    if ctx.role is Role.CHAIR:
        return True
    member = ctx.member
    if member is None or member.role_granted_by_user_id is not None:
        return False
    message = ctx.message
    return await ctx.platform.is_chat_admin(message.chat.chat_id, message.sender.user_id)


def top_text(ctx: HandlerContext, top: tuple[int, str] | None) -> str:
    if top is None:
        return ctx._("no TOP")
    return ctx._("TOP {number} {title}", number=top[0], title=top[1])
