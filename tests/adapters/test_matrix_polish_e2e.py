"""Meetings on Matrix, against a real Synapse: a display name typed as shown names the member
in !rolle and !abwesend (no @, several words), a note keeps its lines in the minutes'
formatted_body, approved minutes arrive formatted like the draft, and !einladung sends no
calendar file for a meeting recorded afterwards."""

from __future__ import annotations

from nio import RoomMessageFile

from tests.adapters.test_matrix_mentions_e2e import outbox_settled
from tests.matrix_bot import GroupRoom, MakePerson, MatrixBot, joined, notice
from tests.matrix_server import Synapse


async def test_display_names_notes_approval_and_past_invitations_on_matrix(
    matrix_bot: MatrixBot,
    matrix_group_room: GroupRoom,
    synapse: Synapse,
    matrix_person: MakePerson,
) -> None:
    alice, _, room = matrix_group_room
    bot = matrix_bot.user_id
    clara = await matrix_person(synapse, "clara")
    await clara.client.set_displayname("Clara Conrad")
    await alice.client.room_invite(room, clara.user_id)
    await clara.sync()
    await joined(alice, room, clara.user_id)
    await alice.say(room, '!registrieren ag "AG Politur"')
    await alice.wait(notice(bot, room, "AG Politur"))
    await clara.say(room, "!beitreten")
    await alice.wait(notice(bot, room, "Mitglied"))

    # a display name of two words, typed without @ and without a pill
    await alice.say(room, "!rolle protokoll Clara Conrad")
    [role] = await alice.wait(notice(bot, room, "jetzt die Rolle"))
    assert "Clara Conrad" in role.body and "Protokollführung" in role.body, role.body

    # a meeting recorded afterwards: attendance by display name, on and off again
    await alice.say(room, "!sitzung 11.02.2021 9-12 Uhr Februar-Sitzung")
    await alice.wait(notice(bot, room, "Februar-Sitzung"))
    await alice.say(room, "!anwesend #1 Clara Conrad")
    await alice.wait(notice(bot, room, "eingetragen"))
    await alice.say(room, "!abwesend #1 Clara Conrad")
    [removed] = await alice.wait(notice(bot, room, "genommen"))
    assert "Clara Conrad" in removed.body, removed.body

    await alice.say(room, "!einladung 1")
    [refused] = await alice.wait(notice(bot, room, "bereits stattgefunden"))
    assert "Kalendereintrag" in refused.body, refused.body

    await alice.say(room, "!notiz #1 Zusagen:\nIHK Köln\nHWK Hannover")
    await alice.wait(notice(bot, room, "Notiz"))
    await alice.say(room, "!protokollentwurf 1")
    await alice.wait(notice(bot, room, "Protokollentwurf"))
    await alice.say(room, "!protokollgenehmigen 1 sofort")
    [approved] = await alice.wait(notice(bot, room, "ist genehmigt"))
    content = approved.source["content"]
    assert "<h1>Protokoll: Februar-Sitzung (#1)</h1>" in content["formatted_body"]
    assert "Zusagen:<br />\nIHK Köln<br />\nHWK Hannover" in content["formatted_body"]
    assert "Zusagen:\n  IHK Köln\n  HWK Hannover" in content["body"], content["body"]
    assert "**" not in content["body"]
    files = await alice.wait(
        lambda e: isinstance(e, RoomMessageFile) and e.room_id == room and e.sender == bot,
        count=3,
        seconds=30,
    )
    # the draft's .html here, then the approved minutes' .md and .html
    assert sorted(f.body.rsplit(".", 1)[-1] for f in files) == ["html", "html", "md"]
    await outbox_settled(matrix_bot)
