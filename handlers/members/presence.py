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

from bot.core.enums import Role
from bot.core.platform import ChatPresence, Standing
from handlers.context import HandlerContext, Services
from handlers.members import leaving
from handlers.members.roles import end_derived_role
from storage import people
from storage.db import Session

log = logging.getLogger(__name__)

CONCURRENT_ASKS = 8  # a 60-member invitation waits for ~8 rounds, not 60


async def _ask(
    services: Services, session: Session, group_id: int, user_ids: set[int], now: datetime
) -> dict[int, list[Standing | None]]:
    """Every answer per person (one per chat of the group they may be in); a person
    reported gone from a chat is handled like a leave update right here."""
    asks = [
        (account, port)
        for account in await people.chat_accounts(session, group_id, user_ids)
        if (port := services.presence.get(account.platform)) is not None
    ]
    answers: dict[int, list[Standing | None]] = {}
    if not asks:
        return answers
    limit = asyncio.Semaphore(CONCURRENT_ASKS)

    async def ask(account: people.ChatAccount, port: ChatPresence) -> Standing | None:
        async with limit:
            return await port.unreported_standing(account.chat_id, account.platform_user_id)

    results = await asyncio.gather(*(ask(a, p) for a, p in asks), return_exceptions=True)
    for (account, _), answer in zip(asks, results, strict=True):
        if isinstance(answer, BaseException):
            log.warning(
                "could not ask whether %s is still in %s: %r",
                account.platform_user_id,
                account.chat_id,
                answer,
            )
            answer = None
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
        answers.setdefault(account.user_id, []).append(answer)
    return answers


async def still_members(
    services: Services, session: Session, group_id: int, user_ids: Iterable[int], now: datetime
) -> set[int]:
    """Those of `user_ids` still to be written to once the platforms were asked: all but
    those whose membership ended (now or before), as the recipient queries count."""
    ids = set(user_ids)
    await _ask(services, session, group_id, ids, now)
    return ids - await people.left_among(session, group_id, ids)


async def still_chairs(
    services: Services, session: Session, group_id: int, user_ids: Iterable[int], now: datetime
) -> set[int]:
    """Those of `user_ids` (chairs) who are still members and still chairs. A chair role
    derived from chat-admin status ends when every chat of the group the person is in
    answers that they are no admin there: in a chat where the bot is no admin nobody
    reports a demotion, and a chair-only message (an objection to the minutes) must not
    reach a demoted admin who never wrote again. A chat whose platform reports demotions
    itself (answer None) keeps the role as it is."""
    ids = set(user_ids)
    answers = await _ask(services, session, group_id, ids, now)
    kept: set[int] = set()
    for user_id in ids - await people.left_among(session, group_id, ids):
        member = await people.membership(session, group_id, user_id)
        if member is None:
            continue
        said = answers.get(user_id, [])
        unbacked = bool(said) and all(a is not None and a is not Standing.ADMIN for a in said)
        if unbacked and end_derived_role(member):
            log.info("person %s is no chat admin in group %s any more", user_id, group_id)
        elif member.role == Role.CHAIR.value:
            kept.add(user_id)
    await session.flush()
    return kept


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
