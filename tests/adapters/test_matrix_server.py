"""Smoke tests of the Synapse fixtures with matrix-nio: a message between two users, and
Synapse's default rate limits really answering 429 (and the admin override lifting them)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest

from tests.matrix_server import Synapse

nio = pytest.importorskip("nio")

Client = Callable[..., "nio.AsyncClient"]


@pytest.fixture
async def make_client() -> AsyncIterator[Client]:
    """AsyncClients logged in by token; bounded retries (nio retries 429s forever by default)."""
    clients: list[nio.AsyncClient] = []

    def make(server: Synapse, user_id: str, token: str, max_limit_exceeded: int = 3):
        config = nio.AsyncClientConfig(
            max_limit_exceeded=max_limit_exceeded,
            max_timeouts=3,
            request_timeout=15,
            encryption_enabled=False,
        )
        client = nio.AsyncClient(server.base_url, user_id, config=config)
        client.user_id = user_id
        client.access_token = token
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


async def test_message_reaches_the_invited_user(synapse: Synapse, make_client: Client) -> None:
    print(f"\nSynapse started in {synapse.startup_seconds:.2f} s")
    alice = make_client(synapse, *await synapse.aregister(synapse.unique_localpart("a"), "pw-a"))
    bob = make_client(synapse, *await synapse.aregister(synapse.unique_localpart("b"), "pw-b"))

    created = await alice.room_create(name="smoke", invite=[bob.user_id])
    assert isinstance(created, nio.RoomCreateResponse), created
    joined = await bob.join(created.room_id)
    assert isinstance(joined, nio.JoinResponse), joined
    sent = await alice.room_send(
        created.room_id, "m.room.message", {"msgtype": "m.text", "body": "hallo Bob"}
    )
    assert isinstance(sent, nio.RoomSendResponse), sent

    began = time.monotonic()
    bodies: list[str] = []
    for _ in range(10):  # bounded: a long-poll sync returns as soon as there is news
        synced = await bob.sync(timeout=2000)
        assert isinstance(synced, nio.SyncResponse), synced
        room = synced.rooms.join.get(created.room_id)
        if room is not None:
            bodies += [
                event.body
                for event in room.timeline.events
                if isinstance(event, nio.RoomMessageText) and event.sender == alice.user_id
            ]
        if bodies:
            break
    assert bodies == ["hallo Bob"]
    print(f"Bob's sync saw Alice's message after {time.monotonic() - began:.2f} s")


async def _room_of_own(
    server: Synapse, make_client: Client, prefix: str
) -> tuple[nio.AsyncClient, str]:
    user_id, token = await server.aregister(server.unique_localpart(prefix), "pw")
    client = make_client(server, user_id, token, max_limit_exceeded=0)
    created = await client.room_create(name=prefix)
    assert isinstance(created, nio.RoomCreateResponse), created
    return client, created.room_id


async def test_default_rate_limits_answer_429(synapse_strict: Synapse, make_client: Client) -> None:
    print(f"\nstrict Synapse started in {synapse_strict.startup_seconds:.2f} s")
    client, room_id = await _room_of_own(synapse_strict, make_client, "spammer")
    limited: list[nio.RoomSendError] = []
    first_limited = 0
    for n in range(15):
        answer = await client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": f"spam {n}"}
        )
        if isinstance(answer, nio.RoomSendError):
            limited.append(answer)
            first_limited = first_limited or n + 1
            if len(limited) == 2:  # each 429 costs 0.5 s: Synapse pauses before answering
                break
        else:
            assert isinstance(answer, nio.RoomSendResponse), answer
    assert limited, "15 quick messages should exceed rc_message (0.2/s, burst 10)"
    assert {error.status_code for error in limited} == {"M_LIMIT_EXCEEDED"}
    assert all(error.retry_after_ms and error.retry_after_ms > 0 for error in limited)
    print(f"429 from send {first_limited} on, retry_after_ms={limited[0].retry_after_ms}")

    # The same limit seen without nio: HTTP 429 with the Matrix error body.
    url = f"{synapse_strict.base_url}/_matrix/client/v3/rooms/{room_id}/send/m.room.message/raw1"
    headers = {"Authorization": f"Bearer {client.access_token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.put(url, json={"msgtype": "m.text", "body": "raw"}, headers=headers) as response,
    ):
        body = await response.json()
    assert response.status == 429, body
    assert body["errcode"] == "M_LIMIT_EXCEEDED"
    assert body["retry_after_ms"] > 0


async def test_override_ratelimit_exempts_a_user(
    synapse_strict: Synapse, make_client: Client
) -> None:
    client, room_id = await _room_of_own(synapse_strict, make_client, "bot")
    synapse_strict.override_ratelimit(client.user_id, synapse_strict.admin_token())
    for n in range(15):
        answer = await client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": f"notice {n}"}
        )
        assert isinstance(answer, nio.RoomSendResponse), answer
