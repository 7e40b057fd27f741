"""Matrix delivery through a misbehaving network (tests/matrix_fault_proxy.py) to the real
Synapse: what reached the homeserver is read back from it, never from the bot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nio import RoomMessageNotice
from sqlalchemy import func, select

from bot.core.messages import OutgoingMessage
from bot.outbox.ports import MaybeDelivered, RetryLater, TransientFailure
from storage import outbox
from storage.models import OutboxMessage, ProcessedEvent
from tests.matrix_bot import (
    PASSWORD,
    MakePerson,
    MatrixBot,
    Person,
    joined,
    notice,
    start_matrix_bot,
    stop_matrix_bot,
)
from tests.matrix_fault_proxy import Fault, FaultProxy
from tests.matrix_server import Synapse


@pytest.fixture
async def proxy(synapse: Synapse) -> AsyncIterator[FaultProxy]:
    """A fault proxy in front of the suite's Synapse; the bot talks through it, people not."""
    async with FaultProxy(synapse.base_url, seed=13) as running:
        yield running


@pytest.fixture
async def proxied_bot(
    synapse: Synapse, proxy: FaultProxy, tmp_path: Path
) -> AsyncIterator[MatrixBot]:
    user_id, _ = await synapse.aregister(synapse.unique_localpart("agbot"), PASSWORD)
    bot = await start_matrix_bot(
        synapse, user_id, tmp_path, via=proxy.base_url, matrix_messages_per_second=20
    )
    bot.adapter.send_timeout = 1.5  # a slow answer is one that takes longer than this
    yield bot
    await stop_matrix_bot(bot)


async def direct_room(bot: MatrixBot, person: Person) -> str:
    room = await person.room(bot.user_id, direct=True)
    await joined(person, room, bot.user_id)
    for _ in range(100):  # and the bot's client has synced it
        if room in bot.adapter.client.rooms:
            break
        await asyncio.sleep(0.1)
    return room


async def messages_in(
    person: Person, room: str, prefix: str, sender: str | None = None
) -> list[str]:
    """The room's messages as the homeserver has them (not what a client happened to sync)."""
    response = await person.client.room_messages(room, start="", limit=100)
    return [
        e.body  # type: ignore[attr-defined]
        for e in reversed(response.chunk)
        if isinstance(getattr(e, "body", None), str)
        and e.body.startswith(prefix)  # type: ignore[attr-defined]
        and sender in (None, e.sender)
    ]


async def enqueue(bot: MatrixBot, room: str, text: str, key: str) -> int:
    async with bot.core.services.sessions.begin() as session:
        await outbox.enqueue(
            session,
            dedupe_key=key,
            purpose="notice",
            platform="matrix",
            chat_id=room,
            message=OutgoingMessage(text),
            now=bot.core.services.clock.now(),
        )
        row_id = await session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)
        )
    bot.core.services.wake_outbox()
    assert row_id is not None
    return row_id


async def wait_sent(bot: MatrixBot, row_id: int, seconds: float = 30) -> OutboxMessage:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        async with bot.core.services.sessions() as session:
            row = await session.get(OutboxMessage, row_id)
        if row is not None and row.status == "sent":
            return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"row {row_id} not sent: {row.status if row else None}")


