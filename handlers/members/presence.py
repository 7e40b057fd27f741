"""Before a group's private data goes to people directly, ask whether they are still there.

A platform that does not report every departure (Telegram, in a group where the bot is no
admin) is asked through its ChatPresence port for each recipient's account in the group's
chats; where the platform reports leaving itself (Matrix, the console, a Telegram group
with the bot as admin) the port answers at once without asking anyone. Someone reported
gone is treated exactly like a leave update (handlers/members/leaving.py): in the group's
last chat their membership ends, and what was queued for them about the group is dropped
and recorded, not sent. Callers compute their audience after this check, so the leaver
is not in it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime

from bot.core.platform import ChatPresence, Standing
from handlers.context import HandlerContext, Services
from handlers.members import leaving
from storage import people
from storage.db import Session

log = logging.getLogger(__name__)

CONCURRENT_ASKS = 8  # a 60-member invitation waits for ~8 rounds, not 60


async def still_members(
    services: Services, session: Session, group_id: int, user_ids: Iterable[int], now: datetime
) -> set[int]:
    """Those of `user_ids` who are members of the group once the platforms were asked."""
    ids = set(user_ids)
    asks = [
        (account, port)
        for account in await people.chat_accounts(session, group_id, ids)
        if (port := services.presence.get(account.platform)) is not None
    ]
    if asks:
        limit = asyncio.Semaphore(CONCURRENT_ASKS)

        async def ask(account: people.ChatAccount, port: ChatPresence) -> Standing | None:
            async with limit:
                return await port.unreported_standing(account.chat_id, account.platform_user_id)

        answers = await asyncio.gather(*(ask(a, p) for a, p in asks), return_exceptions=True)
        for (account, _), answer in zip(asks, answers, strict=True):
            if isinstance(answer, BaseException):
                log.warning(
                    "could not ask whether %s is still in %s: %r",
                    account.platform_user_id,
                    account.chat_id,
                    answer,
                )
            elif answer is Standing.GONE:
                log.info(
                    "%s reports person %s gone from %s; treated as a leave update",
                    account.platform,
                    account.user_id,
                    account.chat_id,
                )
                await leaving.member_left(
                    session, account.platform, account.chat_id, account.platform_user_id, now
                )
    return await people.member_ids_among(session, group_id, ids)


async def still_member(
    services: Services, session: Session, group_id: int, user_id: int, now: datetime
) -> bool:
    """One person: `still_members` for a single recipient."""
    return user_id in await still_members(services, session, group_id, [user_id], now)


async def admin_rights_note(ctx: HandlerContext) -> str | None:
    """A chat just became a group's (registered or linked): if the platform will not tell
    the bot who leaves it (a Telegram group where the bot is no admin), the text that says
    so, for the reply – once per chat (see leaving.first_admin_request); else None."""
    presence = ctx.services.presence.get(ctx.message.platform)
    chat_id = ctx.message.chat.chat_id
    if presence is None or await presence.reports_departures(chat_id):
        return None
    if not await leaving.first_admin_request(ctx.session, ctx.message.platform, chat_id, ctx.now):
        return None
    return leaving.admin_request(ctx.t)
