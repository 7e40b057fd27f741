"""The delivery worker against a scripted sender: limits, 429, 403, retries, restarts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from itertools import pairwise

import pytest
from sqlalchemy import select

from bot.core.clock import FixedClock
from bot.core.messages import EDIT_MESSAGE_ID, OutgoingMessage, UserRef
from bot.outbox.pacing import SendWindow
from bot.outbox.ports import (
    ChatMoved,
    DeliveryLimits,
    OwnPace,
    PermanentFailure,
    RecipientUnreachable,
    RetryLater,
    TransientFailure,
)
from bot.outbox.worker import DeliveryWorker, WorkerPolicy, _PlatformLimiters, backoff_seconds
from storage import outbox, people
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_to_head
from storage.models import Identity, OutboxMessage


class ScriptedSender:
    """Records deliveries; `script[chat]` may raise for the next calls to that chat."""

    platform = "test"

    def __init__(self, limits: DeliveryLimits | None = None) -> None:
        self.limits = limits or DeliveryLimits(1000, 1000, 60000)
        self.sent: list[tuple[str, str, float]] = []
        self.script: dict[str, list[Exception]] = {}
        self.on_send: Callable[[str], None] | None = None

    def is_group_chat(self, chat_id: str) -> bool:
        return chat_id.startswith("-")

    idempotent = False
    replies = None

    async def deliver(
        self, chat_id: str, message: OutgoingMessage, *, key: str | None = None
    ) -> str | None:
        failures = self.script.get(chat_id)
        if failures:
            raise failures.pop(0)
        self.sent.append((chat_id, message.text, time.monotonic()))
        return str(len(self.sent))


@pytest.fixture
async def sessions(database_url: str):
    engine = create_engine(database_url)
    await upgrade_to_head(engine)
    yield session_factory(engine)
    await engine.dispose()


def make_worker(sessions, sender: ScriptedSender, clock: FixedClock, **policy) -> DeliveryWorker:
    policy.setdefault("poll_seconds", 0.05)
    return DeliveryWorker(
        sessions, {"test": sender}, clock, WorkerPolicy(**policy), jitter=lambda: 0.5
    )


async def put(
    sessions,
    clock: FixedClock,
    key: str,
    chat_id: str | None = None,
    user_id: int | None = None,
    text: str | None = None,
) -> None:
    async with sessions.begin() as session:
        await outbox.enqueue(
            session,
            dedupe_key=key,
            purpose="test",
            platform="test",
            chat_id=chat_id,
            user_id=user_id,
            message=OutgoingMessage(text or key),
            now=clock.now(),
        )


async def statuses(sessions) -> dict[str, str]:
    async with sessions() as session:
        rows = await session.scalars(select(OutboxMessage))
        return {row.dedupe_key: row.status for row in rows}


async def test_delivers_and_marks_sent(sessions, clock: FixedClock) -> None:
    sender = ScriptedSender()
    for index in range(5):
        await put(sessions, clock, f"m{index}", chat_id=str(index % 2))
    assert await make_worker(sessions, sender, clock).run_once() == 5
    assert sorted(text for _, text, _ in sender.sent) == [f"m{i}" for i in range(5)]
    assert set((await statuses(sessions)).values()) == {"sent"}
    assert await make_worker(sessions, sender, clock).run_once() == 0  # nothing twice


async def test_messages_to_one_chat_keep_their_order(sessions, clock: FixedClock) -> None:
    sender = ScriptedSender()
    for index in range(8):
        await put(sessions, clock, f"m{index}", chat_id="7")
    await make_worker(sessions, sender, clock).run_once()
    assert [text for _, text, _ in sender.sent] == [f"m{i}" for i in range(8)]


async def test_per_chat_spacing_does_not_hold_up_other_chats(sessions, clock: FixedClock) -> None:
    sender = ScriptedSender(DeliveryLimits(1000, per_chat_per_second=10, per_group_per_minute=6000))
    for index in range(4):
        await put(sessions, clock, f"slow{index}", chat_id="7")
    await put(sessions, clock, "other", chat_id="8")
    started = time.monotonic()
    await make_worker(sessions, sender, clock).run_once()
    slow = [at for chat, _, at in sender.sent if chat == "7"]
    gaps = [later - earlier for earlier, later in pairwise(slow)]
    assert min(gaps) >= 0.09  # 10 per second in one chat: evenly spaced, no burst
    other_at = next(at for chat, _, at in sender.sent if chat == "8")
    assert other_at - started < 0.25  # not queued behind the slow chat (its 4th: 0.3 s)


async def test_group_minute_limit_spaces_messages_evenly(sessions, clock: FixedClock) -> None:
    """20 a minute means one every 3 s, not 20 at once and then 20 more in the same minute."""
    sender = ScriptedSender(
        DeliveryLimits(1000, per_chat_per_second=1000, per_group_per_minute=240)
    )
    for index in range(5):
        await put(sessions, clock, f"g{index}", chat_id="-100")
    await put(sessions, clock, "private", chat_id="100")
    await make_worker(sessions, sender, clock).run_once()
    times = [at for chat, _, at in sender.sent if chat == "-100"]
    assert min(b - a for a, b in pairwise(times)) >= 0.24  # 240 a minute: one per 0.25 s
    private = [at for chat, _, at in sender.sent if chat == "100"]
    assert private[0] - times[0] < 0.2  # private chats are not paced like groups


async def test_429_reschedules_without_counting_an_attempt(sessions, clock: FixedClock) -> None:
    sender = ScriptedSender()
    sender.script["7"] = [RetryLater(30)]
    for index in range(3):
        await put(sessions, clock, f"m{index}", chat_id="7")
    await put(sessions, clock, "elsewhere", chat_id="8")
    worker = make_worker(sessions, sender, clock)
    await worker.run_once()
    assert [text for _, text, _ in sender.sent] == ["elsewhere"]
    async with sessions() as session:
        rows = list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == "7"))
        )
    assert {r.status for r in rows} == {"pending"} and {r.attempts for r in rows} == {0}
    assert {r.next_attempt_at for r in rows} == {clock.now() + timedelta(seconds=30)}
    assert await worker.run_once() == 0  # not before retry_after
    clock.advance(timedelta(seconds=31))
    await worker.run_once()
    assert [text for chat, text, _ in sender.sent if chat == "7"] == ["m0", "m1", "m2"]


async def test_blocked_person_is_parked_and_released_on_return(sessions, clock: FixedClock) -> None:
    sender = ScriptedSender()
    async with sessions.begin() as session:
        identity = await people.upsert_identity(
            session, UserRef("test", "55", "Bernd"), clock.now(), private_chat_id="55"
        )
        user_id = identity.user_id
    await put(sessions, clock, "dm1", user_id=user_id)
    await put(sessions, clock, "dm2", user_id=user_id)
    await put(sessions, clock, "group", chat_id="-100")
    sender.script["55"] = [RecipientUnreachable("Forbidden: bot was blocked by the user")]
    worker = make_worker(sessions, sender, clock)
    await worker.run_once()
    assert [text for _, text, _ in sender.sent] == ["group"]  # the rest went on
    assert await statuses(sessions) == {
        "dm1": "waiting_for_dm",
        "dm2": "waiting_for_dm",
        "group": "sent",
    }
    async with sessions() as session:
        assert (await session.scalar(select(Identity))).unreachable_at is not None
    await put(sessions, clock, "dm3", user_id=user_id)  # while blocked: waits, no send attempt
    assert (await statuses(sessions))["dm3"] == "waiting_for_dm"
    async with sessions.begin() as session:  # the person writes to the bot again
        await people.upsert_identity(
            session, UserRef("test", "55", "Bernd"), clock.now(), private_chat_id="55"
        )
        assert (
            await outbox.release_waiting(
                session, user_id=user_id, platform="test", chat_id="55", now=clock.now()
            )
            == 3
        )
    await worker.run_once()
    assert [text for chat, text, _ in sender.sent if chat == "55"] == ["dm1", "dm2", "dm3"]


async def test_blocked_group_chat_is_marked_unreachable(sessions, clock: FixedClock) -> None:
    sender = ScriptedSender()
    sender.script["-100"] = [RecipientUnreachable("Forbidden: bot was kicked")]
    await put(sessions, clock, "a", chat_id="-100")
    await put(sessions, clock, "b", chat_id="-100")
    await make_worker(sessions, sender, clock).run_once()
    assert await statuses(sessions) == {"a": "unreachable", "b": "unreachable"}


async def test_transient_errors_back_off_then_succeed(sessions, clock: FixedClock) -> None:
    sender = ScriptedSender()
    sender.script["7"] = [TransientFailure("502"), TransientFailure("timeout")]
    await put(sessions, clock, "m", chat_id="7")
    worker = make_worker(sessions, sender, clock)
    await worker.run_once()
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row.status == "pending" and row.attempts == 1 and row.last_error == "502"
    assert row.next_attempt_at == clock.now() + timedelta(seconds=2)  # 2 s * jitter 1.0
    clock.advance(timedelta(seconds=2))
    await worker.run_once()
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row.attempts == 2 and row.next_attempt_at == clock.now() + timedelta(seconds=4)
    clock.advance(timedelta(seconds=4))
    await worker.run_once()
    assert [text for _, text, _ in sender.sent] == ["m"]


async def test_gives_up_after_max_attempts_and_on_permanent_errors(
    sessions, clock: FixedClock
) -> None:
    sender = ScriptedSender()
    sender.script["7"] = [TransientFailure("down")] * 3
    sender.script["8"] = [PermanentFailure("Bad Request: message is too long")]
    await put(sessions, clock, "flaky", chat_id="7")
    await put(sessions, clock, "bad", chat_id="8")
    worker = make_worker(sessions, sender, clock, max_attempts=3)
    for _ in range(4):
        await worker.run_once()
        clock.advance(timedelta(hours=1))
    assert await statuses(sessions) == {"flaky": "failed", "bad": "failed"}
    assert sender.sent == []


async def test_an_adapter_bug_does_not_stop_the_worker(sessions, clock: FixedClock) -> None:
    sender = ScriptedSender()
    sender.script["7"] = [KeyError("oops")]
    await put(sessions, clock, "a", chat_id="7")
    await put(sessions, clock, "b", chat_id="8")
    await make_worker(sessions, sender, clock).run_once()
    assert await statuses(sessions) == {"a": "pending", "b": "sent"}


def test_backoff_grows_exponentially_and_is_capped() -> None:
    policy = WorkerPolicy()
    assert [backoff_seconds(n, policy, lambda: 0.5) for n in (1, 2, 3)] == [2, 4, 8]
    assert backoff_seconds(30, policy, lambda: 0.5) == 3600
    assert backoff_seconds(1, policy, lambda: 0.0) == pytest.approx(1.6)  # ±20 % jitter
    assert backoff_seconds(1, policy, lambda: 1.0) == pytest.approx(2.4)


async def test_run_loop_wakes_on_enqueue_and_stops_cleanly(sessions, clock: FixedClock) -> None:
    sender = ScriptedSender()
    worker = make_worker(sessions, sender, clock, poll_seconds=30)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.1)
    await put(sessions, clock, "now", chat_id="7")
    worker.wake()
    for _ in range(100):
        if sender.sent:
            break
        await asyncio.sleep(0.02)
    assert [text for _, text, _ in sender.sent] == ["now"]
    stop.set()
    await asyncio.wait_for(task, timeout=5)


async def test_stop_hands_queued_rows_back(sessions, clock: FixedClock) -> None:
    sender = ScriptedSender(DeliveryLimits(1000, per_chat_per_second=5, per_group_per_minute=600))
    for index in range(10):
        await put(sessions, clock, f"m{index}", chat_id="7")
    worker = make_worker(sessions, sender, clock)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    states = await statuses(sessions)
    assert 1 <= list(states.values()).count("sent") < 10
    assert set(states.values()) == {"sent", "pending"}  # nothing left leased to a dead worker
    await make_worker(sessions, sender, clock).run_once()
    assert [text for _, text, _ in sender.sent] == [f"m{i}" for i in range(10)]


async def test_a_moved_chat_is_followed(sessions, clock: FixedClock) -> None:
    """Telegram turned the group into a supergroup: messages and the registration follow."""
    from storage.models import Group, GroupChat

    async with sessions.begin() as session:
        group = Group(
            name="AG", kind="ag", timezone="Europe/Berlin", language="de", created_at=clock.now()
        )
        group.chats.append(GroupChat(platform="test", chat_id="-100", created_at=clock.now()))
        session.add(group)
    sender = ScriptedSender()
    sender.script["-100"] = [ChatMoved("-1009")]
    await put(sessions, clock, "a", chat_id="-100")
    await put(sessions, clock, "b", chat_id="-100")
    worker = make_worker(sessions, sender, clock)
    await worker.run_once()
    await worker.run_once()
    assert [(chat, text) for chat, text, _ in sender.sent] == [("-1009", "a"), ("-1009", "b")]
    async with sessions() as session:
        assert await session.scalar(select(GroupChat.chat_id)) == "-1009"


async def test_a_crashed_chat_queue_is_taken_again_after_its_lease(
    sessions, clock: FixedClock
) -> None:
    """An unexpected error outside the sender (e.g. the database) must not strand rows."""
    sender = ScriptedSender()
    await put(sessions, clock, "a", chat_id="7")
    await put(sessions, clock, "b", chat_id="7")
    worker = make_worker(sessions, sender, clock, lease=timedelta(seconds=60))
    original = worker._deliver_one
    calls = 0

    async def flaky(delivery):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database went away")
        return await original(delivery)

    worker._deliver_one = flaky  # type: ignore[method-assign]
    await worker.run_once()
    assert sender.sent == []
    assert await worker.run_once() == 0  # still leased: nobody takes them yet
    clock.advance(timedelta(seconds=61))
    await worker.run_once()
    assert [text for _, text, _ in sender.sent] == ["a", "b"]


def test_send_window_counts_the_trailing_period() -> None:
    window = SendWindow(3, period=1.0)
    for at in (0.0, 0.1, 0.2):
        assert window.delay(at) == 0
        window.record(at)
    assert window.delay(0.5) == pytest.approx(0.5)  # the send at 0.0 leaves the window at 1.0
    assert window.delay(1.0) == 0
    window.record(1.0)
    assert window.delay(1.05) == pytest.approx(0.05)  # now 0.1, 0.2 and 1.0 are in it


async def test_requests_in_flight_count_until_answered() -> None:
    """A request that is slow to arrive still counts: until its answer, then from then on."""
    window, replies = SendWindow(2), SendWindow(30)
    loop = asyncio.get_running_loop()
    async with window.slot():
        async with replies.slot(wait=False):  # a reply never waits, but counts
            assert window.delay(loop.time(), others=(replies,)) > 0
        assert window.delay(loop.time()) == 0  # on its own, one place is left
    started = loop.time()
    assert window.delay(started) == 0
    window.record(started)
    assert window.delay(started) == pytest.approx(1.0, abs=0.05)  # both answered just now


async def test_a_chunks_pacing_stopped_halfway_gives_back_only_what_it_took() -> None:
    """A chunk's rows wait for their places in turn; stopped while waiting (the worker
    stops), the places already taken go back, or the window would stay full for good."""
    limiters = _PlatformLimiters(DeliveryLimits(2, 1000, 60000))  # 2 a second
    waiting = asyncio.create_task(
        limiters.slots([("a", False), ("b", False), ("c", False)]).__aenter__()
    )
    await asyncio.sleep(0.05)  # a and b have their places, c waits for the rate
    assert limiters.window._in_flight == 2 and not waiting.done()
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    assert limiters.window._in_flight == 0


async def test_global_rate_holds_in_every_trailing_second(sessions, clock: FixedClock) -> None:
    """However the token bucket and slow commits bunch sends, no second exceeds the limit."""
    sender = ScriptedSender(DeliveryLimits(20, per_chat_per_second=1, per_group_per_minute=20))
    for index in range(50):
        await put(sessions, clock, f"m{index}", chat_id=str(1000 + index))
    await make_worker(sessions, sender, clock).run_once()
    times = sorted(at for _, _, at in sender.sent)
    assert len(times) == 50
    busiest = max(sum(1 for other in times if start <= other < start + 1.0) for start in times)
    assert busiest <= 20
    assert times[-1] - times[0] < 50 / 20 + 0.5  # and the rate is still the limit


async def interrupted_after_the_attempt(sessions, clock: FixedClock) -> None:
    """What a process killed mid-request leaves: claimed rows with the attempt committed."""
    async with sessions.begin() as session:
        claimed = await outbox.claim_due(
            session, owner="dead", now=clock.now(), lease=timedelta(seconds=60), limit=100
        )
        for row in claimed:
            await outbox.start_attempt(
                session, row.id, owner="dead", now=clock.now(), lease=timedelta(seconds=60)
            )
    clock.advance(timedelta(seconds=61))


async def test_an_interrupted_delivery_is_uncertain_unless_a_repeat_is_harmless(
    sessions, clock: FixedClock
) -> None:
    await put(sessions, clock, "plain", chat_id="7")
    async with sessions.begin() as session:
        await outbox.enqueue(
            session,
            dedupe_key="edit",
            purpose="test",
            platform="test",
            chat_id="8",
            message=OutgoingMessage("new text", extra={EDIT_MESSAGE_ID: "41"}),
            now=clock.now(),
        )
    await interrupted_after_the_attempt(sessions, clock)
    sender = ScriptedSender()
    await make_worker(sessions, sender, clock).run_once()
    assert [text for _, text, _ in sender.sent] == ["new text"]  # an edit just sets it again
    assert await statuses(sessions) == {"plain": "uncertain", "edit": "sent"}


async def test_an_idempotent_platform_gets_the_interrupted_delivery_again_with_its_key(
    sessions, clock: FixedClock
) -> None:
    await put(sessions, clock, "plain", chat_id="7")
    await interrupted_after_the_attempt(sessions, clock)
    sender = ScriptedSender()
    sender.idempotent = True
    keys: list[str | None] = []
    deliver = sender.deliver

    async def remember_key(chat_id, message, *, key=None):  # type: ignore[no-untyped-def]
        keys.append(key)
        return await deliver(chat_id, message, key=key)

    sender.deliver = remember_key  # type: ignore[method-assign]
    await make_worker(sessions, sender, clock).run_once()
    assert await statuses(sessions) == {"plain": "sent"}
    async with sessions() as session:
        row_id = await session.scalar(select(OutboxMessage.id))
    assert keys == [f"outbox-{row_id}"]  # the same key as the interrupted attempt had


async def test_direct_replies_count_against_the_platform_ceiling(
    sessions, clock: FixedClock
) -> None:
    """Replies never wait; the worker yields to them so that together they stay below it."""
    sender = ScriptedSender(
        DeliveryLimits(20, per_chat_per_second=1, per_group_per_minute=20, ceiling_per_second=20)
    )
    sender.replies = SendWindow(30)
    for index in range(30):
        await put(sessions, clock, f"m{index}", chat_id=str(1000 + index))
    worker = make_worker(sessions, sender, clock)
    started = time.monotonic()
    now = asyncio.get_running_loop().time()
    for _ in range(12):  # a busy moment: twelve command replies just went out
        sender.replies.record(now)
    await worker.run_once()
    first_second = [at for _, _, at in sender.sent if at - started < 0.95]
    assert len(first_second) <= 20 - 12
    assert len(sender.sent) == 30


async def test_the_bots_own_pace_is_not_logged_as_a_refusal(
    sessions, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A delivery handed back by the bot's own pace waits like one after a 429, but the log
    does not claim the platform refused it (only a real 429 says "rate limited")."""
    sender = ScriptedSender()
    sender.script["7"] = [OwnPace(4)]
    sender.script["8"] = [RetryLater(4)]
    await put(sessions, clock, "own", chat_id="7")
    await put(sessions, clock, "refused", chat_id="8")
    with caplog.at_level(logging.INFO, logger="bot.outbox.worker"):
        await make_worker(sessions, sender, clock).run_once()
    lines = {r.getMessage(): r.levelno for r in caplog.records}
    assert lines == {
        "chat 7 waits for the bot's own pace (nothing refused): next turn in 4.0s": logging.INFO,
        "rate limited on chat 8: retry in 4.0s": logging.WARNING,
    }
    async with sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage)))
    assert {r.next_attempt_at for r in rows} == {clock.now() + timedelta(seconds=4)}
    assert {(r.status, r.attempts) for r in rows} == {("pending", 0)}


