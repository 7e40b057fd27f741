"""Membership follows the room on Matrix, against a real Synapse: who leaves, is kicked or
banned from a group's room is no member any more; the bot's own removal reaches the chair."""

from __future__ import annotations

from tests.matrix_bot import MakePerson, MatrixBot, joined, notice
from tests.matrix_server import Synapse


async def test_leave_kick_and_ban_end_the_membership_and_the_chair_hears_of_removal(
    matrix_bot: MatrixBot, synapse: Synapse, matrix_person: MakePerson
) -> None:
    alice = await matrix_person(synapse, "alice")
    bob, carol = await matrix_person(synapse, "bob"), await matrix_person(synapse, "carol")
    dora = await matrix_person(synapse, "dora")
    room = await alice.room(matrix_bot.user_id, bob.user_id, carol.user_id, dora.user_id)
    for member in (bob, carol, dora):
        await member.sync()
        await joined(alice, room, member.user_id)
    await joined(alice, room, matrix_bot.user_id)
    await alice.say(room, '!registrieren ag "AG Matrix"')
    await alice.wait(notice(matrix_bot.user_id, room, "AG Matrix"))
    for member in (bob, carol, dora):
        await member.say(room, "!beitreten")
    await alice.wait(notice(matrix_bot.user_id, room, "Mitglied"), count=3)
    await alice.say(room, "!mitglieder")
    [listed] = await alice.wait(notice(matrix_bot.user_id, room, "„AG Matrix“ hat"))
    assert all(m.user_id.split(":")[0][1:] in listed.body for m in (bob, carol, dora))

    await bob.client.room_leave(room)
    await alice.client.room_kick(room, carol.user_id, reason="ausgeschieden")
    await alice.client.room_ban(room, dora.user_id)
    await alice.say(room, "!mitglieder")
    members = await alice.wait(notice(matrix_bot.user_id, room, "„AG Matrix“ hat"), count=2)
    now_listed = members[-1].body
    assert "alice" in now_listed
    assert not any(m.user_id.split(":")[0][1:] in now_listed for m in (bob, carol, dora))

    await alice.client.room_kick(room, matrix_bot.user_id)
    told = await alice.wait(
        lambda e: (
            getattr(e, "sender", None) == matrix_bot.user_id
            and getattr(e, "room_id", room) != room
            and "entfernt" in getattr(e, "body", "")
        ),
        seconds=30,
    )
    assert "AG Matrix" in told[0].body
