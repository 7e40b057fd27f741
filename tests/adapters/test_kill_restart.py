"""kill -9 the bot at random moments during a delivery run, several times, and restart it.

The real `python -m bot` process runs against the fake Telegram API (with Telegram's flood
limits) served from this test process. The run mixes queued direct messages with meeting
reminders that the scheduler's sweep finds due during the run, so both the sweep and the
outbox are killed mid-way.

What must hold: no message ever arrives twice; every message arrives, except one that was
being sent at the moment of a kill and that the outbox then marks `uncertain` instead of
resending (Telegram cannot tell whether it got it; see storage/outbox.py) – such a message
arrived at most once and is reported to the admins, never silently lost.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.app import Core
from bot.core.messages import OutgoingMessage, UserRef
from bot.core.settings import load_settings
from storage import outbox, people
from storage.models import Meeting, Membership, OutboxMessage, Rsvp
from tests.fake_telegram import FakeTelegram
from tests.telegram_bot import bot_process_env, start_bot_process

DIRECT = 120  # queued direct messages, one per person
ATTENDEES = 60  # of those people, who said yes to a meeting (one reminder each)
KILLS = 4
FIRST = 7000


async def seed(db: Path, fake: FakeTelegram) -> None:
    """People with open private chats, their messages, and a meeting whose one-hour
    reminder falls due a few seconds into the run (real time: the process's clock)."""
    core = await Core.create(load_settings(_env_file=None, database_url=f"sqlite:///{db}"))
    now = core.services.clock.now()
    async with core.services.sessions.begin() as session:
        users = []
        for index in range(DIRECT):
            chat = FIRST + index
            fake.add_user(chat, f"P{index}", f"p{index}", started=True)
            identity = await people.upsert_identity(
                session, UserRef("telegram", str(chat), f"P{index}"), now, private_chat_id=str(chat)
            )
            users.append(identity.user_id)
            await outbox.enqueue(
                session,
                dedupe_key=f"direct:{chat}",
                purpose="notice",
                platform="telegram",
                message=OutgoingMessage(f"Nachricht {index}"),
                now=now,
                user_id=identity.user_id,
            )
        creator = await people.user_by_id(session, users[0])
        group = await people.create_group(
            session,
            name="AG Transfer",
            kind="ag",
            timezone="Europe/Berlin",
            language="de",
            platform="telegram",
            chat_id="-100500",
            chat_title="AG Transfer",
            creator=creator,
            now=now,
        )
        meeting = Meeting(
            group_id=group.id,
            number=1,
            title="Sitzung",
            starts_at=now + timedelta(hours=1, seconds=8),
            ends_at=None,
            location=None,
            status="scheduled",
            created_at=now,
            updated_at=now,
            created_by_user_id=users[0],
        )
        session.add(meeting)
        await session.flush()
        for user_id in users[:ATTENDEES]:
            if user_id != users[0]:
                session.add(Membership(group_id=group.id, user_id=user_id, created_at=now))
            session.add(Rsvp(meeting_id=meeting.id, user_id=user_id, answer="yes", answered_at=now))
    await core.close()


def delivered(fake: FakeTelegram) -> Counter[tuple[int, str]]:
    return Counter(
        (m.chat_id, "reminder" if m.text.startswith("Erinnerung") else "direct")
        for m in fake.sent
        if m.text.startswith(("Erinnerung", "Nachricht"))
    )


async def test_random_kill_9_during_delivery_never_sends_twice(tmp_path: Path) -> None:
    seed_value = int(os.environ.get("KILL_TEST_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed_value)
    db = tmp_path / "bot.db"
    expected = {(FIRST + i, "direct") for i in range(DIRECT)} | {
        (FIRST + i, "reminder") for i in range(ATTENDEES)
    }
    async with FakeTelegram() as fake:
        fake.rate_limits(enabled=True)  # Telegram's limits: 30/s overall, 1/s per chat
        await seed(db, fake)
        env = bot_process_env(fake, db) | {
            "OUTBOX_GLOBAL_PER_SECOND": "25",
            "SCHEDULER_SWEEP_SECONDS": "1",
            "REMINDER_MEETING_OFFSETS": "1h",
            "ADMIN_USERS": f"telegram:{FIRST}",  # told about uncertain messages
        }
        started_at = datetime.now(UTC)
        kills = 0
        for _ in range(KILLS):
            before = sum(delivered(fake).values())
            process = await start_bot_process(env, tmp_path)
            try:
                await fake.wait_until(
                    lambda before=before: sum(delivered(fake).values()) >= before + 5,
                    timeout=30,
                    what="deliveries after a restart",
                )
                await asyncio.sleep(rng.uniform(0.0, 1.5))
            except AssertionError:
                if process.returncode is not None:  # it died by itself: say why
                    _, stderr = await process.communicate()
                    raise AssertionError(
                        f"seed={seed_value}: the bot exited with {process.returncode}:\n"
                        + stderr.decode()[-3000:]
                    ) from None
                raise
            finally:
                if process.returncode is None:
                    process.send_signal(signal.SIGKILL)
                await process.wait()
            kills += 1
        assert sum(delivered(fake).values()) < len(expected), "all sent before the last kill"

        last = await start_bot_process(env, tmp_path)
        try:
            core = await Core.create(load_settings(_env_file=None, database_url=f"sqlite:///{db}"))
            try:
                for _ in range(300):
                    async with core.services.sessions() as session:
                        everything = list(await session.scalars(select(OutboxMessage)))
                    reports = [r for r in everything if r.purpose == "outbox_uncertain"]
                    rows = [r for r in everything if r not in reports]
                    open_rows = [r for r in everything if r.status not in ("sent", "uncertain")]
                    unreported = [r for r in rows if r.status == "uncertain" and not r.reported_at]
                    reminders = [r for r in rows if r.purpose == "reminder_meeting"]
                    if len(reminders) == ATTENDEES and not open_rows and not unreported:
                        break
                    await asyncio.sleep(0.2)
            finally:
                await core.close()
        finally:
            last.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(last.communicate(), timeout=20)
        assert last.returncode == 0, stderr.decode()

    counts = delivered(fake)
    chats = {row.id: int(row.chat_id or 0) for row in rows}
    kind = {row.id: "reminder" if row.purpose == "reminder_meeting" else "direct" for row in rows}
    uncertain = {(chats[r.id], kind[r.id]) for r in rows if r.status == "uncertain"}
    twice = [key for key, count in counts.items() if count > 1]
    missing = expected - set(counts)
    summary = (
        f"seed={seed_value} kills={kills} rows={len(rows)} uncertain={sorted(uncertain)} "
        f"missing={sorted(missing)} twice={twice} "
        f"took={(datetime.now(UTC) - started_at).total_seconds():.1f}s"
    )
    print(summary)
    assert not open_rows, summary
    assert len(rows) == DIRECT + ATTENDEES, summary  # each reminder queued exactly once
    assert not twice, summary  # never twice, whatever the moment of the kill
    assert set(counts) <= expected, summary
    assert missing <= uncertain, summary  # nothing lost silently: admins are told
    assert not unreported, summary
    assert all(r.status == "sent" for r in reports), summary
    assert len(uncertain) <= kills, summary  # at most the one in flight per kill
