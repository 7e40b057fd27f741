"""On Matrix against a real Synapse: picking a poll's date sends the .ics invitation to the
members' private chats, and German quotation marks inside titles arrive as typed."""

from __future__ import annotations

from nio import RoomMessageFile

from tests.matrix_bot import GroupRoom, MatrixBot, joined, notice


async def test_poll_pick_invites_and_quotes_stay_on_matrix(
    matrix_bot: MatrixBot, matrix_group_room: GroupRoom
) -> None:
    alice, bob, room = matrix_group_room
    bot = matrix_bot.user_id
    await alice.say(room, "!registrieren ag „AG Matrix“")
    await alice.wait(notice(bot, room, "„AG Matrix“"))
    await bob.say(room, "!beitreten")
    await bob.wait(notice(bot, room, "Mitglied"))
    private = await bob.room(bot, direct=True)
    await joined(bob, private, bot)
    await bob.say(private, "!start")
    await bob.wait(notice(bot, private))

    await alice.say(room, "!terminabfrage „Konzept „Digital Mentor““ 15.06.2031 9–12 Uhr")
    await alice.wait(notice(bot, room, "Terminabfrage #1"))
    await alice.say(room, "!terminwahl 1 1")
    [fixed] = await alice.wait(notice(bot, room, "steht fest"))
    assert "„Konzept „Digital Mentor““" in fixed.body or "Konzept „Digital Mentor“" in fixed.body
    [invitation] = await bob.wait(lambda e: isinstance(e, RoomMessageFile) and e.room_id == private)
    assert invitation.body == "sitzung-1.ics"
    [text] = await bob.wait(notice(bot, private, "Einladung: Konzept „Digital Mentor“"))
    assert "Geändert" not in text.body

    await alice.say(room, "!tophinzu 1 Bericht „Handwerk 2031“ | Dr. Weber (IHK Köln)")
    [agenda] = await alice.wait(notice(bot, room, "Bericht „Handwerk 2031“ | Dr. Weber"))
    assert "TOP 1" in agenda.body
