"""The bot in Matrix rooms, against a real Synapse homeserver and a second nio client."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest
from nio import (
    RoomMessageFile,
    RoomMessageNotice,
)
from sqlalchemy import select, update

from bot.adapters.matrix_rate import MatrixPace, PaceStart
from bot.core.messages import OutgoingMessage
from bot.outbox.ports import DeliveryLimits
from storage import outbox
from storage.models import Identity, OutboxMessage
from tests.matrix_bot import (
    PASSWORD,
    GroupRoom,
    MakePerson,
    MatrixBot,
    joined,
    notice,
    start_matrix_bot,
    stop_matrix_bot,
)
from tests.matrix_server import Synapse


async def test_group_room_commands_and_power_levels(
    matrix_bot: MatrixBot, matrix_group_room: GroupRoom
) -> None:
    alice, bob, room = matrix_group_room
    await alice.say(room, '!registrieren ag "AG Matrix"')
    [registered] = await alice.wait(notice(matrix_bot.user_id, room, "AG Matrix"))
    assert registered.source["content"]["msgtype"] == "m.notice"
    assert "formatted_body" in registered.source["content"]
    assert registered.source["content"]["m.relates_to"]["m.in_reply_to"]["event_id"]
    await bob.say(room, "!beitreten")
    await alice.wait(notice(matrix_bot.user_id, room, "Mitglied"))
    await bob.say(room, "!rolle vorsitz @" + bob.user_id.lstrip("@"))
    await alice.wait(notice(matrix_bot.user_id, room, "nur Vorsitzende"))
    # mentioning the bot works as well as the prefix
    localpart = matrix_bot.user_id.split(":")[0].lstrip("@")
    await alice.say(room, f"{localpart}: mitglieder")
    [members] = await alice.wait(notice(matrix_bot.user_id, room, "Mitglieder"))
    assert "<li>" in members.source["content"]["formatted_body"]
    await alice.say(room, "Ganz normale Unterhaltung")  # no reply to chatter
    await alice.say(room, "!hilfe")
    await alice.wait(notice(matrix_bot.user_id, room, "!registrieren"))
    notices = [e for e in alice.seen if notice(matrix_bot.user_id, room)(e)]
    assert not any("Unterhaltung" in n.body for n in notices)


async def test_direct_chat_file_and_reaction_buttons(
    matrix_bot: MatrixBot, synapse: Synapse, matrix_person: MakePerson
) -> None:
    alice = await matrix_person(synapse, "alice")
    room = await alice.room(matrix_bot.user_id, direct=True)
    await joined(alice, room, matrix_bot.user_id)
    await alice.say(room, "!start")
    await alice.wait(notice(matrix_bot.user_id, room, "Hallo"))
    await alice.say(room, "!meinedaten")
    [file] = await alice.wait(lambda e: isinstance(e, RoomMessageFile) and e.room_id == room)
    assert file.body == "my-data.json" and file.url.startswith("mxc://")
    await alice.say(room, "!datenloeschen")
    [question] = await alice.wait(notice(matrix_bot.user_id, room, "wirklich"))
    assert "1️⃣" in question.body and "2️⃣" in question.body
    await alice.wait(
        lambda e: (
            getattr(e, "source", {}).get("type") == "m.reaction" and e.sender == matrix_bot.user_id
        ),
        count=2,
    )
    await alice.client.room_send(
        room,
        "m.reaction",
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": question.event_id, "key": "2️⃣"}},
    )
    [edit] = await alice.wait(notice(matrix_bot.user_id, room, "nichts gelöscht"))
    assert edit.source["content"]["m.relates_to"]["rel_type"] == "m.replace"


async def test_outbox_opens_a_direct_room_and_delivers(
    matrix_bot: MatrixBot, matrix_group_room: GroupRoom
) -> None:
    bob, room = matrix_group_room.bob, matrix_group_room.room
    await bob.say(room, "!hilfe")  # the bot now knows bob, but has no direct room with him
    await bob.wait(notice(matrix_bot.user_id, room))
    async with matrix_bot.core.services.sessions.begin() as session:
        identity = await session.scalar(
            select(Identity).where(Identity.platform_user_id == bob.user_id)
        )
        await outbox.enqueue(
            session,
            dedupe_key="reminder:bob",
            purpose="reminder",
            platform="matrix",
            message=OutgoingMessage("Erinnerung: Sitzung morgen um 9 Uhr"),
            now=matrix_bot.core.services.clock.now(),
            user_id=identity.user_id,
        )
    matrix_bot.core.services.wake_outbox()
    [reminder] = await bob.wait(
        lambda e: isinstance(e, RoomMessageNotice) and e.body.startswith("Erinnerung: Sitzung"),
        seconds=20,
    )
    assert reminder.room_id != room  # a new direct room
    async with matrix_bot.core.services.sessions() as session:
        dm = await session.scalar(
            select(Identity.dm_chat_id).where(Identity.platform_user_id == bob.user_id)
        )
    assert dm == reminder.room_id  # and it is reused next time


async def test_restart_neither_replays_nor_misses(
    synapse: Synapse, tmp_path: Path, matrix_person: MakePerson
) -> None:
    user_id, _ = await synapse.aregister(synapse.unique_localpart("agbot"), PASSWORD)
    bot = await start_matrix_bot(synapse, user_id, tmp_path)
    alice = await matrix_person(synapse, "alice")
    room = await alice.room(user_id, direct=True)
    await joined(alice, room, user_id)
    await alice.say(room, "!datum 15.06.2027")
    await alice.wait(notice(user_id, room, "15.06.2027"))
    await stop_matrix_bot(bot)
    await alice.say(room, "!datum 16.06.2027")  # while the bot is down
    bot = await start_matrix_bot(synapse, user_id, tmp_path)
    try:
        await alice.wait(notice(user_id, room, "16.06.2027"))
        await alice.say(room, "!datum 17.06.2027")
        await alice.wait(notice(user_id, room, "17.06.2027"))
    finally:
        await stop_matrix_bot(bot)
    answers = [e.body for e in alice.seen if notice(user_id, room)(e)]
    assert sum("15.06.2027" in a for a in answers) == 1  # not replayed
    assert sum("16.06.2027" in a for a in answers) == 1  # not missed
    assert sum("17.06.2027" in a for a in answers) == 1


async def test_a_delivery_cut_short_by_a_crash_is_repeated_and_shown_once(
    synapse: Synapse, tmp_path: Path, matrix_person: MakePerson
) -> None:
    """The homeserver got the message, then the bot died before recording it: after the
    restart the row is sent again with the same transaction id, and Synapse answers with
    the event it already has instead of posting a second one."""
    user_id, _ = await synapse.aregister(synapse.unique_localpart("agbot"), PASSWORD)
    bot = await start_matrix_bot(synapse, user_id, tmp_path)
    alice = await matrix_person(synapse, "alice")
    room = await alice.room(user_id, direct=True)
    await joined(alice, room, user_id)
    now = bot.core.services.clock.now()
    async with bot.core.services.sessions.begin() as session:
        await outbox.enqueue(
            session,
            dedupe_key="reminder:alice",
            purpose="reminder",
            platform="matrix",
            chat_id=room,
            message=OutgoingMessage("Erinnerung: Sitzung morgen um 9 Uhr"),
            now=now,
            not_before=now + timedelta(days=1),  # the worker leaves it alone for now
        )
        row = await session.scalar(select(OutboxMessage))
    message = OutgoingMessage("Erinnerung: Sitzung morgen um 9 Uhr")
    first = await bot.adapter.sender.deliver(room, message, key=f"outbox-{row.id}")
    await stop_matrix_bot(bot)
    async with bot.core.services.sessions.begin() as session:  # what the crash left behind
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id)
            .values(
                status="sending",
                lease_owner="the dead process",
                lease_until=now - timedelta(seconds=1),
                attempted_at=now,
            )
        )
    await bot.core.close()

    bot = await start_matrix_bot(synapse, user_id, tmp_path)
    try:
        for _ in range(100):
            async with bot.core.services.sessions() as session:
                again = await session.get(OutboxMessage, row.id)
            if again.status == "sent":
                break
            await asyncio.sleep(0.1)
        assert again.status == "sent" and again.platform_message_id == first
        await alice.wait(notice(user_id, room, "Erinnerung"))
        await asyncio.sleep(1)
        await alice.sync()
    finally:
        await stop_matrix_bot(bot)
    assert sum(1 for e in alice.seen if notice(user_id, room, "Erinnerung")(e)) == 1


async def test_end_to_end_encrypted_room(
    matrix_bot: MatrixBot, synapse: Synapse, tmp_path: Path, matrix_person: MakePerson
) -> None:
    alice = await matrix_person(synapse, "alice", store=tmp_path / "alice")
    room = await alice.room(matrix_bot.user_id, direct=True, encrypted=True)
    await joined(alice, room, matrix_bot.user_id)
    for _ in range(40):  # until alice knows the bot's device, so her message is for it
        await alice.sync()
        if alice.client.device_store.active_user_devices(matrix_bot.user_id):
            break
    await alice.say(room, "!datum 15.06.2027 9-12 Uhr")
    [reply] = await alice.wait(notice(matrix_bot.user_id, room, "15.06.2027"), seconds=30)
    assert reply.decrypted  # the bot answered encrypted, and alice could read it
    await alice.say(room, "!meinedaten")
    [file] = await alice.wait(
        lambda e: type(e).__name__ == "RoomEncryptedFile" and e.room_id == room, seconds=30
    )
    assert file.body == "my-data.json"


async def test_undecryptable_message_gets_an_explanation(
    matrix_bot: MatrixBot, synapse: Synapse, tmp_path: Path, matrix_person: MakePerson
) -> None:
    alice = await matrix_person(synapse, "alice", store=tmp_path / "alice")
    room = await alice.room(matrix_bot.user_id, encrypted=True)
    await joined(alice, room, matrix_bot.user_id)
    garbage = {  # an encrypted event whose key nobody will ever share
        "algorithm": "m.megolm.v1.aes-sha2",
        "ciphertext": "AAAA",
        "sender_key": "k",
        "session_id": "s",
        "device_id": "TESTDEVICE",
    }
    response = await alice.client.send(
        "PUT",
        f"/_matrix/client/v3/rooms/{room}/send/m.room.encrypted/garbage1",
        json.dumps(garbage),
        headers={"Authorization": f"Bearer {alice.client.access_token}"},
    )
    assert response.status == 200
    await alice.wait(notice(matrix_bot.user_id, room, "nicht lesen"), seconds=30)


async def test_429_from_the_homeserver_is_honoured(
    synapse_strict: Synapse,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    matrix_person: MakePerson,
) -> None:
    """Default Synapse limits: the outbox gets M_LIMIT_EXCEEDED and waits retry_after_ms."""
    user_id, _ = synapse_strict.register(synapse_strict.unique_localpart("agbot"), PASSWORD)
    bot = await start_matrix_bot(synapse_strict, user_id, tmp_path)
    try:
        alice = await matrix_person(synapse_strict, "alice")
        room = await alice.room(user_id)
        await joined(alice, room, user_id)
        # lift our own pacing so that the homeserver's limit is what we run into
        assert bot.core.worker is not None
        bot.core.worker.set_limits("matrix", DeliveryLimits(100, 100, 6000))
        bot.adapter.pace = MatrixPace(PaceStart(100, 100, "this test"))
        async with bot.core.services.sessions.begin() as session:
            for index in range(14):
                await outbox.enqueue(
                    session,
                    dedupe_key=f"n{index}",
                    purpose="notice",
                    platform="matrix",
                    chat_id=room,
                    message=OutgoingMessage(f"Mitteilung {index}"),
                    now=bot.core.services.clock.now(),
                )
        bot.core.services.wake_outbox()
        found = await alice.wait(
            lambda e: isinstance(e, RoomMessageNotice) and e.body.startswith("Mitteilung"),
            count=14,
            seconds=60,
        )
        assert [e.body for e in found] == [f"Mitteilung {i}" for i in range(14)]
        assert "rate limited on chat" in caplog.text  # a real 429 was met and waited out
    finally:
        await stop_matrix_bot(bot)


async def test_history_from_before_the_bot_joined_is_ignored(
    matrix_bot: MatrixBot, synapse: Synapse, matrix_person: MakePerson
) -> None:
    alice = await matrix_person(synapse, "alice")
    room = await alice.room()
    await alice.say(room, "!datum 01.01.2027")  # before the bot is in the room
    await alice.client.room_invite(room, matrix_bot.user_id)
    await joined(alice, room, matrix_bot.user_id)
    await alice.say(room, "!datum 02.01.2027")
    await alice.wait(notice(matrix_bot.user_id, room, "02.01.2027"))
    await asyncio.sleep(1)
    await alice.sync()
    assert not any(
        "01.01.2027" in e.body for e in alice.seen if notice(matrix_bot.user_id, room)(e)
    )


async def test_invitations_follow_the_allow_list(
    synapse: Synapse, tmp_path: Path, matrix_person: MakePerson
) -> None:
    user_id, _ = await synapse.aregister(synapse.unique_localpart("agbot"), PASSWORD)
    alice, mallory = await matrix_person(synapse, "alice"), await matrix_person(synapse, "mallory")
    bot = await start_matrix_bot(synapse, user_id, tmp_path, matrix_allowed_inviters=alice.user_id)
    try:
        refused = await mallory.room(user_id)
        accepted = await alice.room(user_id)
        await joined(alice, accepted, user_id)
        response = await mallory.client.joined_members(refused)
        assert user_id not in [m.user_id for m in response.members]
    finally:
        await stop_matrix_bot(bot)


async def test_start_logs_how_fast_messages_go_out(
    synapse: Synapse, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="bot.adapters.matrix")
    user_id, _ = await synapse.aregister(synapse.unique_localpart("agbot"), PASSWORD)
    bot = await start_matrix_bot(synapse, user_id, tmp_path, matrix_messages_per_second=None)
    await stop_matrix_bot(bot)
    assert "0.2/s (homeserver defaults); 1000 reminders take ~83 min" in caplog.text
    assert "raised while no M_LIMIT_EXCEEDED comes back, up to 10.0/s" in caplog.text
    synapse.override_ratelimit(user_id)
    bot = await start_matrix_bot(synapse, user_id, tmp_path, matrix_messages_per_second=5)
    await stop_matrix_bot(bot)
    assert "5.0/s (MATRIX_MESSAGES_PER_SECOND)" in caplog.text
