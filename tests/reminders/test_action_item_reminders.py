"""Action-item reminders: before due, overdue, weekly overview (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app import Core
from bot.core.clock import FixedClock
from bot.core.settings import load_settings
from handlers.reminders.sweep import run_reminders, sweep_action_item_reminders, sweep_digests
from storage.models import ActionItem, ActionItemAssignee, Identity
from tests.harness import Conversation, dm, outbox_rows, person, registered_ag_transfer

anna, bernd, clara = person("anna"), person("bernd"), person("clara")


async def user_id(core: Core, who: str) -> int:
    async with core.services.sessions() as session:
        return int(
            await session.scalar(select(Identity.user_id).where(Identity.platform_user_id == who))
        )


async def add_item(
    core: Core, number: int, text: str, due: date | None, who: list[str], status: str = "open"
) -> None:
    now = core.services.clock.now()
    async with core.services.sessions.begin() as session:
        item = ActionItem(
            group_id=1,
            number=number,
            text=text,
            due_date=due,
            status=status,
            created_at=now,
            updated_at=now,
        )
        session.add(item)
        await session.flush()
        for name in who:
            uid = await session.scalar(
                select(Identity.user_id).where(Identity.platform_user_id == name)
            )
            session.add(ActionItemAssignee(action_item_id=item.id, user_id=uid))
        session.add(ActionItemAssignee(action_item_id=item.id, name="Externe Person"))


async def start_group(core: Core) -> Conversation:
    """AG Transfer with Anna, Bernd and Clara as members, each with a private chat open."""
    chat = await registered_ag_transfer(core)
    for who in (anna, bernd, clara):
        await chat.say(who, "/beitreten")
        await chat.say(who, "/start", dm(who))
    return chat


async def items_at(core: Core, *moment: int) -> int:
    """Sweep action-item reminders at a UTC moment (year, month, day, hour, minute)."""
    return await sweep_action_item_reminders(core.services, at(core, datetime(*moment, tzinfo=UTC)))


def at(core: Core, instant: datetime) -> datetime:
    clock: FixedClock = core.services.clock  # type: ignore[assignment]
    clock.set(instant)
    return clock.now()


async def test_before_due_and_overdue_once_each(core: Core) -> None:
    chat = await start_group(core)
    await add_item(core, 1, "Bögen an Anna senden", date(2021, 6, 15), ["bernd", "clara"])
    await add_item(core, 2, "Erledigtes", date(2021, 6, 15), ["bernd"], status="done")
    await add_item(core, 3, "Ohne Termin", None, ["bernd"])
    # the day before, 9:00 Berlin
    assert await items_at(core, 2021, 6, 14, 6, 59) == 0
    assert await items_at(core, 2021, 6, 14, 7, 0) == 2
    assert await items_at(core, 2021, 6, 14, 7, 5) == 0
    rows = await outbox_rows(core, "reminder_action_item")
    assert sorted(r.chat_id for r in rows) == ["bernd", "clara"]
    assert rows[0].payload["text"] == (
        "Erinnerung: Aufgabe A-1 „Bögen an Anna senden“ (AG Transfer) ist am 15.06.2021 fällig."
    )
    assert "Stumm" in await chat.text(clara, "/stumm aufgaben", dm(clara))
    # the day after the due date: overdue, only for bernd now
    assert await items_at(core, 2021, 6, 16, 7, 0) == 1
    overdue = (await outbox_rows(core, "reminder_action_item"))[-1]
    assert overdue.chat_id == "bernd" and "noch offen" in overdue.payload["text"]


async def test_an_item_closed_in_time_gets_no_overdue_reminder(core: Core) -> None:
    await start_group(core)
    await add_item(core, 1, "Protokoll versenden", date(2021, 6, 15), ["bernd"])
    await items_at(core, 2021, 6, 14, 7, 0)
    async with core.services.sessions.begin() as session:
        item = await session.scalar(select(ActionItem))
        item.status = "done"
    await items_at(core, 2021, 6, 16, 7, 0)
    assert len(await outbox_rows(core, "reminder_action_item")) == 1


async def test_weekly_overview_on_monday_lists_each_persons_open_items(core: Core) -> None:
    chat = await start_group(core)
    await add_item(core, 1, "Bögen an Anna senden", date(2021, 6, 15), ["bernd", "clara"])
    await add_item(core, 2, "Termin koordinieren", None, ["bernd"])
    await chat.say(clara, "/language en", dm(clara))
    # 14.06.2021 is a Monday; 9:00 Berlin
    await run_reminders(core.services, at(core, datetime(2021, 6, 14, 6, 0, tzinfo=UTC)))
    assert await outbox_rows(core, "reminder_digest") == []
    await run_reminders(core.services, at(core, datetime(2021, 6, 14, 7, 0, tzinfo=UTC)))
    await run_reminders(core.services, at(core, datetime(2021, 6, 14, 8, 0, tzinfo=UTC)))
    rows = {r.chat_id: r.payload["text"] for r in await outbox_rows(core, "reminder_digest")}
    assert set(rows) == {"bernd", "clara"}
    assert rows["bernd"].startswith("Ihre 2 offenen Aufgaben diese Woche:")
    assert "A-2 „Termin koordinieren“ (AG Transfer)" in rows["bernd"]
    assert "fällig 15.06.2021" in rows["bernd"]
    assert rows["clara"].startswith("Your open task this week:\n• A-1")
    await run_reminders(core.services, at(core, datetime(2021, 6, 21, 7, 0, tzinfo=UTC)))
    assert len(await outbox_rows(core, "reminder_digest")) == 4  # next Monday, once more each


async def test_a_digest_missed_during_downtime_is_recorded_not_sent(core: Core) -> None:
    await start_group(core)
    await add_item(core, 1, "Bögen senden", None, ["bernd"])
    await sweep_digests(core.services, at(core, datetime(2021, 6, 13, 7, 0, tzinfo=UTC)))
    # down from Sunday until Monday evening (more than 12 hours after 9:00)
    await sweep_digests(core.services, at(core, datetime(2021, 6, 14, 19, 30, tzinfo=UTC)))
    assert await outbox_rows(core, "reminder_digest") == []
    from storage.models import ReminderLog

    async with core.services.sessions() as session:
        [row] = list(await session.scalars(select(ReminderLog)))
    assert (row.kind, row.status, row.subject) == ("digest", "missed", "digest:2021-06-14")


@pytest.fixture
async def sunday_night_core(database_url: str) -> AsyncIterator[Core]:
    settings = load_settings(
        database_url=database_url,
        _env_file=None,
        reminder_digest_weekday=7,
        reminder_time_of_day="02:30",
    )
    core = await Core.create(settings, FixedClock(datetime(2027, 3, 1, tzinfo=UTC)))
    yield core
    await core.close()


@pytest.mark.parametrize(
    ("night_utc", "local"),
    [
        (datetime(2027, 3, 27, 23, 0, tzinfo=UTC), "03:30"),  # 02:30 does not exist
        (datetime(2027, 10, 30, 22, 0, tzinfo=UTC), "02:30"),  # 02:30 happens twice
    ],
)
async def test_a_digest_at_0230_on_dst_sundays_comes_exactly_once(
    sunday_night_core: Core, night_utc: datetime, local: str
) -> None:
    core = sunday_night_core
    at(core, night_utc - timedelta(days=1))
    await start_group(core)
    await add_item(core, 1, "Nachtarbeit", None, ["bernd"])
    await sweep_digests(core.services, core.services.clock.now())
    sent_at = []
    for minute in range(0, 5 * 60, 2):
        instant = at(core, night_utc + timedelta(minutes=minute))
        if await sweep_digests(core.services, instant):
            sent_at.append(instant)
    assert len(sent_at) == 1
    assert sent_at[0].astimezone(core.settings.timezone).strftime("%H:%M") == local
    assert len(await outbox_rows(core, "reminder_digest")) == 1
