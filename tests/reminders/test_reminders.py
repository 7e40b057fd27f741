"""Meeting reminders end to end through the dispatcher and the sweep (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.app import Core
from bot.core.clock import FixedClock
from bot.core.settings import load_settings
from handlers.reminders.sweep import sweep_meeting_reminders
from storage.models import OutboxMessage, ReminderLog
from tests.harness import Conversation, dm, outbox_rows, person, registered_ag_transfer
from tests.postgres import PostgresCluster

anna, bernd, clara, dora = person("anna"), person("bernd"), person("clara"), person("dora")


@pytest.fixture
async def chat(chat: Conversation) -> Conversation:
    """Anna, Bernd, Clara and Dora have opened their private chats."""
    for who in (anna, bernd, clara, dora):
        await chat.say(who, "/start", dm(who))
    return chat


async def reminders(core: Core, purpose: str = "reminder_meeting") -> list[OutboxMessage]:
    """The meeting reminders queued so far (or the outbox rows of another purpose)."""
    return await outbox_rows(core, purpose)


async def sweep_at(core: Core, instant: datetime) -> int:
    clock: FixedClock = core.services.clock  # type: ignore[assignment]
    clock.set(instant)
    return await sweep_meeting_reminders(core.services, clock.now())


def recipients(rows: list[OutboxMessage]) -> list[str]:
    return [row.chat_id or "" for row in rows]


async def meeting_with_answers(chat: Conversation, when: str = "15.06.2021 9-12 Uhr") -> None:
    await chat.say(anna, f'/sitzung {when} "AG-Sitzung" | https://meet.example.org/ag')
    await chat.say(bernd, "/zusage 1 ja")
    await chat.say(clara, "/zusage 1 vielleicht")
    await chat.say(dora, "/zusage 1 nein")


async def test_one_day_and_one_hour_before_to_yes_and_maybe_once(
    chat: Conversation, core: Core
) -> None:
    await meeting_with_answers(chat)  # 15.06.2021 9:00 Berlin = 07:00 UTC
    assert await sweep_at(core, datetime(2021, 6, 14, 6, 59, tzinfo=UTC)) == 0
    assert await sweep_at(core, datetime(2021, 6, 14, 7, 0, tzinfo=UTC)) == 2
    rows = await reminders(core)
    assert sorted(recipients(rows)) == ["bernd", "clara"]
    assert "Erinnerung: AG-Sitzung – Di, 15.06.2021, 9:00–12:00 Uhr" in rows[0].payload["text"]
    assert "https://meet.example.org/ag" in rows[0].payload["text"]
    for minute in range(1, 5):  # later sweeps, or a repeated one, change nothing
        assert await sweep_at(core, datetime(2021, 6, 14, 7, minute, tzinfo=UTC)) == 0
    assert await sweep_at(core, datetime(2021, 6, 15, 6, 0, tzinfo=UTC)) == 2
    assert await sweep_at(core, datetime(2021, 6, 15, 6, 30, tzinfo=UTC)) == 0
    assert len(await reminders(core)) == 4


async def test_english_speakers_get_english_reminders_in_their_zone(
    chat: Conversation, core: Core
) -> None:
    await chat.say(bernd, "/language en", dm(bernd))
    await chat.say(bernd, "/timezone Europe/London", dm(bernd))
    await meeting_with_answers(chat)
    await sweep_at(core, datetime(2021, 6, 14, 7, 0, tzinfo=UTC))
    [row] = [r for r in await reminders(core) if r.chat_id == "bernd"]
    assert row.payload["text"].startswith("Reminder: AG-Sitzung – Tue 2021-06-15, 08:00")


async def test_muted_people_get_none_until_they_unmute(chat: Conversation, core: Core) -> None:
    assert "Stumm" in await chat.text(bernd, "/stumm sitzungen", dm(bernd))
    await meeting_with_answers(chat)
    await sweep_at(core, datetime(2021, 6, 14, 7, 0, tzinfo=UTC))
    assert recipients(await reminders(core)) == ["clara"]
    assert "sitzungen" in (await chat.text(bernd, "/erinnerungen", dm(bernd))).lower()
    assert "wieder an" in await chat.text(bernd, "/laut alle", dm(bernd))
    await sweep_at(core, datetime(2021, 6, 15, 6, 0, tzinfo=UTC))
    assert sorted(recipients(await reminders(core))) == ["bernd", "clara", "clara"]


async def test_group_and_personal_times(chat: Conversation, core: Core) -> None:
    assert "nur Vorsitzende" in await chat.text(bernd, "/erinnerungszeiten 2Std")
    assert "2Std" in await chat.text(anna, "/erinnerungszeiten 2Std")  # the group's
    assert "1T" in await chat.text(clara, "/erinnerungszeiten 1T", dm(clara))  # her own
    assert "Minuten" in await chat.text(clara, "/erinnerungszeiten morgen", dm(clara))
    await meeting_with_answers(chat)
    await sweep_at(core, datetime(2021, 6, 14, 7, 0, tzinfo=UTC))  # one day before
    assert recipients(await reminders(core)) == ["clara"]
    await sweep_at(core, datetime(2021, 6, 15, 5, 0, tzinfo=UTC))  # two hours before
    assert recipients(await reminders(core)) == ["clara", "bernd"]
    shown = await chat.text(bernd, "/erinnerungen")
    assert "Diese Gruppe: 2Std vor Beginn" in shown
    await chat.say(anna, "/erinnerungszeiten standard")
    assert "1T, 1Std vor Beginn" in await chat.text(bernd, "/erinnerungen")


async def test_after_downtime_late_ones_are_sent_once_and_too_late_ones_reported(
    chat: Conversation, core: Core
) -> None:
    await meeting_with_answers(chat)
    await sweep_at(core, datetime(2021, 6, 13, 7, 0, tzinfo=UTC))  # the bot runs …
    # … then is down until 2 hours after the one-day reminder was due: still useful
    assert await sweep_at(core, datetime(2021, 6, 14, 9, 0, tzinfo=UTC)) == 2
    # … and down again through the one-hour reminder until the meeting has begun
    assert await sweep_at(core, datetime(2021, 6, 15, 7, 30, tzinfo=UTC)) == 0
    assert len(await reminders(core)) == 2
    async with core.services.sessions() as session:
        log = list(await session.scalars(select(ReminderLog).order_by(ReminderLog.id)))
    assert [row.status for row in log] == ["sent", "sent", "missed", "missed"]
    assert all(row.reported_at is not None for row in log if row.status == "missed")
    [note] = await reminders(core, "reminders_missed")
    assert note.chat_id == "anna"  # the chair
    assert "2 Erinnerungen für #1 AG-Sitzung" in note.payload["text"]
    await sweep_at(core, datetime(2021, 6, 15, 7, 31, tzinfo=UTC))
    assert len(await reminders(core, "reminders_missed")) == 1  # reported once


async def test_cancelled_and_moved_meetings(chat: Conversation, core: Core) -> None:
    await meeting_with_answers(chat)
    await chat.say(anna, "/verschieben 1 17.06.2021 9 Uhr")
    await sweep_at(core, datetime(2021, 6, 14, 7, 0, tzinfo=UTC))
    assert await reminders(core) == []  # not the old date
    await sweep_at(core, datetime(2021, 6, 16, 7, 0, tzinfo=UTC))
    assert len(await reminders(core)) == 2
    await chat.say(anna, "/absagen 1")
    await sweep_at(core, datetime(2021, 6, 17, 6, 0, tzinfo=UTC))
    assert len(await reminders(core)) == 2


@pytest.mark.parametrize(
    ("meeting", "night_utc"),
    [
        # spring: 28.03.2027 02:30 does not exist; the reminder comes at 03:30 CEST
        ("29.03.2027 2:30", datetime(2027, 3, 27, 23, 0, tzinfo=UTC)),
        # autumn: 31.10.2027 02:30 happens twice; the reminder comes at the first
        ("01.11.2027 2:30", datetime(2027, 10, 30, 22, 0, tzinfo=UTC)),
    ],
)
async def test_a_reminder_at_0230_on_dst_nights_fires_exactly_once(
    chat: Conversation, core: Core, meeting: str, night_utc: datetime
) -> None:
    await chat.say(anna, "/erinnerungszeiten 1T")
    core.services.clock.set(night_utc - timedelta(days=5))  # type: ignore[attr-defined]
    await chat.say(anna, f"/sitzung {meeting} Nachtsitzung")
    await chat.say(bernd, "/zusage 1 ja")
    sent_at = []
    for minute in range(0, 5 * 60, 2):  # a sweep every 2 minutes through the night
        instant = night_utc + timedelta(minutes=minute)
        if await sweep_at(core, instant):
            sent_at.append(instant)
    assert len(sent_at) == 1
    local = sent_at[0].astimezone(core.settings.timezone)
    assert local.strftime("%H:%M") in {"03:30", "02:30"}
    assert len(await reminders(core)) == 1


async def test_two_processes_sweeping_at_once_send_each_reminder_once(
    postgres: PostgresCluster, clock: FixedClock
) -> None:
    """Two bot processes on one PostgreSQL database (SQLite has one writer per file, and
    its driver here runs inline in the event loop, so two engines in one test cannot
    overlap on it; the unique key is the same there)."""
    database_url = postgres.create_database("two_sweepers")
    settings = load_settings(database_url=database_url, _env_file=None)
    first = await Core.create(settings, clock)
    second = await Core.create(settings, clock)
    try:
        chat = await registered_ag_transfer(first)
        await chat.say(anna, "/sitzung 15.06.2021 9 Uhr Sitzung")
        people = [person(f"p{index}") for index in range(25)]
        for who in people:
            await chat.say(who, "/zusage 1 ja")
        # both processes wake together, again and again, across both reminders
        for instant in (
            datetime(2021, 6, 14, 7, 0, tzinfo=UTC),
            datetime(2021, 6, 14, 7, 1, tzinfo=UTC),
            datetime(2021, 6, 15, 6, 0, tzinfo=UTC),
        ):
            clock.set(instant)
            await asyncio.gather(
                sweep_meeting_reminders(first.services, instant),
                sweep_meeting_reminders(second.services, instant),
                sweep_meeting_reminders(second.services, instant),
            )
        async with first.services.sessions() as session:
            queued = await session.execute(
                select(OutboxMessage.user_id, func.count())
                .where(OutboxMessage.purpose == "reminder_meeting")
                .group_by(OutboxMessage.user_id)
            )
            per_person = dict(queued.all())
            logged = await session.scalar(select(func.count()).select_from(ReminderLog))
        assert len(per_person) == len(people)
        assert set(per_person.values()) == {2}
        assert logged == 2 * len(people)
    finally:
        await second.close()
        await first.close()


async def test_reminder_settings_and_log_are_part_of_the_data_export(
    chat: Conversation, core: Core
) -> None:
    from storage import people as people_store
    from storage.models import Identity, User

    await chat.say(bernd, "/stumm aufgaben", dm(bernd))
    await meeting_with_answers(chat)
    await sweep_at(core, datetime(2021, 6, 14, 7, 0, tzinfo=UTC))
    async with core.services.sessions() as session:
        user = await session.scalar(
            select(User).join(Identity).where(Identity.platform_user_id == "bernd")
        )
        exported = await people_store.export_user_data(session, user)
    assert exported["reminder_settings"]["muted"] == "action_item"
    assert [r["kind"] for r in exported["reminders"]] == ["meeting"]
