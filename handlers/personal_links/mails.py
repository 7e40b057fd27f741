"""The mails that carry personal links to people outside the chats. Pure: a translator and
values in, a `MailContent` out. Each mail says who added the recipient and how to stop it,
and that the link answers in their name (so they do not forward it)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.i18n import N_, Translator
from bot.core.mail import MailContent


def _footer(t: Translator, *, chair: str, group: str) -> str:
    reason = t.gettext(
        "You get this e-mail because {chair}, who chairs the working group “{group}”, added "
        "you with this address.",
        chair=chair,
        group=group,
    )
    stop = t.gettext(
        "If you do not want to take part, ignore this e-mail. To have your name and address "
        "deleted, ask {chair} or the initiative's office.",
        chair=chair,
    )
    return f"\n\n-- \n{reason}\n{stop}"


def _personal(t: Translator) -> str:
    return t.gettext(
        "The link is yours alone: whoever opens it answers in your name. Please do not forward it."
    )


def poll_link_mail(
    t: Translator,
    *,
    heading: str,
    name: str,
    chair: str,
    group: str,
    deadline: str | None,
    url: str,
) -> MailContent:
    """A guest's invitation to answer a poll (`heading` as the chat shows the poll's title)."""
    lines = [
        t.gettext("Hello {name},", name=name),
        "",
        t.gettext("{chair} asks you to answer: {heading}", chair=chair, heading=heading),
    ]
    if deadline:
        lines.append(t.gettext("Answers until {when}.", when=deadline))
    lines += ["", t.gettext("Your personal link:"), url, "", _personal(t)]
    return MailContent(
        subject=heading[:150],
        text="\n".join(lines) + _footer(t, chair=chair, group=group),
        language=t.language,
    )


def poll_reminder_mail(
    t: Translator, *, heading: str, name: str, group: str, deadline: str, url: str
) -> MailContent:
    """A guest who has not answered, shortly before the deadline: a link of its own (the one
    in the first mail keeps working too)."""
    lines = [
        t.gettext("Hello {name},", name=name),
        "",
        t.gettext("Reminder: please answer “{heading}” by {when}.", heading=heading, when=deadline),
        "",
        t.gettext("Your personal link:"),
        url,
        "",
        t.gettext("The link in the earlier e-mail works as well."),
        _personal(t),
    ]
    reason = t.gettext(
        "You get this e-mail because a chair of the working group “{group}” asked you to "
        "answer with this address. If you do not want to take part, ignore this e-mail.",
        group=group,
    )
    return MailContent(
        subject=t.gettext("Reminder: {heading}", heading=heading)[:150],
        text="\n".join(lines) + f"\n\n-- \n{reason}",
        language=t.language,
    )


def meeting_link_mail(
    t: Translator,
    *,
    title: str,
    when: str,
    location: str | None,
    name: str,
    chair: str,
    group: str,
    answers: Sequence[tuple[str, str]],
) -> MailContent:
    """A guest's invitation to a meeting with one link per answer (label, URL): each opens a
    page that asks to confirm, so a mail scanner following links answers nothing."""
    lines = [
        t.gettext("Hello {name},", name=name),
        "",
        t.gettext("{chair} invites you to: {title}", chair=chair, title=title),
        f"{group} – {when}",
    ]
    if location:
        lines.append(t.gettext("Where: {place}", place=location))
    lines += ["", *answer_lines(t, answers), "", _personal(t)]
    return MailContent(
        subject=t.gettext("Invitation: {title}", title=title)[:150],
        text="\n".join(lines) + _footer(t, chair=chair, group=group),
        language=t.language,
    )


def meeting_change_mail(
    t: Translator,
    *,
    title: str,
    when: str,
    location: str | None,
    name: str,
    group: str,
    cancelled: bool,
    answers: Sequence[tuple[str, str]],
) -> MailContent:
    """A guest hears that a meeting they were invited to changed (with answer links of its
    own; the earlier mails' links keep working) or was cancelled (no links: nothing to
    answer)."""
    if cancelled:
        headline = t.gettext("Cancelled: {title}", title=title)
    else:
        headline = t.gettext("Changed: {title}", title=title)
    lines = [t.gettext("Hello {name},", name=name), "", headline, f"{group} – {when}"]
    if location and not cancelled:
        lines.append(t.gettext("Where: {place}", place=location))
    if answers:
        lines += [
            "",
            *answer_lines(t, answers),
            "",
            t.gettext(
                "The links in earlier e-mails about this meeting work as well: they answer for "
                "the meeting as it is now."
            ),
            _personal(t),
        ]
    reason = t.gettext(
        "You get this e-mail because a chair of the working group “{group}” invited you to "
        "this meeting with this address.",
        group=group,
    )
    return MailContent(
        subject=headline[:150],
        text="\n".join(lines) + f"\n\n-- \n{reason}",
        language=t.language,
    )


def answer_lines(t: Translator, answers: Sequence[tuple[str, str]]) -> list[str]:
    """`Zusage: <url>` lines, under a line saying a page asks to confirm."""
    return [
        t.gettext("Please answer with one of these links (a page asks you to confirm):"),
        *(f"{label}: {url}" for label, url in answers),
    ]


# How the answer links read in a mail: "Zusage / Vielleicht / Absage".
ANSWER_WORDS = {"yes": N_("I accept"), "maybe": N_("Maybe"), "no": N_("I decline")}
