"""A date poll in a Matrix room against a real Synapse: answers as reactions, the poll edited
in place (m.replace), typed answers where reactions run out."""

from __future__ import annotations

from typing import Any

from tests.matrix_bot import GroupRoom, MatrixBot, Person, notice

POLL = '!terminabfrage "Juni-Sitzung" 15.06.2031 9-12 Uhr; 17.06.2031 14 Uhr; 22.06.2031 10 Uhr'


async def react(member: Person, room: str, event_id: str, key: str) -> None:
    await member.client.room_send(
        room,
        "m.reaction",
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}},
    )


def edit_of(bot_id: str, room: str, event_id: str, contains: str) -> Any:
    return lambda e: (
        notice(bot_id, room, contains)(e)
        and e.source["content"].get("m.relates_to", {}).get("event_id") == event_id
        and e.source["content"]["m.relates_to"].get("rel_type") == "m.replace"
    )


async def test_poll_in_a_matrix_room(matrix_bot: MatrixBot, matrix_group_room: GroupRoom) -> None:
    alice, bob, room = matrix_group_room
    await alice.say(room, '!registrieren ag "AG Matrix"')
    await alice.wait(notice(matrix_bot.user_id, room, "AG Matrix"))

    # one keycap per date, the date's own number: 2️⃣ is date 2 (issue #19: 4️⃣ meant "2 ✅ ja")
    await alice.say(room, POLL + " notfalls")
    [poll] = await alice.wait(notice(matrix_bot.user_id, room, "Terminabfrage #1"))
    assert "1️⃣ ✅ 15.06." in poll.body and "3️⃣ ✅ 22.06." in poll.body
    assert "4️⃣" not in poll.body
    assert "!abstimmen #1 1 2 ja" in poll.body
    await alice.wait(
        lambda e: (
            e.source.get("type") == "m.reaction"
            and e.sender == matrix_bot.user_id
            and e.source["content"]["m.relates_to"]["event_id"] == poll.event_id
        ),
        count=3,
    )
    await react(bob, room, poll.event_id, "1️⃣")  # date 1: yes
    [edited] = await alice.wait(
        edit_of(matrix_bot.user_id, room, poll.event_id, "✅ 1 · 🟡 0 · ❌ 0")
    )
    assert "⭐" in edited.source["content"]["m.new_content"]["body"]

    await bob.say(room, "!abstimmen 2 notfalls")  # typed: a reply, and the poll edited too
    await alice.wait(notice(matrix_bot.user_id, room, "1 Person hat geantwortet"), count=1)
    await alice.wait(edit_of(matrix_bot.user_id, room, poll.event_id, "✅ 0 · 🟡 1 · ❌ 0"))

    await alice.say(room, POLL.replace('"Juni', '"Juli') + "; 23.06.2031 9 Uhr notfalls")
    [big] = await alice.wait(notice(matrix_bot.user_id, room, "Terminabfrage #2"))
    assert "4️⃣ ✅ 23.06." in big.body and "5️⃣" not in big.body  # one "yes" per date
    assert "!abstimmen #2 1 2 ja" in big.body
