"""The words every mail carries: why it came and how to stop it; the confirmation mail.
Pure: a translator and values in, text out."""

from __future__ import annotations

from bot.core.i18n import N_, Translator
from bot.core.mail import MailContent, MessageKind

# Why a mail came, per kind of message.
REASONS = {
    MessageKind.INVITATIONS: N_(
        "You get this e-mail because you are a member of the working group “{group}”."
    ),
    MessageKind.REMINDERS: N_(
        "You get this e-mail because you are a member of the working group “{group}”."
    ),
    MessageKind.MINUTES: N_(
        "You get this e-mail because you are a member of the working group “{group}”."
    ),
    MessageKind.LETTERS: N_(
        "You get this e-mail because you are registered as an authorized advisor of the initiative."
    ),
}

OFF = N_("off")  # `/email off`, as the command takes it in each language

KIND_WORDS = {
    MessageKind.INVITATIONS: N_("invitations"),
    MessageKind.REMINDERS: N_("reminders"),
    MessageKind.MINUTES: N_("minutes"),
    MessageKind.LETTERS: N_("letters"),
}


def footer(t: Translator, kind: MessageKind, *, group: str = "", command: str = "/email") -> str:
    """Why this mail came and how to stop it, below a separator line."""
    if group or kind is MessageKind.LETTERS:
        reason = t.gettext(REASONS[kind], group=group)
    else:
        reason = t.gettext(
            "You get this e-mail because you chose e-mail for these messages from the AG assistant."
        )
    if kind is MessageKind.LETTERS:
        stop = t.gettext(
            "To get these letters in a chat instead, or to have your address corrected or "
            "removed, please contact the initiative's office."
        )
    else:
        stop = t.gettext(
            "To get {kind} in the chat only, send “{command} {kind} chat” to the bot in a "
            "private chat; “{command} {off}” stops all e-mail.",
            kind=t.gettext(KIND_WORDS[kind]),
            command=command,
            off=t.gettext(OFF),
        )
    return f"\n\n-- \n{reason}\n{stop}"


def with_footer(text: str, t: Translator, kind: MessageKind, **params: str) -> str:
    return text + footer(t, kind, **params)


def confirmation_mail(t: Translator, *, code: str, command: str) -> MailContent:
    """The only mail an unconfirmed address ever gets: the code, and what to do if this
    was not you."""
    text = "\n\n".join(
        [
            t.gettext("Your confirmation code: {code}", code=code),
            t.gettext(
                "Someone asked the AG assistant to send messages to this address. If that "
                "was you, send “{command} {code}” to the bot in your private chat.",
                command=command,
                code=code,
            ),
            t.gettext(
                "If it was not you, ignore this e-mail: nothing else will be sent to this address."
            ),
        ]
    )
    return MailContent(
        subject=t.gettext("Confirm your e-mail address: {code}", code=code),
        text=text,
        language=t.language,
    )


def plain_mail(
    t: Translator, text: str, kind: MessageKind, *, group: str = "", command: str = "/email"
) -> MailContent:
    """A chat message as a mail: its first line is the subject, the footer says why."""
    subject = text.strip().splitlines()[0] if text.strip() else ""
    return MailContent(
        subject=subject[:150],
        text=with_footer(text, t, kind, group=group, command=command),
        language=t.language,
    )


def institution_summary_mail(t: Translator, summary: str, *, institution: str) -> MailContent:
    """A training institution's part of the advisor summary, to the address an admin
    recorded for it (`/institut NAME | address`); the footer says so and who stops it."""
    subject = summary.strip().splitlines()[0] if summary.strip() else ""
    reason = t.gettext(
        "You get this e-mail because an admin of the AG assistant recorded this address for "
        "the summaries of {institution}. To stop them, please contact the initiative's office.",
        institution=institution,
    )
    return MailContent(
        subject=subject[:150], text=f"{summary}\n\n-- \n{reason}", language=t.language
    )
