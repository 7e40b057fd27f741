"""An advisor's letter as an e-mail: the same words as in the chat, a subject naming the
step, the exchange dates as an `.ics` attachment, and why it came. Pure."""

from __future__ import annotations

from bot.core.i18n import Translator
from bot.core.mail import MailContent, MessageKind
from bot.core.messages import OutgoingMessage
from handlers.advisors.letters import step_name
from handlers.advisors.policy import Step
from handlers.email.texts import with_footer


def letter_mail(t: Translator, letter: OutgoingMessage, step: Step) -> MailContent:
    return MailContent(
        subject=t.gettext("Your authorization as an advisor: {step}", step=step_name(t, step)),
        text=with_footer(letter.text, t, MessageKind.LETTERS),
        language=t.language,
        attachments=(letter.document,) if letter.document is not None else (),
    )
