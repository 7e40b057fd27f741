"""`!datenloeschen` on Matrix also removes who reacted how: the records the bot keeps of a
person's reactions (90 days, for taking an answer back) name their Matrix ID."""

from __future__ import annotations

from sqlalchemy import or_, select

from storage.models import PlatformState
from tests.matrix_bot import MakePerson, MatrixBot, joined, notice
from tests.matrix_server import Synapse


async def records_naming(bot: MatrixBot, user_id: str) -> list[str]:
    async with bot.core.services.sessions() as session:
        return list(
            await session.scalars(
                select(PlatformState.key).where(
                    or_(
                        PlatformState.account == user_id,
                        PlatformState.key.contains(user_id, autoescape=True),
                        PlatformState.value.contains(user_id, autoescape=True),
                    )
                )
            )
        )


async def test_erasure_removes_the_persons_reaction_records(
    matrix_bot: MatrixBot, synapse: Synapse, matrix_person: MakePerson
) -> None:
    alice = await matrix_person(synapse, "alice")
    room = await alice.room(matrix_bot.user_id, direct=True)
    await joined(alice, room, matrix_bot.user_id)
    await alice.say(room, "!start")
    await alice.wait(notice(matrix_bot.user_id, room, "Hallo"))
    await alice.say(room, "!datenloeschen")
    [question] = await alice.wait(notice(matrix_bot.user_id, room, "wirklich"))
    await alice.wait(
        lambda e: (
            getattr(e, "source", {}).get("type") == "m.reaction" and e.sender == matrix_bot.user_id
        ),
        count=2,
    )
    # "1️⃣ Ja, löschen" by reaction: the reaction itself is recorded before it erases her
    await alice.client.room_send(
        room,
        "m.reaction",
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": question.event_id, "key": "1️⃣"}},
    )
    await alice.wait(notice(matrix_bot.user_id, room, "Ich habe gelöscht"))
    assert await records_naming(matrix_bot, alice.user_id) == []
