"""How a failed Matrix request is classified for the outbox (bot/adapters/matrix_send.py)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from nio import LocalProtocolError, RoomSendError

from bot.adapters.matrix_send import failure_from_response, txn_id, within
from bot.outbox.ports import (
    MaybeDelivered,
    PermanentFailure,
    RecipientUnreachable,
    RetryLater,
    TransientFailure,
)
from tests.ports import free_port


def answer(status: int, body: dict[str, Any]) -> RoomSendError:
    response = RoomSendError.from_dict(body, "!room:localhost")
    response.transport_response = SimpleNamespace(status=status)  # type: ignore[assignment]
    return response


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (429, {"errcode": "M_LIMIT_EXCEEDED", "error": "x", "retry_after_ms": 1500}, RetryLater),
        (429, {}, RetryLater),  # a proxy's bare 429
        (403, {"errcode": "M_FORBIDDEN", "error": "not in room"}, RecipientUnreachable),
        (413, {"errcode": "M_TOO_LARGE", "error": "too big"}, PermanentFailure),
        (503, {}, TransientFailure),  # not processed
        (502, {}, TransientFailure),
        (500, {"errcode": "M_UNKNOWN", "error": "db"}, TransientFailure),  # the server said so
        (504, {}, MaybeDelivered),  # a gateway gave up waiting: it may be stored
        (200, {}, MaybeDelivered),  # processed, answer unreadable
    ],
)
def test_answers(status: int, body: dict[str, Any], expected: type[Exception]) -> None:
    failure = failure_from_response(answer(status, body))
    assert type(failure) is expected
    if status == 429 and body:
        assert isinstance(failure, RetryLater) and failure.seconds == 1.5


async def test_connection_refused_was_not_sent() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(TransientFailure, match="no connection"):
            await within(session.get(f"http://127.0.0.1:{free_port()}/"), 5)


async def test_a_timeout_after_sending_may_have_been_delivered() -> None:
    with pytest.raises(MaybeDelivered):
        await within(asyncio.sleep(1), 0.05)


async def test_a_room_the_client_does_not_know_yet_was_not_sent() -> None:
    async def unknown_room() -> None:
        raise LocalProtocolError("No such room with id !x:localhost found.")

    with pytest.raises(TransientFailure, match="not sent"):
        await within(unknown_room(), 1)


async def test_a_bug_is_not_taken_for_a_network_problem() -> None:
    async def broken() -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        await within(broken(), 1)


def test_transaction_ids_follow_the_outbox_key() -> None:
    """Every attempt at outbox row 7 (in any process) uses the same ids; without a key,
    nio makes a fresh one per request."""
    assert txn_id("outbox-7", "text-0") == "outbox-7-text-0"
    assert txn_id(None, "text-0") is None
