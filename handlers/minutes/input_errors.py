"""The translated texts of the input errors the minutes parsers (parsing.py) report by code;
the decision and action-item commands answer with them."""

from __future__ import annotations

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
    """The hint for `error` in the reader's language."""
    return UserError(ctx._(INPUT_ERRORS[error.code], **error.params))
