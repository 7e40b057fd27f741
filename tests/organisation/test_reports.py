"""Reports owed between groups: recorded by the owing group's chair, reminded once before
each due date, put on the receiving group's next agenda when delivered."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.app import Core
from bot.core.clock import FixedClock
from bot.core.messages import ChatKind, ChatRef
from bot.core.settings import load_settings
from handlers.organisation.report_jobs import remind_reports
from handlers.organisation.reports import add_months, parse_interval, reminder_due
from tests.harness import GROUP, OTHER_GROUP, Conversation, outbox_rows, person

anna, clara, dora, emil = (person(n) for n in ("anna", "clara", "dora", "emil"))
THIRD_GROUP = ChatRef("test", "-300", ChatKind.GROUP, "AG Dritte")
DUTY = "/berichtspflicht AG Transfer | Jahresbericht | jährlich | 30.06.2021"


def test_intervals_and_due_dates() -> None:
    assert parse_interval("Jährlich") == 12 and parse_interval("quarterly") == 3
    assert parse_interval("alle zwei Jahre") is None
    assert add_months(date(2021, 6, 30), 12) == date(2022, 6, 30)
    assert add_months(date(2021, 8, 31), 6) == date(2022, 2, 28)
    assert add_months(date(2021, 12, 15), 1) == date(2022, 1, 15)
    assert not reminder_due(date(2021, 6, 30), date(2021, 6, 15), None)
    assert reminder_due(date(2021, 6, 30), date(2021, 6, 16), None)
    assert not reminder_due(date(2021, 6, 30), date(2021, 6, 20), date(2021, 6, 30))
    assert reminder_due(date(2022, 6, 30), date(2022, 6, 20), date(2021, 6, 30))


@pytest.fixture
async def chat(chat: Conversation) -> Conversation:
    """AG Transfer in GROUP (Anna chairs); Fachgruppe Handwerk in OTHER_GROUP (Clara chairs,
    Dora a member) owes it a yearly report; AG Dritte (Emil) is uninvolved."""
    chat.platform.admins |= {(OTHER_GROUP.chat_id, clara.user_id), ("-300", emil.user_id)}
    await chat.say(clara, '/registrieren fachgruppe "Fachgruppe Handwerk"', OTHER_GROUP)
    await chat.say(dora, "/beitreten", OTHER_GROUP)
    await chat.say(emil, '/registrieren ag "AG Dritte"', THIRD_GROUP)
    return chat


async def test_chair_records_a_duty_both_groups_see_it(chat: Conversation) -> None:
    assert "nur Vorsitzende" in await chat.text(dora, DUTY, OTHER_GROUP)
    reply = await chat.text(clara, DUTY, OTHER_GROUP)
    assert "Bericht R-1 „Jahresbericht“ an AG Transfer, jährlich, zuerst fällig am 30.06.2021" in (
        reply
    )
    assert "R-1 „Jahresbericht“ an AG Transfer, jährlich, fällig 30.06.2021" in (
        await chat.text(dora, "/berichte", OTHER_GROUP)
    )
    assert "„Jahresbericht“ von Fachgruppe Handwerk, jährlich, fällig 30.06.2021" in (
        await chat.text(anna, "/berichte")
    )
    assert "Jahresbericht" not in await chat.text(emil, "/berichte", THIRD_GROUP)
    assert "kein Intervall" in await chat.text(
        clara, "/berichtspflicht AG Transfer | X | alle zwei Jahre | 30.06.2021", OTHER_GROUP
    )
    assert "genau eine registrierte Gruppe" in await chat.text(
        clara, "/berichtspflicht Leitungskreis | X | jährlich | 30.06.2021", OTHER_GROUP
    )


async def test_chairs_are_reminded_once_two_weeks_before(chat: Conversation) -> None:
    await chat.say(clara, DUTY, OTHER_GROUP)
    services = chat.core.services
    assert await remind_reports(services, datetime(2021, 6, 15, 8, tzinfo=UTC)) == 0
    assert await remind_reports(services, datetime(2021, 6, 16, 8, tzinfo=UTC)) == 1
    assert await remind_reports(services, datetime(2021, 6, 17, 8, tzinfo=UTC)) == 0
    [reminder] = await outbox_rows(chat.core, "report_reminder")
    assert (
        "Fachgruppe Handwerk schuldet AG Transfer den Bericht R-1 „Jahresbericht“ zum "
        in (reminder.payload["text"])
    )
    assert "30.06.2021" in reminder.payload["text"]


async def test_delivery_puts_it_on_the_receivers_next_agenda(chat: Conversation) -> None:
    await chat.say(clara, DUTY, OTHER_GROUP)
    await chat.say(anna, "/sitzung 08.07.2021 9-10 Uhr Juli-Sitzung")
    assert "schuldet keinen Bericht R-1" in await chat.text(anna, "/berichtgeliefert R-1")
    assert "schuldet keinen Bericht R-1" in await chat.text(
        emil, "/berichtgeliefert R-1", THIRD_GROUP
    )
    reply = await chat.text(clara, "/berichtgeliefert R-1", OTHER_GROUP)
    assert "R-1 an AG Transfer geliefert" in reply and "30.06.2022" in reply
    agenda = await chat.text(anna, "/tagesordnung 1")
    assert "Bericht: Jahresbericht" in agenda and "Fachgruppe Handwerk" in agenda
    [told] = await outbox_rows(chat.core, "report_delivered")
    assert told.chat_id == GROUP.chat_id
    assert "fällig 30.06.2022" in await chat.text(dora, "/berichte", OTHER_GROUP)
    # the next due date is reminded of in its turn
    services = chat.core.services
    assert await remind_reports(services, datetime(2022, 6, 20, 8, tzinfo=UTC)) == 1


async def test_a_chair_sets_the_reminder_lead_of_a_report(chat: Conversation) -> None:
    reply = await chat.text(clara, DUTY, OTHER_GROUP)
    assert "14 Tage vorher erinnert" in reply
    assert "nur Vorsitzende" in await chat.text(dora, "/berichtvorlauf R-1 30", OTHER_GROUP)
    assert "schuldet keinen Bericht R-1" in await chat.text(
        emil, "/berichtvorlauf R-1 30", THIRD_GROUP
    )
    assert "von 0 bis 365" in await chat.text(clara, "/berichtvorlauf R-1 viele", OTHER_GROUP)
    assert "30 Tage vor Fälligkeit" in await chat.text(
        clara, "/berichtvorlauf R-1 30 Tage", OTHER_GROUP
    )
    assert "Erinnerung 30 Tage vorher" in await chat.text(dora, "/berichte", OTHER_GROUP)
    services = chat.core.services
    assert await remind_reports(services, datetime(2021, 5, 30, 8, tzinfo=UTC)) == 0
    assert await remind_reports(services, datetime(2021, 5, 31, 8, tzinfo=UTC)) == 1
    assert await remind_reports(services, datetime(2021, 6, 16, 8, tzinfo=UTC)) == 0


async def test_the_default_lead_is_a_setting(database_url: str) -> None:
    settings = load_settings(database_url=database_url, report_remind_days_before=3, _env_file=None)
    core = await Core.create(settings, FixedClock(datetime(2021, 6, 10, 8, tzinfo=UTC)))
    try:
        chat = Conversation(core, admins=[(GROUP, anna), (OTHER_GROUP, clara)])
        await chat.say(anna, '/registrieren ag "AG Transfer"')
        await chat.say(clara, '/registrieren fachgruppe "Fachgruppe Handwerk"', OTHER_GROUP)
        assert "3 Tage vorher erinnert" in await chat.text(clara, DUTY, OTHER_GROUP)
        assert await remind_reports(core.services, datetime(2021, 6, 26, 8, tzinfo=UTC)) == 0
        assert await remind_reports(core.services, datetime(2021, 6, 27, 8, tzinfo=UTC)) == 1
    finally:
        await core.close()