@pytest.mark.parametrize(
    ("fault", "times", "expected", "stored"),
    [
        (Fault.DELAY, 1, MaybeDelivered, True),  # answered after the bot gave up
        (Fault.RESET, 1, MaybeDelivered, True),  # half an answer: nio does not repeat it
        (Fault.MALFORMED, 1, MaybeDelivered, True),
        (Fault.UNAVAILABLE, 1, TransientFailure, False),
        (Fault.LIMIT, 1, RetryLater, False),
    ],
)
async def test_failures_are_told_apart_and_a_resend_shows_the_message_once(
    proxied_bot: MatrixBot,
    proxy: FaultProxy,
    synapse: Synapse,
    matrix_person: MakePerson,
    fault: Fault,
    times: int,
    expected: type[Exception],
    stored: bool,
) -> None:
    """Whether the homeserver may have the event decides the class; either way the outbox's
    resend uses the same transaction id, so the room shows the message exactly once."""
    alice = await matrix_person(synapse, "alice")
    room = await direct_room(proxied_bot, alice)
    proxy.add(fault, times=times, seconds=3.0)
    message = OutgoingMessage(f"Hinweis {fault.value}")
    with pytest.raises(expected):
        await proxied_bot.adapter.sender.deliver(room, message, key="outbox-77")
    assert proxy.applied(fault) == times
    assert len(await messages_in(alice, room, "Hinweis")) == (1 if stored else 0)
    if fault is Fault.DELAY:
        await asyncio.sleep(3)  # the late answer has come and gone
    event_id = await proxied_bot.adapter.sender.deliver(room, message, key="outbox-77")
    assert event_id
    assert await messages_in(alice, room, "Hinweis") == [message.text]


async def test_connection_refused_is_not_sent(
    proxied_bot: MatrixBot, proxy: FaultProxy, synapse: Synapse, matrix_person: MakePerson
) -> None:
    alice = await matrix_person(synapse, "alice")
    room = await direct_room(proxied_bot, alice)
    await proxy.refuse()
    try:
        with pytest.raises(TransientFailure, match="no connection"):
            await proxied_bot.adapter.sender.deliver(room, OutgoingMessage("Hinweis"), key="o-1")
    finally:
        await proxy.resume()
    assert await messages_in(alice, room, "Hinweis") == []


async def test_a_slow_answer_gives_exactly_one_message(
    proxied_bot: MatrixBot, proxy: FaultProxy, synapse: Synapse, matrix_person: MakePerson
) -> None:
    """The answer comes after the bot's timeout (as in #13: 7 s against 5 s): the outbox
    sends again with the same transaction id, and the room holds one message."""
    alice = await matrix_person(synapse, "alice")
    room = await direct_room(proxied_bot, alice)
    proxy.add(Fault.DELAY, seconds=4.0)
    row_id = await enqueue(proxied_bot, room, "Einladung zur Sitzung", "slow")
    row = await wait_sent(proxied_bot, row_id)
    assert proxy.applied(Fault.DELAY) == 1 and row.attempts == 1  # one failed attempt
    assert proxy.requests["PUT"] == 2  # and the resend
    await asyncio.sleep(3)  # the slow answer has arrived by now
    assert await messages_in(alice, room, "Einladung") == ["Einladung zur Sitzung"]


async def test_a_reset_mid_response_gives_exactly_one_message(
    proxied_bot: MatrixBot, proxy: FaultProxy, synapse: Synapse, matrix_person: MakePerson
) -> None:
    alice = await matrix_person(synapse, "alice")
    room = await direct_room(proxied_bot, alice)
    proxy.add(Fault.RESET, times=2)
    row_id = await enqueue(proxied_bot, room, "Einladung zur Sitzung", "reset")
    row = await wait_sent(proxied_bot, row_id)
    assert proxy.applied(Fault.RESET) == 2 and row.attempts == 2
    assert proxy.requests["PUT"] == 3
    assert await messages_in(alice, room, "Einladung") == ["Einladung zur Sitzung"]


async def test_an_outage_is_waited_out_and_receiving_goes_on(
    proxied_bot: MatrixBot, proxy: FaultProxy, synapse: Synapse, matrix_person: MakePerson
) -> None:
    """Refused connections for longer than nio's own retries: queued messages go out once
    the homeserver is back, and the sync loop (receiving) is still alive afterwards."""
    alice = await matrix_person(synapse, "alice")
    room = await direct_room(proxied_bot, alice)
    await proxy.refuse()
    rows = [await enqueue(proxied_bot, room, f"Mitteilung {i}", f"outage-{i}") for i in range(3)]
    await asyncio.sleep(6)
    await proxy.resume()
    for row_id in rows:
        await wait_sent(proxied_bot, row_id, seconds=60)
    assert sorted(await messages_in(alice, room, "Mitteilung")) == [
        f"Mitteilung {i}" for i in range(3)
    ]
    await alice.say(room, "!datum 15.06.2027")
    await alice.wait(notice(proxied_bot.user_id, room, "15.06.2027"), seconds=40)


