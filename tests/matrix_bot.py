"""The bot in Matrix rooms against a real Synapse homeserver (tests/matrix_server.py), and the
members who talk to it through ordinary nio clients.

The fixtures (registered in tests/conftest.py): `matrix_bot` is the bot running on the
`synapse` homeserver under a fresh account; `matrix_person` makes members' clients and closes
them when the test ends; `matrix_group_room` is a room of alice, bob and the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import pytest
from nio import (
    AsyncClient,
    AsyncClientConfig,
    MegolmEvent,
    RoomCreateResponse,
    RoomMessageNotice,
    RoomPreset,
    SyncResponse,
)

from bot.adapters.matrix import MatrixAdapter, e2e_housekeeping
from bot.app import Core, run_adapters
from bot.core.settings import load_settings
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


async def new_person(synapse: Synapse, prefix: str, store: Path | None = None) -> Person:
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
    await member.sync()
    return member


class MakePerson(Protocol):
    """`await matrix_person(synapse, "alice")`; with a `store` directory it does end-to-end
    encryption."""

    def __call__(
        self, synapse: Synapse, prefix: str, store: Path | None = None
    ) -> Awaitable[Person]: ...


async def joined(member: Person, room_id: str, user_id: str, seconds: float = 15) -> None:
    """Wait until `user_id` is in the room, as `member` sees it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        response = await member.client.joined_members(room_id)
        if user_id in [m.user_id for m in getattr(response, "members", [])]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{user_id} did not join {room_id}")


@dataclass
class MatrixBot:
    """The bot running in this process as `user_id`, until `stop` is set."""

    user_id: str
    core: Core
    adapter: MatrixAdapter
    stop: asyncio.Event
    task: asyncio.Task[None]


async def start_matrix_bot(
    synapse: Synapse, user_id: str, workdir: Path, *, via: str | None = None, **extra: object
) -> MatrixBot:
    """Run the bot as `user_id` with its database and keys in `workdir`; `extra` adds
    settings, `via` is the URL it reaches the homeserver by (a fault proxy in front).
    Returns once it syncs, or raises what stopped it.

    The suite's Synapse has its message limits relaxed, so the bot is told a pace to match
    (MATRIX_MESSAGES_PER_SECOND, as the README asks of a deployment that lifted its limit);
    `matrix_messages_per_second=None` starts it guessing, as without the setting."""
    settings = load_settings(
        _env_file=None,
        database_url=f"sqlite:///{workdir / 'bot.db'}",
        matrix_homeserver=via or synapse.base_url,
        matrix_user_id=user_id,
        matrix_password=PASSWORD,
        matrix_store_path=str(workdir / "store"),
        outbox_poll_seconds=0.2,
        **{"matrix_allowed_inviters": ":localhost", "matrix_messages_per_second": 50, **extra},
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


async def stop_matrix_bot(bot: MatrixBot) -> None:
    bot.stop.set()
    await asyncio.wait_for(bot.task, timeout=20)


@pytest.fixture
async def matrix_person() -> AsyncIterator[MakePerson]:
    """Makes members' clients on a homeserver; all of them are closed when the test ends."""
    made: list[Person] = []

    async def make(synapse: Synapse, prefix: str, store: Path | None = None) -> Person:
        member = await new_person(synapse, prefix, store)
        made.append(member)
        return member

    yield make
    while made:
        await made.pop().client.close()


@pytest.fixture
async def matrix_bot(synapse: Synapse, tmp_path: Path) -> AsyncIterator[MatrixBot]:
    """The bot under a fresh account on `synapse`, stopped when the test ends."""
    user_id, _ = await synapse.aregister(synapse.unique_localpart("agbot"), PASSWORD)
    running = await start_matrix_bot(synapse, user_id, tmp_path)
    yield running
    await stop_matrix_bot(running)


class GroupRoom(NamedTuple):
    """Alice's room with bob and the bot in it."""

    alice: Person
    bob: Person
    room: str


@pytest.fixture
async def matrix_group_room(
    matrix_bot: MatrixBot, synapse: Synapse, matrix_person: MakePerson
) -> GroupRoom:
    """A room alice made and invited bob and `matrix_bot` to, once both of them have joined:
    where a working group meets."""
    alice, bob = await matrix_person(synapse, "alice"), await matrix_person(synapse, "bob")
    room = await alice.room(matrix_bot.user_id, bob.user_id)
    await bob.sync()  # accepts the invitation
    await joined(alice, room, matrix_bot.user_id)
    await joined(alice, room, bob.user_id)
    return GroupRoom(alice, bob, room)
