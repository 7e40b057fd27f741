"""How meetings come about – by command, a date poll's pick, a series, or recorded afterwards –
and what each sends (SQLite and PostgreSQL, through the dialogue harness)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import func, select

from bot.app import Core
from bot.core.clock import FixedClock
from handlers.reminders.sweep import sweep_meeting_reminders
from storage.models import OutboxMessage, ReminderLog
from tests.harness import Conversation, dm, outbox_rows, person

anna, bernd, clara = person("anna"), person("bernd"), person("clara")


@pytest.fixture
async def chat(chat: Conversation) -> Conversation:
    """Bernd and Clara are members; everyone has opened the private chat. The clock stands at
    Thu 10.06.2021 10:00 Berlin."""
    for who in (bernd, clara):
        await chat.say(who, "/beitreten")
    for who in (anna, bernd, clara):
        await chat.say(who, "/start", dm(who))
    return chat


def calendar_of(row: OutboxMessage) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(base64.b64decode(row.payload["document"]["content_b64"]))


async def invitations(core: Core) -> list[OutboxMessage]:
    return await outbox_rows(core, "meeting_invitation")


async def test_a_scheduled_meeting_invites_every_member(chat: Conversation, core: Core) -> None:
    created = await chat.text(
        anna, '/sitzung 15.06.2021 9-12 Uhr "AG-Sitzung" | https://meet.example.org'
    )
    assert "Videokonferenz – https://meet.example.org" in created  # as the groups write it
    assert "IHK Köln" in await chat.text(anna, "/sitzung 16.06.2021 9 Uhr Vor Ort | IHK Köln")
    rows = [r for r in await invitations(core) if "AG-Sitzung" in r.payload["text"]]
    assert sorted(r.chat_id for r in rows) == ["anna", "bernd", "clara"]
    assert all(r.payload["text"].startswith("Einladung: AG-Sitzung") for r in rows)
    [event] = calendar_of(rows[0]).walk("VEVENT")
    assert event["SEQUENCE"] == 0


async def test_picking_a_polls_date_sends_the_invitations(chat: Conversation, core: Core) -> None:
    await chat.say(anna, '/terminabfrage "Juni-Sitzung" 15.06. 9-12 Uhr; 17.06. 14-16 Uhr')
    await chat.say(bernd, "/abstimmen 1 ja 2 nein")
    fixed = await chat.text(anna, "/terminwahl 1 1")
    assert "steht fest" in fixed
    rows = await invitations(core)
    assert sorted(r.chat_id for r in rows) == ["anna", "bernd", "clara"]
    assert all(r.payload["text"].startswith("Einladung: Juni-Sitzung") for r in rows)
    [event] = calendar_of(rows[0]).walk("VEVENT")
    assert event["SEQUENCE"] == 0 and str(event["SUMMARY"]) == "Juni-Sitzung"
    assert event.decoded("DTSTART") == datetime(2021, 6, 15, 7, 0, tzinfo=UTC)
    # a later change is then the second version everyone already knows the first of
    await chat.say(anna, "/verschieben 1 16.06.2021 9-12 Uhr")
    changed = [r for r in await invitations(core) if r.payload["text"].startswith("Geändert")]
    assert len(changed) == 3


async def test_a_series_invites_every_member_once(chat: Conversation, core: Core) -> None:
    await chat.say(anna, '/serie jeden 2. Donnerstag im Monat 9-10 Uhr "Jour fixe" | https://x')
    rows = await invitations(core)
    assert sorted(r.chat_id for r in rows) == ["anna", "bernd", "clara"]
    assert "RRULE" in calendar_of(rows[0]).walk("VEVENT")[0]


async def test_a_meeting_held_months_ago_is_recorded_afterwards(
    chat: Conversation, core: Core
) -> None:
    await chat.say(anna, "/rolle protokoll @bernd")
    recorded = await chat.text(anna, "/sitzung 11.02.2021 9-12 Uhr AG-Sitzung Februar | Zoom")
    assert "Nachträglich erfasst" in recorded and "keine Einladungen" in recorded
    assert "#1 AG-Sitzung Februar – Do, 11.02.2021, 9:00–12:00 Uhr" in recorded
    assert await invitations(core) == []
    # every meeting command works for it
    for who, command, expected in [
        (anna, "/tophinzu 1 Bericht | @bernd | 9:00", "TOP 1 hinzugefügt"),
        (anna, "/tophinzu #1 Checks | 10:00", "TOP 2 hinzugefügt"),
        (bernd, "/anwesend #1 @anna @bernd", "Anna, Bernd"),
        (bernd, "/top #1 2", "TOP 2"),
        (bernd, "/notiz #1 Die Checks laufen.", "TOP 2"),
        (bernd, "/beschluss #1 einstimmig Der Leitfaden wird beschlossen.", "B-2021-01"),
        (bernd, "/aufgabe #1 @clara: Leitfaden verschicken", "A-1"),
        (anna, "/sitzungaendern 1 zeit 11.02.2021 9-13 Uhr", "13:00"),
        (clara, "/sitzunginfo 1", "AG-Sitzung Februar"),
        (clara, "/protokoll 1", "Die Checks laufen."),
        (anna, "/protokollentwurf 1", "Einspruch bis"),
        (anna, "/protokollgenehmigen 1 sofort", "genehmigt"),
    ]:
        answer = await chat.text(who, command)
        assert expected in answer, (command, answer)
    assert await invitations(core) == []


async def test_a_meeting_that_began_ten_minutes_ago_gets_no_reminders(
    chat: Conversation, core: Core
) -> None:
    recorded = await chat.text(anna, '/sitzung 10.06.2021 9:50-11 Uhr "Spontan"')
    assert "Nachträglich erfasst" in recorded
    await chat.say(bernd, "/zusage 1 ja")
    clock: FixedClock = core.services.clock  # type: ignore[assignment]
    assert await sweep_meeting_reminders(core.services, clock.now()) == 0
    async with core.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ReminderLog)) == 0
    assert await outbox_rows(core, "reminder_meeting") == []
    assert await invitations(core) == []


async def test_draft_minutes_wait_for_the_start_and_count_from_publication(
    chat: Conversation, core: Core
) -> None:
    await chat.say(anna, '/sitzung 10.06.2021 10:30-12 Uhr "AG-Sitzung"')
    refused = await chat.text(anna, "/protokollentwurf 1")
    assert "noch nicht begonnen" in refused and "10:30" in refused
    assert "Einspruch" not in await chat.text(clara, "/protokoll 1")
    core.services.clock.advance(timedelta(days=3))  # published three days later, 13.06.
    published = await chat.text(anna, "/protokollentwurf 1 7")
    assert "Einspruch bis So, 20.06.2021, 10:00 Uhr" in published
    assert "endet 10 Tage nach der Sitzung vom 10.06.2021" in published
