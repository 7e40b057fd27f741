"""The delivery worker against a platform that misbehaves: answers lost after the request
went out, outages waited out in order, messages that outlive their use."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import select

from bot.core.clock import FixedClock
from bot.core.messages import OutgoingMessage
from bot.core.platform_outage import NoticeKind, PlatformNotice
from bot.outbox.breaker import BreakerState
from bot.outbox.ports import MaybeDelivered, PermanentFailure, TransientFailure
from bot.outbox.worker import DeliveryWorker, WorkerPolicy
from storage import outbox
from storage.models import OutboxMessage
from tests.outbox.test_outbox import ScriptedSender, put, sessions, statuses

__all__ = ["sessions"]  # the fixture, shared with test_outbox


class FlakyPlatform(ScriptedSender):
    """A ScriptedSender whose whole platform can be down (every request: a 500); records
    the key of every request."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.keys: list[str | None] = []
        self.requests = 0

    async def deliver(self, chat_id: str, message: OutgoingMessage, *, key: str | None = None):
        self.requests += 1
        self.keys.append(key)
        if self.down:
            raise TransientFailure("Internal Server Error (500)")
        return await super().deliver(chat_id, message, key=key)


class ProbingPlatform(FlakyPlatform):
    """One that can be asked whether it answers without sending anything (like getMe)."""

    def __init__(self) -> None:
        super().__init__()
        self.probes = 0

    async def probe(self) -> None:
        self.probes += 1
        if self.down:
            raise TransientFailure("Internal Server Error (500)")


def worker_for(sessions, sender, clock: FixedClock, notices=None, **policy) -> DeliveryWorker:
    policy.setdefault("poll_seconds", 0.05)

    async def notify(notice: PlatformNotice) -> None:
        notices.append(notice)

    return DeliveryWorker(
        sessions,
        {"test": sender},
        clock,
        WorkerPolicy(**policy),
        jitter=lambda: 0.5,
        notify=notify if notices is not None else None,
    )


async def rows(sessions) -> dict[str, OutboxMessage]:
    async with sessions() as session:
        return {r.dedupe_key: r for r in await session.scalars(select(OutboxMessage))}


async def test_a_lost_answer_is_uncertain_and_never_sent_again(sessions, clock) -> None:
    sender = FlakyPlatform()
    sender.script["7"] = [MaybeDelivered("Timed out reading the answer")]
    await put(sessions, clock, "first", chat_id="7")
    await put(sessions, clock, "second", chat_id="7")
    worker = worker_for(sessions, sender, clock)
    await worker.run_once()
    for _ in range(3):
        clock.advance(timedelta(hours=1))
        await worker.run_once()
    stored = await rows(sessions)
    assert stored["first"].status == "uncertain" and stored["first"].reported_at is None
    assert "Timed out" in (stored["first"].last_error or "")
    assert stored["second"].status == "sent"
    assert sender.keys.count(f"outbox-{stored['first'].id}") == 1  # asked once, never again


async def test_a_lost_answer_on_an_idempotent_platform_is_asked_again_with_its_key(
    sessions, clock
) -> None:
    sender = FlakyPlatform()
    sender.idempotent = True
    sender.script["7"] = [MaybeDelivered("connection reset")]
    await put(sessions, clock, "m", chat_id="7")
    worker = worker_for(sessions, sender, clock)
    await worker.run_once()
    assert (await statuses(sessions)) == {"m": "pending"}
    clock.advance(timedelta(minutes=5))
    await worker.run_once()
    row = (await rows(sessions))["m"]
    assert row.status == "sent"
    assert sender.keys == [f"outbox-{row.id}"] * 2  # the same transaction id both times


