"""People named in commands on Matrix, against a real Synapse: a full Matrix ID (its colon is
no separator), its local part alone, a display name, and a client's mention pill all find the
member, in tasks, attendance, roles and agenda presenters alike (one resolver)."""

from __future__ import annotations

import asyncio
import time

from nio import RoomMessageNotice
from sqlalchemy import func, select

from storage.models import OutboxMessage
from tests.matrix_bot import GroupRoom, MakePerson, MatrixBot, Person, joined, notice
from tests.matrix_server import Synapse


def pill(person: Person, name: str, before: str, after: str) -> dict[str, object]:
    """What Element sends for a mention: the name in `body`, a link in the HTML, and the
    account in `m.mentions`."""
    link = f'<a href="https://matrix.to/#/{person.user_id}">{name}</a>'
    return {
        "body": f"{before}{name}{after}",
        "format": "org.matrix.custom.html",
        "formatted_body": f"{before}{link}{after}",
        "m.mentions": {"user_ids": [person.user_id]},
    }


async def outbox_settled(bot: MatrixBot, seconds: float = 60) -> None:
    """Wait until the invitations and greetings this scene queued are out, so that stopping
    the bot does not cut a slow delivery short (direct rooms are opened on the way)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        async with bot.core.services.sessions() as session:
            busy = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(("pending", "sending")))
            )
        if not busy:
            return
        await asyncio.sleep(0.2)


async def send(member: Person, room: str, content: dict[str, object]) -> None:
    await member.client.room_send(
        room, "m.room.message", {"msgtype": "m.text", **content}, ignore_unverified_devices=True
    )


async def test_ids_short_names_display_names_and_pills_find_the_member(
    matrix_bot: MatrixBot,
    matrix_group_room: GroupRoom,
    synapse: Synapse,
    matrix_person: MakePerson,
) -> None:
    alice, bob, room = matrix_group_room
    bot = matrix_bot.user_id
    clara = await matrix_person(synapse, "clara")
    await clara.client.set_displayname("Clara Conrad")
    await bob.client.set_displayname("Bernd Bauer")
    await alice.client.room_invite(room, clara.user_id)
    await clara.sync()
    await joined(alice, room, clara.user_id)
    await alice.say(room, '!registrieren ag "AG Namen"')
    await alice.wait(notice(bot, room, "AG Namen"))
    for member in (bob, clara):
        await member.say(room, "!beitreten")
    await alice.wait(notice(bot, room, "Mitglied"), count=2)
    await alice.say(room, "!sitzung 15.06.2027 9-12 Uhr Juni-Sitzung")
    await alice.wait(notice(bot, room, "Juni-Sitzung"))

    # a full Matrix ID: the colon inside it does not end the assignee
    await alice.say(room, f"!aufgabe #1 {bob.user_id}: Bögen senden")
    [task] = await alice.wait(notice(bot, room, "Bögen senden"))
    assert "Bernd Bauer" in task.body, task.body
    # the local part alone, and a display name typed without @
    short = bob.user_id.split(":")[0]
    await alice.say(room, f"!aufgabe #1 {short}: Liste prüfen")
    [task] = await alice.wait(notice(bot, room, "Liste prüfen"))
    assert "Bernd Bauer" in task.body, task.body
    await alice.say(room, "!aufgabe #1 bernd bauer: Raum buchen")
    [task] = await alice.wait(notice(bot, room, "Raum buchen"))
    assert "Bernd Bauer" in task.body, task.body
    # a mention pill reaches the handler as Clara's account
    await send(alice, room, pill(clara, "Clara Conrad", "!aufgabe #1 ", ": Protokoll prüfen"))
    [task] = await alice.wait(notice(bot, room, "Protokoll prüfen"))
    assert "Clara Conrad" in task.body, task.body
    # attendance, roles and presenters go through the same resolver
    await alice.say(room, f"!anwesend #1 {bob.user_id}, clara conrad")  # ID and display name
    [present] = await alice.wait(notice(bot, room, "anwesend"))
    assert "Bernd Bauer" in present.body and "Clara Conrad" in present.body, present.body
    await send(alice, room, pill(clara, "Clara Conrad", "!rolle protokoll ", ""))
    await alice.wait(notice(bot, room, "jetzt die Rolle Protokollführung"))
    await send(alice, room, pill(bob, "Bernd Bauer", "!tophinzu 1 Bericht | ", " | 10:30"))
    [agenda] = await alice.wait(notice(bot, room, "TOP 1"))
    assert "Bernd Bauer" in agenda.body, agenda.body

    # Clara finds the pill's task among her own, in the direct chat the bot opened for her
    await outbox_settled(matrix_bot)
    [hello] = await clara.wait(
        lambda e: (
            isinstance(e, RoomMessageNotice)
            and e.sender == bot
            and "Das ist unser Direktchat" in e.body
        ),
        seconds=30,
    )
    assert hello.room_id != room
    await clara.say(hello.room_id, "!meineaufgaben")
    [mine] = await clara.wait(notice(bot, hello.room_id, "Protokoll prüfen"), seconds=30)
    assert "Bögen senden" not in mine.body


async def test_joining_on_matrix_brings_an_invitation_not_a_telegram_hint(
    matrix_bot: MatrixBot, matrix_group_room: GroupRoom
) -> None:
    """The bot writes first on Matrix: `!beitreten` says an invitation to a direct chat
    comes (and it comes, with a greeting), and `!mitglieder` marks nobody ✉︎✗ for lack of
    a direct chat the bot can open itself."""
    alice, bob, room = matrix_group_room
    bot = matrix_bot.user_id
    await alice.say(room, '!registrieren ag "AG Einladung"')
    await alice.wait(notice(bot, room, "AG Einladung"))
    await bob.say(room, "!beitreten")
    [joined_answer] = await bob.wait(notice(bot, room, "Mitglied"))
    assert "Direktchat" in joined_answer.body and "Einladung an" in joined_answer.body
    assert "!start" not in joined_answer.body, joined_answer.body
    greeting = "Das ist unser Direktchat"
    [hello] = await bob.wait(
        lambda e: getattr(e, "sender", None) == bot and greeting in getattr(e, "body", ""),
        seconds=30,
    )
    assert hello.room_id != room
    await alice.say(room, "!mitglieder")
    [members] = await alice.wait(notice(bot, room, "Mitglieder:"))
    assert "✉︎✗" not in members.body, members.body
    await outbox_settled(matrix_bot)