async def test_rate_limited_replies_wait_in_the_outbox_not_in_the_sync_loop(
    proxied_bot: MatrixBot, proxy: FaultProxy, synapse: Synapse, matrix_person: MakePerson
) -> None:
    """While every send is answered M_LIMIT_EXCEEDED, commands are still received at once;
    their replies are queued and arrive, each once, when the limit is over."""
    alice = await matrix_person(synapse, "alice")
    room = await direct_room(proxied_bot, alice)
    proxy.add(Fault.LIMIT, times=None, seconds=5.0)
    began = time.monotonic()
    said = [await alice.say(room, f"!datum {day}.06.2027") for day in (15, 16, 17)]
    sessions = proxied_bot.core.services.sessions
    while time.monotonic() - began < 4:  # well before two retry_after periods have passed
        async with sessions() as session:
            handled = await session.scalar(
                select(func.count()).where(ProcessedEvent.event_id.in_(said))
            )
            queued = await session.scalar(
                select(func.count()).where(OutboxMessage.purpose == "reply")
            )
        if handled == queued == 3:
            break
        await asyncio.sleep(0.1)
    assert handled == 3, "commands waited behind rate-limited replies"
    assert queued == 3, "the replies wait in the outbox"
    proxy.clear()
    for day in (15, 16, 17):
        await alice.wait(notice(proxied_bot.user_id, room, f"{day}.06.2027"), seconds=40)
    await asyncio.sleep(1)
    await alice.sync()
    answers = [e.body for e in alice.seen if isinstance(e, RoomMessageNotice)]
    assert all(sum(f"{d}.06.2027" in a for a in answers) == 1 for d in (15, 16, 17))
    assert proxied_bot.adapter.pace.limit_exceeded >= 1


async def test_a_reply_whose_answer_was_lost_is_not_shown_twice(
    proxied_bot: MatrixBot, proxy: FaultProxy, synapse: Synapse, matrix_person: MakePerson
) -> None:
    """The reply reached the homeserver but its answer was cut: the outbox sends it again
    with the first attempt's transaction id, so it is shown once."""
    alice = await matrix_person(synapse, "alice")
    room = await direct_room(proxied_bot, alice)
    proxy.add(Fault.RESET)
    await alice.say(room, "!datum 18.06.2027")
    await alice.wait(notice(proxied_bot.user_id, room, "18.06.2027"), seconds=30)
    for _ in range(100):  # the reply went out, its answer was lost: it is queued again
        async with proxied_bot.core.services.sessions() as session:
            row_id = await session.scalar(
                select(OutboxMessage.id).where(OutboxMessage.purpose == "reply")
            )
        if row_id is not None:
            break
        await asyncio.sleep(0.1)
    assert row_id is not None
    await wait_sent(proxied_bot, row_id)
    replies = await messages_in(alice, room, "", sender=proxied_bot.user_id)
    assert sum("18.06.2027" in reply for reply in replies) == 1


async def test_the_probe_asks_the_homeserver_without_sending_an_event(
    proxied_bot: MatrixBot, proxy: FaultProxy
) -> None:
    """The circuit breaker's probe on Matrix answers whether the homeserver is there and
    spends no message (no PUT /send/) and no turn of the pace."""
    sender = proxied_bot.adapter.sender
    puts = proxy.requests["PUT"]
    await sender.probe()
    await proxy.refuse()
    with pytest.raises(TransientFailure):
        await sender.probe()
    await proxy.resume()
    proxy.add(Fault.UNAVAILABLE, path="/whoami", method="GET")
    with pytest.raises(TransientFailure):
        await sender.probe()
    await sender.probe()
    assert proxy.requests["PUT"] == puts
