"""The bot in Matrix rooms, against a real Synapse homeserver and a second nio client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from nio import (
    AsyncClient,
    AsyncClientConfig,
    MegolmEvent,
    RoomCreateResponse,
    RoomMessageFile,
    RoomMessageNotice,
    RoomPreset,
    SyncResponse,
)
from sqlalchemy import select, update

from bot.adapters.matrix import MatrixAdapter, e2e_housekeeping
from bot.app import Core, run_adapters
from bot.core.messages import OutgoingMessage
from bot.core.settings import load_settings
from bot.outbox.ports import DeliveryLimits
from storage import outbox
from storage.models import Identity, OutboxMessage
from tests.matrix_server import Synapse

PASSWORD = "correct horse battery staple"


@dataclass
class Person:
    """A member using an ordinary Matrix client."""

    user_id: str
    client: AsyncClient
    seen: list[Any] = field(default_factory=list)

    async def sync(self) -> None:
        response = await self.client.sync(timeout=500)
        if self.client.olm:
            await e2e_housekeeping(self.client)
            for index, event in enumerate(self.seen):  # a key may come after its message
                if isinstance(event, MegolmEvent):
                    with contextlib.suppress(Exception):
                        decrypted = self.client.decrypt_event(event)
                        decrypted.room_id = event.room_id  # type: ignore[attr-defined]
                        self.seen[index] = decrypted
        if isinstance(response, SyncResponse):
            for room_id, room in response.rooms.join.items():
                for event in room.timeline.events:
                    event.room_id = room_id  # type: ignore[attr-defined]
                    self.seen.append(event)
            for room_id in response.rooms.invite:
                await self.client.join(room_id)

    async def room(self, *invite: str, direct: bool = False, encrypted: bool = False) -> str:
        state = []
        if encrypted:
            state.append(
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            )
        response = await self.client.room_create(
            name=None if direct else "Arbeitsgruppe",
            is_direct=direct,
            invite=list(invite),
            initial_state=state,
            preset=RoomPreset.trusted_private_chat if direct else RoomPreset.private_chat,
        )
        assert isinstance(response, RoomCreateResponse), response
        return response.room_id

    async def say(self, room_id: str, text: str, **extra: Any) -> str:
        response = await self.client.room_send(
            room_id,
            "m.room.message",
            {"msgtype": "m.text", "body": text, **extra},
            ignore_unverified_devices=True,
        )
        return response.event_id  # type: ignore[union-attr]

    async def wait(
        self, predicate: Callable[[Any], bool], seconds: float = 15, count: int = 1
    ) -> list[Any]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = [event for event in self.seen if predicate(event)]
            if len(found) >= count:
                return found
            await self.sync()
        kinds = [(type(e).__name__, getattr(e, "body", "")) for e in self.seen[-10:]]
        raise AssertionError(f"timed out; last events: {kinds}")


def notice(bot: str, room_id: str, contains: str = "") -> Callable[[Any], bool]:
    return lambda e: (
        isinstance(e, RoomMessageNotice)
        and e.sender == bot
        and e.room_id == room_id
        and contains in e.body
    )


PEOPLE: list[Person] = []


@pytest.fixture(autouse=True)
async def _close_clients() -> AsyncIterator[None]:
    yield
    while PEOPLE:
        await PEOPLE.pop().client.close()


async def person(synapse: Synapse, prefix: str, store: Path | None = None) -> Person:
    """A member's client; with a `store` directory it does end-to-end encryption."""
    user_id, token = await synapse.aregister(synapse.unique_localpart(prefix), PASSWORD)
    if store is not None:
        os.makedirs(store, exist_ok=True)
    client = AsyncClient(
        synapse.base_url,
        user_id,
        store_path=str(store) if store else None,
        config=AsyncClientConfig(
            max_limit_exceeded=0,
            max_timeouts=2,
            encryption_enabled=store is not None,
            store_sync_tokens=False,
        ),
    )
    client.access_token = token
    whoami = await client.whoami()  # keys must be uploaded for the token's own device
    client.restore_login(user_id, whoami.device_id, token)
    member = Person(user_id, client)
    PEOPLE.append(member)
    await member.sync()
    return member


