"""The advisor registry in chat: who may see and change it, and the advisor's link code."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

from sqlalchemy import select

from bot.core.clock import FixedClock
from handlers.advisors.escalation import run_advisor_escalation
from storage.models import Advisor, AdvisorAuthorization, OutboxMessage
from storage.outbox import decode_message
from tests.advisor_registry import ADD, ADMIN, ADVISOR, CHAIR, LISTED_ADMIN
from tests.harness import GROUP, OTHER_GROUP, Conversation, dm, person


async def test_admin_adds_lists_and_shows_an_advisor(chat: Conversation) -> None:
    text = await chat.text(ADMIN, ADD, dm(ADMIN))
    assert "Ins Register aufgenommen" in text and "#1 Berta Beispiel" in text
    assert "15.12.2020 erste Erinnerung (Frist 15.03.2021)" not in text  # before policy start
    assert "01.01.2021 erste Erinnerung (Frist 15.03.2021): geplant" in text
    assert "15.08.2021 Auslistung" in text
    listing = await chat.text(ADMIN, "/berater", GROUP)  # the admin group may see it too
    assert "1 Eintrag:" in listing and "berta@example.org" in listing
    assert "#1 Berta" in await chat.text(ADMIN, "/berater rkw", dm(ADMIN))
    shown = await chat.text(LISTED_ADMIN, "/advisors berta@example.org", dm(LISTED_ADMIN))
    assert "Timeline of the authorization of 2019-03-15" in shown
    assert "2021-08-15 delisting: planned" in shown


async def test_others_can_neither_see_nor_change_the_registry(chat: Conversation) -> None:
    await chat.say(ADMIN, ADD, dm(ADMIN))
    for command in ("/berater", "/berater 1", ADD.replace("berta@", "b2@"), "/beratercode 1"):
        text = await chat.text(CHAIR, command, dm(CHAIR))
        assert text == "Nur Admins dürfen das Berater*innen-Register verwenden.", command
        text = await chat.text(CHAIR, command, OTHER_GROUP)
        assert "Berta" not in text and "Nur Admins" in text
    # An admin in an ordinary working group: not there either.
    text = await chat.text(LISTED_ADMIN, "/advisors", OTHER_GROUP)
    assert "privaten Chat oder in der Admin-Gruppe" in text
    assert "Berta" not in text
    text = await chat.text(CHAIR, "/berateraendern 1 name=Mallory", dm(CHAIR))
    assert "Nur Admins" in text
    async with chat.core.services.sessions() as session:
        assert [a.name for a in await session.scalars(select(Advisor))] == ["Berta Beispiel"]


async def test_edit_and_manual_delisting(chat: Conversation) -> None:
    await chat.say(ADMIN, ADD, dm(ADMIN))
    text = await chat.text(ADMIN, "/berateraendern 1 institution=BIFA München", dm(ADMIN))
    assert "Gespeichert" in text and "BIFA München" in text
    text = await chat.text(ADMIN, "/berateraendern 1 email=kaputt", dm(ADMIN))
    assert "„kaputt“ ist keine E-Mail-Adresse." in text
    # The same check as /email: umlauts before the @ need SMTPUTF8, which the bot lacks.
    text = await chat.text(ADMIN, "/berateraendern 1 email=jörg@example.org", dm(ADMIN))
    assert "An „jörg@example.org“ kann ich nicht schreiben" in text
    text = await chat.text(ADMIN, "/berateraendern 1 sprache=en", dm(ADMIN))
    assert "Sprache: en" in text
    text = await chat.text(ADMIN, "/berateraendern 1 status=delisted", dm(ADMIN))
    assert "ausgelistet" in text
    async with chat.core.services.sessions() as session:
        advisor = await session.get(Advisor, 1)
        assert advisor.status == "delisted" and advisor.next_step_on is None
    # A renewal entered by hand lists the advisor again at once; the daily run has nothing
    # left to do.
    text = await chat.text(ADMIN, "/berateraendern 1 autorisiert=01.06.2021", dm(ADMIN))
    assert "Sofort wieder aufgeführt: Berta Beispiel" in text
    async with chat.core.services.sessions() as session:
        assert (await session.get(Advisor, 1)).status == "listed"
    report = await run_advisor_escalation(chat.core.services, date(2021, 6, 10))
    assert report.relisted == 0


async def test_link_code_connects_the_advisor_and_reminders_reach_them(
    chat: Conversation, clock: FixedClock
) -> None:
    await chat.say(ADMIN, ADD, dm(ADMIN))
    text = await chat.text(ADMIN, "/beratercode 1", dm(ADMIN))
    code = re.search(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}\b", text).group(0)
    assert "14 Tage gültig" in text and f"/verknuepfen {code}" in text
    clock.set(datetime(2021, 6, 20, 8, 0, tzinfo=UTC))  # days later: still valid
    answer = await chat.text(ADVISOR, f"/verknuepfen {code}", dm(ADVISOR))
    assert "mit Ihrem Eintrag im Berater*innen-Register verknüpft" in answer
    again = await chat.text(person("mallory"), f"/verknuepfen {code}", dm(person("mallory")))
    assert "unbekannt oder abgelaufen" in again
    assert "kein Chat-Konto" not in await chat.text(ADMIN, "/berater 1", dm(ADMIN))
    await run_advisor_escalation(chat.core.services, date(2021, 6, 20))
    async with chat.core.services.sessions() as session:
        rows = list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.purpose == "advisor_escalation")
            )
        )
    assert len(rows) == 1 and rows[0].chat_id == ADVISOR.user_id
    assert (
        "Ihre Autorisierung als Berater*in ist abgelaufen" in decode_message(rows[0].payload).text
    )
    # The advisor's own data export includes the registry entry.
    [reply] = await chat.say(ADVISOR, "/meinedaten", dm(ADVISOR))
    exported = json.loads(reply.document.content)
    assert exported["advisor_registry"] == [
        {
            "name": "Berta Beispiel",
            "email": "berta@example.org",
            "training_institution": "RKW Nord",
            "consulting_fields": "Digitalisierung",
            "language": "de",
            "listing_status": "listed",
            "authorizations": ["2019-03-15"],
            "region": "",
            "published_on_public_list": "",
            "email_unreachable_at": None,
            "email_unreachable_reason": None,
        }
    ]


async def test_exchange_and_attendance_renew(chat: Conversation, clock: FixedClock) -> None:
    await chat.say(ADMIN, ADD, dm(ADMIN))
    text = await chat.text(
        ADMIN,
        '/austausch 24.06.2021 9-12 Uhr "IHK Köln" | https://meet.example.org/x | 30',
        dm(ADMIN),
    )
    assert "Erfahrungsaustausch eingetragen" in text and "Do, 24.06.2021, 9:00–12:00 Uhr" in text
    chair_text = await chat.text(
        CHAIR, '/austausch 25.06.2021 14-16 Uhr "HWK" | Köln, Raum 3', OTHER_GROUP
    )
    assert "#2" in chair_text
    listing = await chat.text(ADVISOR, "/austausch", dm(ADVISOR))
    assert "IHK Köln" in listing and "HWK" not in listing  # the group's own stays in the group
    assert "HWK" in await chat.text(CHAIR, "/austausch", OTHER_GROUP)
    refused = await chat.text(ADVISOR, '/austausch 26.06.2021 9 Uhr "X" | Y', dm(ADVISOR))
    assert "Das dürfen nur Admins eintragen" in refused
    assert "noch nicht stattgefunden" in await chat.text(ADMIN, "/teilnahme 1 1", dm(ADMIN))
    clock.set(datetime(2021, 6, 25, 8, 0, tzinfo=UTC))
    text = await chat.text(ADMIN, "/teilnahme 1 berta@example.org", dm(ADMIN))
    assert "Autorisierung ab 24.06.2021 verlängert" in text
    async with chat.core.services.sessions() as session:
        sources = [
            (a.authorized_on, a.source, a.exchange_id)
            for a in await session.scalars(select(AdvisorAuthorization))
        ]
        advisor = await session.get(Advisor, 1)
    assert sources == [(date(2019, 3, 15), "manual", None), (date(2021, 6, 24), "exchange", 1)]
    # The old cycle's letters were never sent (nobody ran the daily job): the next run
    # records them as missed and reports them, then the new cycle's first reminder is next.
    assert advisor.next_step_on == date(2021, 1, 1)
    report = await run_advisor_escalation(chat.core.services, date(2021, 6, 25))
    assert (report.missed, report.sent, report.unreachable) == (3, 0, 0)
    async with chat.core.services.sessions() as session:
        assert (await session.get(Advisor, 1)).next_step_on == date(2023, 3, 24)


async def test_preview_in_chat(chat: Conversation) -> None:
    await chat.say(ADMIN, ADD, dm(ADMIN))
    text = await chat.text(ADMIN, "/beratervorschau --as-of 2021-08-15", dm(ADMIN))
    assert text.startswith("Am 15.08.2021 sind für 1 Person Schritte fällig")
    # No exchange was ever published: the delisting would wait for one to take place.
    assert (
        "Berta Beispiel: Auslistung – wartet: seit der letzten Erinnerung hat kein "
        "Erfahrungsaustausch stattgefunden" in text
    )
    await chat.say(ADMIN, '/austausch 01.07.2021 9-12 Uhr "IHK Köln" | Köln', dm(ADMIN))
    text = await chat.text(ADMIN, "/beratervorschau --as-of 2021-08-15", dm(ADMIN))
    # She is in no chat: the letter goes to her registry address, as the run sends it.
    assert "Berta Beispiel: Auslistung – E-Mail" in text
    assert (
        await chat.text(ADMIN, "/beratervorschau 01.01.2020", dm(ADMIN))
        == "Am 01.01.2020 würde nichts gesendet."
    )
    async with chat.core.services.sessions() as session:
        assert (await session.get(Advisor, 1)).status == "listed"


async def test_help_lists_registry_commands_for_admins_only(chat: Conversation) -> None:
    for who in (ADMIN, LISTED_ADMIN):
        listing = await chat.text(who, "/hilfe", dm(who))
        assert "/beraterneu" in listing or "/advisoradd" in listing
    listing = await chat.text(CHAIR, "/hilfe", dm(CHAIR))
    for name in ("/berater ", "/beraterneu", "/beratercode", "/teilnahme", "/beratervorschau"):
        assert name not in listing
    assert "/austausch" in listing  # everyone may list the exchanges
    details = await chat.text(CHAIR, "/hilfe beraterneu", dm(CHAIR))
    assert "Berechtigt: Admins" in details
