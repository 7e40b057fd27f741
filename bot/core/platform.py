"""What handlers may ask of the chat platform a message came from; each adapter provides it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Platform(Protocol):
    """What handlers may ask of the chat platform the message came from."""

    name: str
    max_text_length: int
    command_prefix: str  # how commands are written here: "/" on Telegram, "!" on Matrix
    max_buttons: int | None  # most buttons one message can show; None: no limit

    @property
    def bot_username(self) -> str | None: ...

    async def is_chat_admin(self, chat_id: str, user_id: str) -> bool: ...

    def direct_chat_hint(self) -> str | None:
        """A link or address that opens a private chat with the bot (e.g. t.me/…)."""
        ...


@dataclass(frozen=True, slots=True)
class PlatformTraits:
    """What differs per platform, for code that writes to a chat without a message from it:
    a sweep posting a poll to every chat of a group knows only each chat's platform name.
    The defaults are those of a platform the bot knows nothing special about."""

    command_prefix: str = "/"
    max_buttons: int | None = None
    # The bot may open a direct chat itself (Matrix invites); else a person must open it
    # (Telegram bots cannot write first), which is what hints and ✉︎✗ markers are about.
    opens_direct_chats: bool = False


class Standing(StrEnum):
    """Where an account stands in a chat, as the platform answers when asked."""

    ADMIN = "admin"
    MEMBER = "member"
    GONE = "gone"  # left, removed or banned


class ChatPresence(Protocol):
    """Asked before a group's private data goes to a person directly (invitation, feed
    link, reminder, poll nudge): is the person still in the group's chat?

    Some platforms do not report every departure (a Telegram bot hears of other members
    leaving only while it is a group admin); there the adapter asks. Where the platform
    reports leaving and demotion itself the answer is None, at no cost.
    """

    async def unreported_standing(self, chat_id: str, user_id: str) -> Standing | None: ...

    async def reports_departures(self, chat_id: str) -> bool:
        """Whether the platform tells the bot when someone leaves this chat (on Telegram
        only while the bot is an admin there); asked when a group is registered."""
        ...
