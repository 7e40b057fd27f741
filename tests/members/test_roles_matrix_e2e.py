"""Roles follow Matrix power levels: a moderator chairs on demand, and lowering their power
level ends it at once, against a real Synapse."""

from __future__ import annotations

from typing import Any

from nio import RoomGetStateEventResponse

from tests.matrix_bot import MakePerson, MatrixBot, Person, joined, notice
from tests.matrix_server import Synapse


async def set_power_level(admin: Person, room: str, user_id: str, level: int) -> None:
    current = await admin.client.room_get_state_event(room, "m.room.power_levels")
    assert isinstance(current, RoomGetStateEventResponse), current
    content: dict[str, Any] = dict(current.content)
    content["users"] = {**content.get("users", {}), user_id: level}
    await admin.client.room_put_state(room, "m.room.power_levels", content)


async def test_a_moderator_lowered_to_zero_is_no_chair_any_more(
    matrix_bot: MatrixBot, synapse: Synapse, matrix_person: MakePerson
) -> None:
    alice, bob = await matrix_person(synapse, "alice"), await matrix_person(synapse, "bob")
    room = await alice.room(matrix_bot.user_id, bob.user_id)
    await bob.sync()
    await joined(alice, room, matrix_bot.user_id)
    await joined(alice, room, bob.user_id)
    await alice.say(room, '!registrieren ag "AG Matrix"')
    await alice.wait(notice(matrix_bot.user_id, room, "AG Matrix"))
    # chair-only commands that queue nothing, so the test leaves no deliveries running
    await set_power_level(alice, room, bob.user_id, 100)
    await bob.say(room, "!sprache de")
    await alice.wait(notice(matrix_bot.user_id, room, "spreche ich jetzt"))
    await set_power_level(alice, room, bob.user_id, 0)
    # the power-level event alone makes him a member again, before he writes anything
    await alice.say(room, "!mitglieder")
    [members] = await alice.wait(notice(matrix_bot.user_id, room, "Mitglieder:"))
    assert f"({bob.user_id}) – Mitglied" in members.body
    await bob.say(room, "!sprache de")
    await alice.wait(notice(matrix_bot.user_id, room, "nur Vorsitzende"))