@dataclass
class MatrixBot:
    user_id: str
    core: Core
    adapter: MatrixAdapter
    stop: asyncio.Event
    task: asyncio.Task[None]


async def start_bot(synapse: Synapse, user_id: str, workdir: Path, **extra: object) -> MatrixBot:
    settings = load_settings(
        _env_file=None,
        database_url=f"sqlite:///{workdir / 'bot.db'}",
        matrix_homeserver=synapse.base_url,
        matrix_user_id=user_id,
        matrix_password=PASSWORD,
        matrix_store_path=str(workdir / "store"),
        outbox_poll_seconds=0.2,
        **{"matrix_allowed_inviters": ":localhost", **extra},
    )
    core = await Core.create(settings)
    adapter = MatrixAdapter(settings, core.dispatcher, core.services)
    stop = asyncio.Event()
    task = asyncio.create_task(run_adapters(core, [adapter], stop))
    for _ in range(200):
        if adapter._sync_task is not None or task.done():
            break
        await asyncio.sleep(0.05)
    if task.done():
        task.result()
    return MatrixBot(user_id, core, adapter, stop, task)


async def stop_bot(bot: MatrixBot) -> None:
    bot.stop.set()
    await asyncio.wait_for(bot.task, timeout=20)


@pytest.fixture
async def bot(synapse: Synapse, tmp_path: Path) -> AsyncIterator[MatrixBot]:
    user_id, _ = await synapse.aregister(synapse.unique_localpart("agbot"), PASSWORD)
    running = await start_bot(synapse, user_id, tmp_path)
    yield running
    await stop_bot(running)


