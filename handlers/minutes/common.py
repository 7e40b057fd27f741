"""What the decision, action-item and minutes commands share: which meeting and TOP an
entry belongs to, who may change what, and the translated texts of input errors."""

from __future__ import annotations

from bot.core.enums import MeetingStatus, Role
from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.numbers import small_number
from handlers.context import HandlerContext
from handlers.minutes.parsing import InputError
from storage import meetings as meeting_store
from storage.agenda import active_meeting
from storage.models import Meeting

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


async def meeting_by_number(ctx: HandlerContext, raw: str | None) -> Meeting:
    """Meeting `#N` of this group, with the same hint as the meeting commands otherwise."""
    assert ctx.group is not None
    value = (raw or "").strip().lstrip("#")
    meeting = (
        await meeting_store.meeting_by_number(ctx.session, ctx.group.id, number)
        if (number := small_number(value)) is not None
        else None
    )
    if meeting is None:
        raise UserError(
            ctx._(
                "There is no meeting #{number} in this group. {command} lists them.",
                number=value,
                command=ctx.command_name("meetings"),
            )
        )
    return meeting


async def target_meeting(ctx: HandlerContext, number: int | None) -> Meeting:
    """The meeting named with `#N`, else the one the group is in today."""
    assert ctx.group is not None
    if number is not None:
        meeting = await meeting_by_number(ctx, str(number))
        if meeting.status == MeetingStatus.CANCELLED.value:
            raise UserError(ctx._("Meeting #{number} was cancelled.", number=meeting.number))
        return meeting
    meeting = await active_meeting(ctx.session, ctx.group.id, ctx.now)
    if meeting is None:
        raise UserError(
            ctx._(
                "No meeting today. Put the meeting number first, e.g. {example}.",
                example=f"{ctx.command_name(ctx.invoked_as or 'decision')} #3 …",
            )
        )
    return meeting


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
