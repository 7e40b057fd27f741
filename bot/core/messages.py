"""Platform-neutral message types shared by every adapter and every handler.

Adapters translate their platform's updates into these immutable values and render replies
back; handlers only ever see these types, so one set of handlers serves every platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ChatKind(StrEnum):
    PRIVATE = "private"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class UserRef:
    """A person as one platform knows them."""

    platform: str
    user_id: str
    display_name: str
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False  # bots (this one included) hold no roles and are no members

    @property
    def mention(self) -> str:
        return f"@{self.username}" if self.username else self.display_name


@dataclass(frozen=True, slots=True)
class ChatRef:
    platform: str
    chat_id: str
    kind: ChatKind
    title: str | None = None

    @property
    def is_private(self) -> bool:
        return self.kind is ChatKind.PRIVATE


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One text message addressed to the bot (command or button press)."""

    chat: ChatRef
    sender: UserRef
    text: str
    message_id: str | None = None
    reply_to: ReplyTarget | None = None
    callback_data: str | None = None

    @property
    def platform(self) -> str:
        return self.chat.platform

    @property
    def is_direct(self) -> bool:
        return self.chat.is_private


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """The message a command replied to: lets `/role chair` target its author."""

    message_id: str
    sender: UserRef | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str
    # What taking the press back means, where a platform lets people do that (a removed
    # Matrix reaction): e.g. "/vote #1 2 no" for "/vote #1 2 yes". None: nothing.
    undo: str | None = None
    # Pressing it replaces the presser's earlier press of another exclusive button on the
    # same message (a single-choice survey): that earlier reaction is out of date.
    exclusive: bool = False


@dataclass(frozen=True, slots=True)
class Document:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class KeptReply:
    """Where a reply the bot edits later is kept: its outbox key, and the group it belongs
    to (the bot finds a group's messages by the group first, then by the key)."""

    key: str
    group_id: int | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """What a handler answers. `buttons` are rows of inline buttons (Telegram keyboards,
    Matrix reactions later); `edit` replaces the message the button press came from."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    document: Document | None = None
    edit: bool = False
    toast: str | None = None
    to_private: bool = False
    markdown: bool = False  # `text` is Markdown: each platform shows it formatted
    # Keep the sent message's platform id in the outbox, as for a message the outbox
    # delivered (handlers/delivery/replies.py): the bot edits it later, like a new poll's
    # message when answers come from another chat or the web. None: not kept.
    record_as: KeptReply | None = None

    @staticmethod
    def rows(*rows: list[Button] | tuple[Button, ...]) -> tuple[tuple[Button, ...], ...]:
        return tuple(tuple(row) for row in rows)


# OutgoingMessage.extra key: replace this earlier message of the chat (its platform message
# id, as the outbox recorded it or a button press reported it) instead of sending a new one.
EDIT_MESSAGE_ID = "edit_message_id"


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message the outbox delivers to a chat outside a direct reply."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    document: Document | None = None
    extra: dict[str, str] = field(default_factory=dict)
