"""Matrix private chats are really private: a room someone else made, with the bot and Alice
in it, never becomes Alice's private chat, and nothing private is delivered there."""

from __future__ import annotations

import asyncio

from nio import RoomMessageNotice
from sqlalchemy import select, update

from bot.core.messages import OutgoingMessage
from storage import outbox
from storage.models import Identity
from tests.matrix_bot import MakePerson, MatrixBot, Person, joined, notice
from tests.matrix_server import Synapse


async def alices_private_chat(bot: MatrixBot, alice: Person) -> tuple[int, str | None]:
    async with bot.core.services.sessions() as session:
        identity = await session.scalar(
            select(Identity).where(Identity.platform_user_id == alice.user_id)
        )
        assert identity is not None
        return identity.user_id, identity.dm_chat_id


def from_bot(bot: MatrixBot, text: str):  # type: ignore[no-untyped-def]
    return lambda e: isinstance(e, RoomMessageNotice) and e.sender == bot.user_id and text in e.body


async def test_a_room_mallory_made_never_becomes_alices_private_chat(
    matrix_bot: MatrixBot, synapse: Synapse, matrix_person: MakePerson
) -> None:
    alice = await matrix_person(synapse, "alice")
    mallory = await matrix_person(synapse, "mallory")
    group_room = await alice.room(matrix_bot.user_id)
    await joined(alice, group_room, matrix_bot.user_id)
    await alice.say(group_room, '!registrieren ag "AG Matrix"')
    await alice.wait(notice(matrix_bot.user_id, group_room, "AG Matrix"))
    # Mallory makes a "direct" room with the bot and Alice; Alice accepts and writes there.
    trap = await mallory.room(matrix_bot.user_id, alice.user_id, direct=True)
    await alice.sync()
    await joined(mallory, trap, matrix_bot.user_id)
    await joined(mallory, trap, alice.user_id)
    await alice.say(trap, "!start")
    await alice.wait(notice(matrix_bot.user_id, trap))
    _, dm = await alices_private_chat(matrix_bot, alice)
    assert dm != trap
    # the group's secret calendar link goes to a private room of Alice's, not into the trap
    await alice.say(group_room, "!kalender")
    await alice.wait(notice(matrix_bot.user_id, group_room, "privat"))
    [link] = await alice.wait(from_bot(matrix_bot, "Kalender von „AG Matrix“"), seconds=30)
    assert link.room_id not in (trap, group_room)
    # A private chat stored from before this check is checked again before each delivery:
    # the invitation with its video link goes to a new private room, and the trap is dropped.
    user_id, _ = await alices_private_chat(matrix_bot, alice)
    async with matrix_bot.core.services.sessions.begin() as session:
        await session.execute(
            update(Identity)
            .where(Identity.platform_user_id == alice.user_id)
            .values(dm_chat_id=trap)
        )
        await outbox.enqueue(
            session,
            dedupe_key="invitation:alice",
            purpose="invitation",
            platform="matrix",
            message=OutgoingMessage("Einladung: https://meet.example.org/geheim"),
            now=matrix_bot.core.services.clock.now(),
            user_id=user_id,
        )
    matrix_bot.core.services.wake_outbox()
    [invitation] = await alice.wait(from_bot(matrix_bot, "meet.example.org/geheim"), seconds=30)
    assert invitation.room_id != trap
    _, dm = await alices_private_chat(matrix_bot, alice)
    assert dm == invitation.room_id
    for _ in range(3):
        await mallory.sync()
        await asyncio.sleep(0.2)
    seen_by_mallory = [e.body for e in mallory.seen if notice(matrix_bot.user_id, trap)(e)]
    assert not any("geheim" in body or "Kalender von" in body for body in seen_by_mallory)