async def test_the_database_down_inside_an_idempotent_sender_is_no_delivery_error(
    sessions, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A sender that reads the database (Matrix: whose room this is) while it restarts: the
    row waits as it was (no attempt, the platform's breaker not told), the outage is logged
    once, not as an adapter bug per row, and the message goes out once it is back."""
    sender = ScriptedSender()
    sender.idempotent = True
    sender.script["7"] = [ConnectionRefusedError(111, "database down") for _ in range(6)]
    for index in range(6):
        await put(sessions, clock, f"m{index}", chat_id="7")
    worker = make_worker(sessions, sender, clock)
    with caplog.at_level(logging.INFO, logger="bot.outbox.worker"):
        for _ in range(6):
            await worker.run_once()
    assert sender.sent == []
    assert "unexpected delivery error" not in caplog.text
    assert caplog.text.count("cannot reach the outbox") == 1
    assert worker.breaker_state("test") == "closed"
    async with sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage)))
    assert {(r.status, r.attempts) for r in rows} == {("pending", 0)}
    await worker.run_once()
    assert [text for _, text, _ in sender.sent] == [f"m{index}" for index in range(6)]


class BatchingSender(ScriptedSender):
    """Sends rows in chunks (as the e-mail sender does); waits for `go` before each chunk."""

    def __init__(self, limits: DeliveryLimits | None = None) -> None:
        super().__init__(limits)
        self.go = asyncio.Event()

    async def deliver_many(
        self, items: list[tuple[str, OutgoingMessage, str]]
    ) -> list[str | Exception]:
        await self.go.wait()
        results: list[str | Exception] = []
        for chat_id, message, key in items:
            await asyncio.sleep(0.001)  # a request's round trip
            try:
                results.append(str(await self.deliver(chat_id, message, key=key)))
            except Exception as exc:
                results.append(exc)
        return results


async def test_a_batching_platform_claims_no_more_while_a_batch_waits(
    sessions, clock: FixedClock
) -> None:
    """Claiming on at every poll leased a whole backlog to one process (nothing left for a
    second one, all of it waiting for its lease after a crash): while a claim's worth of a
    batching platform's rows waits in memory, no more are claimed, and the drain wakes the
    loop once they run low, so the backlog still goes out without waiting for the poll."""
    sender = BatchingSender()
    for index in range(300):
        await put(sessions, clock, f"m{index:03}", chat_id=str(1000 + index))
    worker = make_worker(sessions, sender, clock, batch_size=50, poll_seconds=30)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    for _ in range(5):  # the loop claims again at once after a full claim
        await asyncio.sleep(0.05)
        worker.wake()
    leased = list((await statuses(sessions)).values()).count("sending")
    assert leased <= 2 * 50  # one claim, one more once a chunk left the queue: not 300
    sender.go.set()
    for _ in range(200):  # the poll is 30 s: only the drain's wake-ups can get this done
        if len(sender.sent) == 300:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert sorted(text for _, text, _ in sender.sent) == [f"m{index:03}" for index in range(300)]
    assert set((await statuses(sessions)).values()) == {"sent"}


async def test_stopping_with_a_chunk_waiting_for_its_pace_hands_its_rows_back(
    sessions, clock: FixedClock
) -> None:
    """The next chunk waits for its pacing while one is sent; a stop at any moment leaves
    no row leased to the stopped worker, and the next one sends the rest exactly once."""
    sender = BatchingSender(DeliveryLimits(400, 1000, 60000))  # chunks of 20, paced
    sender.go.set()
    for index in range(200):
        await put(sessions, clock, f"m{index:03}", chat_id=str(1000 + index % 150))
    worker = make_worker(sessions, sender, clock, batch_size=100)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    for _ in range(200):
        if len(sender.sent) >= 30:
            break
        await asyncio.sleep(0.005)
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    states = await statuses(sessions)
    assert 30 <= list(states.values()).count("sent") < 200
    assert set(states.values()) == {"sent", "pending"}
    await make_worker(sessions, sender, clock).run_once()
    await make_worker(sessions, sender, clock).run_once()
    texts = [text for _, text, _ in sender.sent]
    assert sorted(texts) == [f"m{index:03}" for index in range(200)]  # each exactly once
    for chat in range(150):  # and each chat's rows in their order
        mine = [t for t in texts if int(t[1:]) % 150 == chat]
        assert mine == sorted(mine)


async def test_a_failed_row_holds_its_chats_later_rows_back_from_the_next_chunk(
    sessions, clock: FixedClock
) -> None:
    """The chunk waiting ahead never holds a chat of the chunk being sent: when that chat's
    row fails, its later rows wait with it instead of going out before it."""
    sender = BatchingSender(DeliveryLimits(400, 1000, 60000))
    sender.go.set()
    sender.script["1000"] = [TransientFailure("try later")]
    for index in range(60):
        await put(sessions, clock, f"m{index:02}", chat_id=str(1000 + index % 10))
    await make_worker(sessions, sender, clock).run_once()
    texts = [text for _, text, _ in sender.sent]
    assert not [t for t in texts if int(t[1:]) % 10 == 0]  # chat 1000: nothing before its first
    assert len(texts) == 54
