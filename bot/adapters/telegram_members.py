"""Where an account stands in a Telegram group, asked with getChatMember and cached briefly.

Telegram tells a bot about other members leaving, being banned or demoted only while the
bot is an admin of the group (`chat_member` updates). Elsewhere the bot has to ask:
whether a chair is still an admin, whether a member is still in the chat before a group's
private data goes to them, whether the bot itself is an admin. One cache serves all three,
timed on the injected clock, so an answer is at most `ADMIN_CACHE_SECONDS` old; updates
that report a change replace the cached answer at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from telegram import Bot, ChatMember, ChatMemberRestricted
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.core.platform import Standing

log = logging.getLogger(__name__)

ADMIN_CACHE_SECONDS = 60.0

# What the Bot API answers when the account is not in the chat (never joined, or gone
# so long that Telegram forgot it): as good as "left".
_NOT_THERE = ("user not found", "member not found", "participant_id_invalid")


def standing_of(member: ChatMember) -> Standing:
    """Telegram's six statuses in the three the bot acts on; a restricted account is in
    the chat only while `is_member` says so."""
    status = member.status
    if status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR):
        return Standing.ADMIN
    if status == ChatMemberStatus.MEMBER:
        return Standing.MEMBER
    if status == ChatMemberStatus.RESTRICTED:
        is_member = member.is_member if isinstance(member, ChatMemberRestricted) else True
        return Standing.MEMBER if is_member else Standing.GONE
    return Standing.GONE  # left, kicked (banned)


class MemberStandings:
    """getChatMember answers per (chat, account), each kept `ADMIN_CACHE_SECONDS`."""

    def __init__(self, bot: Callable[[], Bot], now: Callable[[], datetime]) -> None:
        self._bot = bot
        self._now = now
        self._cache: dict[tuple[str, str], tuple[datetime, Standing]] = {}

    def remember(self, chat_id: str, user_id: str, member: ChatMember) -> None:
        """An update told us where an account stands now: no need to ask."""
        self._cache[(chat_id, user_id)] = (self._now(), standing_of(member))

    async def standing(self, chat_id: str, user_id: str, *, fresh: bool = False) -> Standing | None:
        """The account's standing, from the cache unless older than a minute (or `fresh`);
        None when Telegram could not say (the caller decides what unknown means)."""
        key = (chat_id, user_id)
        now = self._now()
        cached = self._cache.get(key)
        if (
            not fresh
            and cached is not None
            and now - cached[0] < timedelta(seconds=ADMIN_CACHE_SECONDS)
        ):
            return cached[1]
        answer = await self._ask(chat_id, user_id)
        if answer is not None:
            self._cache[key] = (now, answer)
        return answer

    async def _ask(self, chat_id: str, user_id: str) -> Standing | None:
        bot = self._bot()
        try:
            member = await bot.get_chat_member(int(chat_id), int(user_id))
        except BadRequest as exc:
            if any(text in str(exc).lower() for text in _NOT_THERE):
                return Standing.GONE
            log.warning("could not ask Telegram about %s in %s: %s", user_id, chat_id, exc)
            return None
        except Forbidden as exc:
            # The bot itself is no longer in the chat ("bot was kicked"): it is gone; about
            # anybody else it cannot tell.
            if user_id == str(bot.id):
                return Standing.GONE
            log.warning("could not ask Telegram about %s in %s: %s", user_id, chat_id, exc)
            return None
        except TelegramError as exc:
            log.warning("could not ask Telegram about %s in %s: %s", user_id, chat_id, exc)
            return None
        return standing_of(member)