async def test_an_outage_is_waited_out_then_everything_goes_out_in_order(sessions, clock) -> None:
    """Ten minutes of 500s: nothing fails, nothing burns attempts, and when the platform
    answers again every message goes out once, each chat in its order; admins get one
    notice of the outage and one of its end, with counts."""
    sender = FlakyPlatform()
    notices: list[PlatformNotice] = []
    for index in range(12):
        await put(sessions, clock, f"m{index:02}", chat_id=str(index % 3))
    sender.down = True
    worker = worker_for(
        sessions, sender, clock, notices, max_attempts=3, outage_notice_after=timedelta(minutes=2)
    )
    for _ in range(40):  # 10 minutes of polls, 15 s apart
        await worker.run_once()
        clock.advance(timedelta(seconds=15))
    assert worker.breaker_state("test") is not BreakerState.CLOSED
    assert sender.requests < 40  # a probe now and then, not every message every time
    stored = await rows(sessions)
    assert {r.status for r in stored.values()} == {"pending"}
    assert {r.attempts for r in stored.values()} == {0}
    assert [n.kind for n in notices] == [NoticeKind.UNREACHABLE]

    sender.down = False
    for _ in range(10):
        await worker.run_once()
        clock.advance(timedelta(seconds=5))
    assert set((await statuses(sessions)).values()) == {"sent"}
    by_chat: dict[str, list[str]] = defaultdict(list)
    for chat, text, _ in sender.sent:
        by_chat[chat].append(text)
    assert sorted(t for texts in by_chat.values() for t in texts) == [
        f"m{i:02}" for i in range(12)
    ]  # each exactly once
    for texts in by_chat.values():
        assert texts == sorted(texts)  # in order
    assert [n.kind for n in notices] == [NoticeKind.UNREACHABLE, NoticeKind.RECOVERED]
    recovered = notices[1]
    assert recovered.queued == 12 and recovered.delivered_late >= 11
    assert recovered.expired == 0 and recovered.uncertain == 0
    assert recovered.until is not None and recovered.until > recovered.since


async def test_a_platform_that_can_be_probed_gets_no_message_while_it_is_down(
    sessions, clock
) -> None:
    sender = ProbingPlatform()
    for index in range(6):
        await put(sessions, clock, f"m{index}", chat_id=str(index))
    sender.down = True
    worker = worker_for(sessions, sender, clock)
    await worker.run_once()  # the first requests fail and open the breaker
    during = sender.requests
    for _ in range(20):
        clock.advance(timedelta(seconds=10))
        await worker.run_once()
    assert sender.requests == during  # only probes asked
    assert sender.probes >= 3
    sender.down = False
    clock.advance(timedelta(seconds=60))
    await worker.run_once()
    await worker.run_once()
    assert set((await statuses(sessions)).values()) == {"sent"}


async def test_a_short_outage_tells_nobody(sessions, clock) -> None:
    sender = FlakyPlatform()
    notices: list[PlatformNotice] = []
    for index in range(6):
        await put(sessions, clock, f"m{index}", chat_id=str(index))
    sender.down = True
    worker = worker_for(sessions, sender, clock, notices)
    await worker.run_once()
    sender.down = False
    for _ in range(5):
        clock.advance(timedelta(seconds=30))
        await worker.run_once()
    assert set((await statuses(sessions)).values()) == {"sent"}
    assert notices == []


async def test_only_a_messages_own_errors_count_as_its_attempts(sessions, clock) -> None:
    """A 400 for one message fails it at once; a 500 for one message while others go
    through counts as one of its attempts."""
    sender = FlakyPlatform()
    sender.script["1"] = [PermanentFailure("Bad Request: message is too long")]
    sender.script["2"] = [TransientFailure("Internal Server Error (500)")]
    for chat in "12345678":
        await put(sessions, clock, f"m{chat}", chat_id=chat)
    await worker_for(sessions, sender, clock).run_once()
    stored = await rows(sessions)
    assert stored["m1"].status == "failed"
    assert stored["m2"].status == "pending" and stored["m2"].attempts == 1
    assert {stored[f"m{c}"].status for c in "345678"} == {"sent"}


async def test_a_message_that_outlived_its_use_expires_with_a_record(sessions, clock) -> None:
    """A meeting reminder held up past the meeting's start is not sent; an invitation
    held up just as long still is."""
    sender = FlakyPlatform()
    starts = clock.now() + timedelta(minutes=30)
    async with sessions.begin() as session:
        for key, purpose, expires in (
            ("reminder", "reminder_meeting", starts),
            ("invitation", "meeting_invitation", None),
        ):
            await outbox.enqueue(
                session,
                dedupe_key=key,
                purpose=purpose,
                platform="test",
                chat_id="7",
                message=OutgoingMessage(key),
                now=clock.now(),
                expires_at=expires,
            )
    clock.advance(timedelta(hours=3))
    await worker_for(sessions, sender, clock).run_once()
    stored = await rows(sessions)
    assert stored["reminder"].status == "expired"
    assert "no longer useful" in (stored["reminder"].last_error or "")
    assert stored["invitation"].status == "sent"
    assert [text for _, text, _ in sender.sent] == ["invitation"]
