"""An e-mail as the outbox stores it: what a handler writes and the e-mail adapter sends.

A mail rides in an ordinary `OutgoingMessage` so the outbox, its retention and erasure treat
it like any other message: the plain text is `text`, an iMIP calendar part is `document`
(so erasure scrubs names in it as in a chat's .ics), and subject, HTML and further
attachments go into `extra`. Pure: no I/O, no clock.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from enum import StrEnum

from bot.core.messages import Document, OutgoingMessage

# The outbox platform name of the e-mail channel; its "chat id" is the recipient's address.
MAIL_PLATFORM = "email"

_SUBJECT = "mail_subject"
_HTML = "mail_html"
_ATTACHMENTS = "mail_attachments"
_METHOD = "mail_calendar_method"
_LANGUAGE = "mail_language"

# How the adapter words a refused mailbox (SMTP 5xx to RCPT TO) in the row's last error: the
# sweep that reports failed mail marks such an address unreachable.
MAILBOX_REFUSED = "mailbox refused"


class MessageKind(StrEnum):
    """What a person chooses a channel for (`/email <kind> chat|email|both`)."""

    INVITATIONS = "invitations"
    REMINDERS = "reminders"
    MINUTES = "minutes"
    LETTERS = "letters"


class Channel(StrEnum):
    CHAT = "chat"
    EMAIL = "email"
    BOTH = "both"

    @property
    def by_chat(self) -> bool:
        return self is not Channel.EMAIL

    @property
    def by_mail(self) -> bool:
        return self is not Channel.CHAT


@dataclass(frozen=True, slots=True)
class MailContent:
    """One mail to one recipient. `calendar` is an iMIP part (text/calendar with `method`)
    shown by calendar-aware clients as accept/decline buttons; `attachments` are files."""

    subject: str
    text: str
    language: str
    html: str | None = None
    calendar: bytes | None = None
    method: str | None = None
    attachments: tuple[Document, ...] = ()


def _doc(document: Document) -> dict[str, str]:
    return {
        "filename": document.filename,
        "mime_type": document.mime_type,
        "content_b64": base64.b64encode(document.content).decode("ascii"),
    }


def to_outgoing(mail: MailContent) -> OutgoingMessage:
    """The outbox form of a mail (see module doc)."""
    extra = {_SUBJECT: mail.subject, _LANGUAGE: mail.language}
    if mail.html is not None:
        extra[_HTML] = mail.html
    if mail.attachments:
        extra[_ATTACHMENTS] = json.dumps([_doc(d) for d in mail.attachments])
    document = None
    if mail.calendar is not None:
        extra[_METHOD] = mail.method or "REQUEST"
        document = Document("invite.ics", mail.calendar, "text/calendar")
    return OutgoingMessage(mail.text, document=document, extra=extra)


def from_outgoing(message: OutgoingMessage) -> MailContent:
    """Back from the outbox; a message written for a chat becomes a plain text mail."""
    extra = message.extra
    attachments = tuple(
        Document(d["filename"], base64.b64decode(d["content_b64"]), d["mime_type"])
        for d in json.loads(extra.get(_ATTACHMENTS, "[]"))
    )
    calendar = method = None
    if message.document is not None and _METHOD in extra:
        calendar, method = message.document.content, extra[_METHOD]
    elif message.document is not None:
        attachments = (message.document, *attachments)
    first_line = message.text.strip().splitlines()[0] if message.text.strip() else ""
    return MailContent(
        subject=extra.get(_SUBJECT, first_line[:120]),
        text=message.text,
        language=extra.get(_LANGUAGE, "de"),
        html=extra.get(_HTML),
        calendar=calendar,
        method=method,
        attachments=attachments,
    )