async def joined(member: Person, room_id: str, user_id: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        response = await member.client.joined_members(room_id)
        if user_id in [m.user_id for m in getattr(response, "members", [])]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{user_id} did not join {room_id}")


async def test_group_room_commands_and_power_levels(bot: MatrixBot, synapse: Synapse) -> None:
    alice, bob = await person(synapse, "alice"), await person(synapse, "bob")
    room = await alice.room(bot.user_id, bob.user_id)
    await bob.sync()
    await joined(alice, room, bot.user_id)
    await joined(alice, room, bob.user_id)
    await alice.say(room, '!registrieren ag "AG Matrix"')
    [registered] = await alice.wait(notice(bot.user_id, room, "AG Matrix"))
    assert registered.source["content"]["msgtype"] == "m.notice"
    assert "formatted_body" in registered.source["content"]
    assert registered.source["content"]["m.relates_to"]["m.in_reply_to"]["event_id"]
    await bob.say(room, "!beitreten")
    await alice.wait(notice(bot.user_id, room, "Mitglied"))
    await bob.say(room, "!rolle vorsitz @" + bob.user_id.lstrip("@"))
    await alice.wait(notice(bot.user_id, room, "nur Vorsitzende"))
    # mentioning the bot works as well as the prefix
    localpart = bot.user_id.split(":")[0].lstrip("@")
    await alice.say(room, f"{localpart}: mitglieder")
    [members] = await alice.wait(notice(bot.user_id, room, "Mitglieder"))
    assert "<li>" in members.source["content"]["formatted_body"]
    await alice.say(room, "Ganz normale Unterhaltung")  # no reply to chatter
    await alice.say(room, "!hilfe")
    await alice.wait(notice(bot.user_id, room, "!registrieren"))
    notices = [e for e in alice.seen if notice(bot.user_id, room)(e)]
    assert not any("Unterhaltung" in n.body for n in notices)


async def test_direct_chat_file_and_reaction_buttons(bot: MatrixBot, synapse: Synapse) -> None:
    alice = await person(synapse, "alice")
    room = await alice.room(bot.user_id, direct=True)
    await joined(alice, room, bot.user_id)
    await alice.say(room, "!start")
    await alice.wait(notice(bot.user_id, room, "Hallo"))
    await alice.say(room, "!meinedaten")
    [file] = await alice.wait(lambda e: isinstance(e, RoomMessageFile) and e.room_id == room)
    assert file.body == "my-data.json" and file.url.startswith("mxc://")
    await alice.say(room, "!datenloeschen")
    [question] = await alice.wait(notice(bot.user_id, room, "wirklich"))
    assert "1️⃣" in question.body and "2️⃣" in question.body
    await alice.wait(
        lambda e: getattr(e, "source", {}).get("type") == "m.reaction" and e.sender == bot.user_id,
        count=2,
    )
    await alice.client.room_send(
        room,
        "m.reaction",
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": question.event_id, "key": "2️⃣"}},
    )
    [edit] = await alice.wait(notice(bot.user_id, room, "nichts gelöscht"))
    assert edit.source["content"]["m.relates_to"]["rel_type"] == "m.replace"


async def test_outbox_opens_a_direct_room_and_delivers(bot: MatrixBot, synapse: Synapse) -> None:
    alice, bob = await person(synapse, "alice"), await person(synapse, "bob")
    room = await alice.room(bot.user_id, bob.user_id)
    await bob.sync()
    await joined(alice, room, bot.user_id)
    await bob.say(room, "!hilfe")  # the bot now knows bob, but has no direct room with him
    await bob.wait(notice(bot.user_id, room))
    async with bot.core.services.sessions.begin() as session:
        identity = await session.scalar(
            select(Identity).where(Identity.platform_user_id == bob.user_id)
        )
        await outbox.enqueue(
            session,
            dedupe_key="reminder:bob",
            purpose="reminder",
            platform="matrix",
            message=OutgoingMessage("Erinnerung: Sitzung morgen um 9 Uhr"),
            now=bot.core.services.clock.now(),
            user_id=identity.user_id,
        )
    bot.core.services.wake_outbox()
    [reminder] = await bob.wait(
        lambda e: isinstance(e, RoomMessageNotice) and e.body.startswith("Erinnerung: Sitzung"),
        seconds=20,
    )
    assert reminder.room_id != room  # a new direct room
    async with bot.core.services.sessions() as session:
        dm = await session.scalar(
            select(Identity.dm_chat_id).where(Identity.platform_user_id == bob.user_id)
        )
    assert dm == reminder.room_id  # and it is reused next time


async def test_restart_neither_replays_nor_misses(synapse: Synapse, tmp_path: Path) -> None:
    user_id, _ = await synapse.aregister(synapse.unique_localpart("agbot"), PASSWORD)
    bot = await start_bot(synapse, user_id, tmp_path)
    alice = await person(synapse, "alice")
    room = await alice.room(user_id, direct=True)
    await joined(alice, room, user_id)
    await alice.say(room, "!datum 15.06.2027")
    await alice.wait(notice(user_id, room, "15.06.2027"))
    await stop_bot(bot)
    await alice.say(room, "!datum 16.06.2027")  # while the bot is down
    bot = await start_bot(synapse, user_id, tmp_path)
    try:
        await alice.wait(notice(user_id, room, "16.06.2027"))
        await alice.say(room, "!datum 17.06.2027")
        await alice.wait(notice(user_id, room, "17.06.2027"))
    finally:
        await stop_bot(bot)
    answers = [e.body for e in alice.seen if notice(user_id, room)(e)]
    assert sum("15.06.2027" in a for a in answers) == 1  # not replayed
    assert sum("16.06.2027" in a for a in answers) == 1  # not missed
    assert sum("17.06.2027" in a for a in answers) == 1


async def test_a_delivery_cut_short_by_a_crash_is_repeated_and_shown_once(
    synapse: Synapse, tmp_path: Path
) -> None:
    """The homeserver got the message, then the bot died before recording it: after the
    restart the row is sent again with the same transaction id, and Synapse answers with
    the event it already has instead of posting a second one."""
    user_id, _ = await synapse.aregister(synapse.unique_localpart("agbot"), PASSWORD)
    bot = await start_bot(synapse, user_id, tmp_path)
    alice = await person(synapse, "alice")
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
    await stop_bot(bot)
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

    bot = await start_bot(synapse, user_id, tmp_path)
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
        await stop_bot(bot)
    assert sum(1 for e in alice.seen if notice(user_id, room, "Erinnerung")(e)) == 1


async def test_end_to_end_encrypted_room(bot: MatrixBot, synapse: Synapse, tmp_path: Path) -> None:
    alice = await person(synapse, "alice", store=tmp_path / "alice")
    room = await alice.room(bot.user_id, direct=True, encrypted=True)
    await joined(alice, room, bot.user_id)
    for _ in range(40):  # until alice knows the bot's device, so her message is for it
        await alice.sync()
        if alice.client.device_store.active_user_devices(bot.user_id):
            break
    await alice.say(room, "!datum 15.06.2027 9-12 Uhr")
    [reply] = await alice.wait(notice(bot.user_id, room, "15.06.2027"), seconds=30)
    assert reply.decrypted  # the bot answered encrypted, and alice could read it
    await alice.say(room, "!meinedaten")
    [file] = await alice.wait(
        lambda e: type(e).__name__ == "RoomEncryptedFile" and e.room_id == room, seconds=30
    )
    assert file.body == "my-data.json"


async def test_undecryptable_message_gets_an_explanation(
    bot: MatrixBot, synapse: Synapse, tmp_path: Path
) -> None:
    alice = await person(synapse, "alice", store=tmp_path / "alice")
    room = await alice.room(bot.user_id, encrypted=True)
    await joined(alice, room, bot.user_id)
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
    await alice.wait(notice(bot.user_id, room, "nicht lesen"), seconds=30)


async def test_429_from_the_homeserver_is_honoured(
    synapse_strict: Synapse, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Default Synapse limits: the outbox gets M_LIMIT_EXCEEDED and waits retry_after_ms."""
    user_id, _ = synapse_strict.register(synapse_strict.unique_localpart("agbot"), PASSWORD)
    bot = await start_bot(synapse_strict, user_id, tmp_path)
    try:
        alice = await person(synapse_strict, "alice")
        room = await alice.room(user_id)
        await joined(alice, room, user_id)
        # lift our own pacing so that the homeserver's limit is what we run into
        assert bot.core.worker is not None
        bot.core.worker.set_limits("matrix", DeliveryLimits(100, 100, 6000))
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
        await stop_bot(bot)


async def test_history_from_before_the_bot_joined_is_ignored(
    bot: MatrixBot, synapse: Synapse
) -> None:
    alice = await person(synapse, "alice")
    room = await alice.room()
    await alice.say(room, "!datum 01.01.2027")  # before the bot is in the room
    await alice.client.room_invite(room, bot.user_id)
    await joined(alice, room, bot.user_id)
    await alice.say(room, "!datum 02.01.2027")
    await alice.wait(notice(bot.user_id, room, "02.01.2027"))
    await asyncio.sleep(1)
    await alice.sync()
    assert not any("01.01.2027" in e.body for e in alice.seen if notice(bot.user_id, room)(e))


async def test_invitations_follow_the_allow_list(synapse: Synapse, tmp_path: Path) -> None:
    user_id, _ = await synapse.aregister(synapse.unique_localpart("agbot"), PASSWORD)
    alice, mallory = await person(synapse, "alice"), await person(synapse, "mallory")
    bot = await start_bot(synapse, user_id, tmp_path, matrix_allowed_inviters=alice.user_id)
    try:
        refused = await mallory.room(user_id)
        accepted = await alice.room(user_id)
        await joined(alice, accepted, user_id)
        response = await mallory.client.joined_members(refused)
        assert user_id not in [m.user_id for m in response.members]
    finally:
        await stop_bot(bot)


async def test_start_logs_how_fast_messages_go_out(
    synapse: Synapse, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="bot.adapters.matrix")
    user_id, _ = await synapse.aregister(synapse.unique_localpart("agbot"), PASSWORD)
    bot = await start_bot(synapse, user_id, tmp_path)
    await stop_bot(bot)
    assert "0.2/s (homeserver defaults); 1000 reminders take ~83 min" in caplog.text
    synapse.override_ratelimit(user_id)
    bot = await start_bot(synapse, user_id, tmp_path, matrix_messages_per_second=5)
    await stop_bot(bot)
    assert "5.0/s (MATRIX_MESSAGES_PER_SECOND)" in caplog.text
