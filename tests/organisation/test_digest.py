"""The organisation digest (Infodienst): once per period to the destinations admins chose,
covering everything since the previous one, showing of each group only what its approved
minutes contain and its chair shares, and nothing to a chat or person no longer entitled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.app import Core
from bot.core.clock import FixedClock
from bot.core.enums import AuthorizationSource, StepOutcome
from bot.core.mail import MAIL_PLATFORM, from_outgoing
from bot.core.messages import ChatKind, ChatRef
from bot.core.settings import load_settings
from handlers.organisation.digest_jobs import send_digest
from handlers.organisation.digest_period import (
    Frequency,
    Period,
    last_complete_period,
    next_send_day,
)
from storage import advisors as advisor_store
from storage import outbox
from tests.harness import GROUP, OTHER_GROUP, Conversation, dm, outbox_rows, person

anna, clara, emil, olaf, dora = (person(n) for n in ("anna", "clara", "emil", "olaf", "dora"))
THIRD_GROUP = ChatRef("test", "-300", ChatKind.GROUP, "Fachgruppe Handwerk")
NOW = datetime(2021, 6, 10, 8, 0, tzinfo=UTC)  # a Thursday
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2021, 6, 14, 4, 0, tzinfo=UTC)  # 6:00 in Berlin: the daily jobs' hour


def test_periods_are_whole_weeks_and_months() -> None:
    assert last_complete_period(date(2021, 6, 14), Frequency.WEEKLY) == Period(
        date(2021, 6, 7), date(2021, 6, 14), "W2021-23"
    )
    assert last_complete_period(date(2021, 6, 13), Frequency.WEEKLY).key == "W2021-22"
    assert last_complete_period(date(2021, 1, 3), Frequency.WEEKLY).key == "W2020-52"
    assert last_complete_period(date(2021, 7, 1), Frequency.MONTHLY) == Period(
        date(2021, 6, 1), date(2021, 7, 1), "M2021-06"
    )
    assert last_complete_period(date(2021, 1, 15), Frequency.MONTHLY).key == "M2020-12"
    assert next_send_day(date(2021, 6, 10), Frequency.WEEKLY) == date(2021, 6, 14)
    assert next_send_day(date(2021, 6, 14), Frequency.WEEKLY) == date(2021, 6, 21)
    assert next_send_day(date(2021, 12, 31), Frequency.MONTHLY) == date(2022, 1, 1)


async def _scene(core: Core) -> Conversation:
    """AG Transfer (Anna) approves a recommendation, an assignment to the AG QS and an
    internal decision, and announces its next meeting; the AG QS (Clara) has draft minutes
    only; the Fachgruppe (Emil) approved a decision but its chair opts out. Olaf is admin."""
    chat = Conversation(core, admins=[(GROUP, anna), (OTHER_GROUP, clara), (THIRD_GROUP, emil)])
    clock = core.services.clock
    await chat.say(anna, '/registrieren ag "AG Transfer"')
    await chat.say(clara, '/registrieren ag "AG Qualitätssicherung"', OTHER_GROUP)
    await chat.say(emil, '/registrieren fachgruppe "Fachgruppe Handwerk"', THIRD_GROUP)
    await chat.say(dora, "/beitreten", THIRD_GROUP)
    await chat.say(anna, "/sitzung 10.06.2021 10:30-12 Uhr Juni-Sitzung")
    await chat.say(anna, "/sitzung 24.06.2021 10-12 Uhr Juli-Vorbereitung")
    await chat.say(anna, "/beschluss 12:0:1 Empfehlung an Strategiekreis: Die Checks ausweiten.")
    await chat.say(anna, "/beschluss einstimmig Auftrag an AG Qualitätssicherung: Bögen prüfen.")
    await chat.say(anna, "/beschluss einstimmig Das Budget bleibt intern.")
    await chat.say(clara, "/sitzung 10.06.2021 10:30-12 Uhr QS-Sitzung", OTHER_GROUP)
    await chat.say(clara, "/beschluss einstimmig Die QS-Checks sind geheim.", OTHER_GROUP)
    await chat.say(emil, "/sitzung 10.06.2021 10:30-12 Uhr FG-Sitzung", THIRD_GROUP)
    await chat.say(emil, "/beschluss einstimmig Handwerksinterna bleiben hier.", THIRD_GROUP)
    clock.advance(timedelta(minutes=30))  # drafts wait for the start
    for who, where in ((anna, GROUP), (emil, THIRD_GROUP)):
        await chat.say(who, "/protokollentwurf 1", where)
        await chat.say(who, "/protokollgenehmigen 1 sofort", where)
    await chat.say(anna, "/sitzung 01.07.2021 10-12 Uhr Nach der Genehmigung geplant")
    await chat.say(olaf, "/start", dm(olaf))
    return chat


@pytest.fixture
async def org(database_url: str) -> AsyncIterator[Conversation]:
    settings = load_settings(
        database_url=database_url, admin_users="test:olaf,test:paula", _env_file=None
    )
    core = await Core.create(settings, FixedClock(NOW))
    yield await _scene(core)
    await core.close()


async def _digests(chat: Conversation) -> list[str]:
    """The digests' Markdown as queued for chats, in order."""
    return [
        row.payload["text"]
        for row in await outbox_rows(chat.core, "org_digest")
        if row.platform != MAIL_PLATFORM
    ]


async def test_digest_shows_what_approved_minutes_contain_and_chairs_share(
    org: Conversation,
) -> None:
    assert "nur Vorsitzende" in await org.text(dora, "/infodienstfreigabe aus", THIRD_GROUP)
    assert "nichts" in await org.text(emil, "/infodienstfreigabe aus", THIRD_GROUP)
    assert "jetzt den Infodienst" in await org.text(olaf, "/infodienst hier", dm(olaf))
    assert "info@example.org erhält jetzt" in await org.text(
        olaf, "/infodienst info@example.org", dm(olaf)
    )
    services = org.core.services
    assert await send_digest(services, MONDAY) == 2
    [text] = await _digests(org)
    assert text.startswith("# Infodienst 07.06.2021 – 13.06.2021")
    recommendation = text.index("Empfehlung an Strategiekreis: Die Checks ausweiten.")
    assignment = text.index("Auftrag an AG Qualitätssicherung: Bögen prüfen.")
    internal = text.index("Das Budget bleibt intern.")
    assert recommendation < internal and assignment < internal  # forwarded kinds first
    assert "Juli-Vorbereitung" in text  # announced by the approved minutes
    assert "Nach der Genehmigung geplant" not in text  # planned after: not in any minutes
    assert "AG Qualitätssicherung, E-1: B-2021-02 von AG Transfer noch nicht behandelt" in text
    assert "geheim" not in text and "QS-Sitzung" not in text  # draft minutes stay in the group
    assert "Handwerk" not in text and "FG-Sitzung" not in text  # its chair opted out
    assert "## Berater\\*innen-Register" in text or "## Berater*innen-Register" in text
    [mail] = [r for r in await outbox_rows(org.core, "org_digest") if r.platform == MAIL_PLATFORM]
    content = from_outgoing(outbox.decode_message(mail.payload))
    assert content.subject == "Infodienst 07.06.2021 – 13.06.2021"
    assert content.html is not None and "<h2>Neue Beschlüsse der Gruppen</h2>" in content.html
    assert "<strong>AG Transfer</strong>" in content.html


async def test_each_period_goes_out_once_and_nothing_is_lost(org: Conversation) -> None:
    await org.say(olaf, "/infodienst hier", dm(olaf))
    services = org.core.services
    # W22 ended before the digest had a destination: the first is W23, on Monday
    assert await send_digest(services, MONDAY - timedelta(days=1)) == 0
    assert await send_digest(services, MONDAY) == 1
    assert await send_digest(services, MONDAY) == 0  # again: nothing
    assert await send_digest(services, MONDAY + timedelta(hours=5)) == 0
    # a second process (a restart, or two at once) sends nothing more
    twin = await Core.create(services.settings, FixedClock(MONDAY))
    try:
        assert await send_digest(twin.services, MONDAY) == 0
    finally:
        await twin.close()
    # the bot is down for a week: the week after covers both, nothing approved is missed
    services.clock.set(datetime(2021, 6, 17, 9, tzinfo=UTC))  # type: ignore[attr-defined]
    await org.say(clara, "/protokollentwurf 1", OTHER_GROUP)
    await org.say(clara, "/protokollgenehmigen 1 sofort", OTHER_GROUP)
    assert await send_digest(services, datetime(2021, 6, 28, 4, tzinfo=UTC)) == 1
    texts = await _digests(org)
    assert len(texts) == 2
    assert "geheim" in texts[1] and "14.06.2021 – 27.06.2021" in texts[1]
    assert "Checks ausweiten" in texts[0] and "Checks ausweiten" not in texts[1]


async def test_two_processes_at_once_send_one_digest(org: Conversation) -> None:
    await org.say(olaf, "/infodienst hier", dm(olaf))
    settings = org.core.services.settings
    twins = [await Core.create(settings, FixedClock(MONDAY)) for _ in range(2)]
    try:
        results = await asyncio.gather(
            *(send_digest(t.services, MONDAY) for t in twins), return_exceptions=True
        )
    finally:
        for twin in twins:
            await twin.close()
    sent = [r for r in results if isinstance(r, int)]
    assert sum(sent) == 1, results
    assert len(await _digests(org)) == 1


async def test_only_admins_configure_and_a_former_admin_gets_nothing(
    org: Conversation, database_url: str
) -> None:
    paula = person("paula")
    assert "nur Admins" in await org.text(anna, "/infodienst hier")  # a chair is no admin
    assert "nur Admins" in await org.text(anna, "/infodienst a@example.org", dm(anna))
    assert "privaten Chat" in await org.text(olaf, "/infodienst vorschau", GROUP)
    await org.say(paula, "/infodienst hier", dm(paula))
    await org.say(olaf, "/infodienst hier", dm(olaf))
    status = await org.text(olaf, "/infodienst", dm(olaf))
    assert "privater Chat von" in status and "wöchentlich" in status and "14.06.2021" in status
    # Paula is no admin any more after a restart with another ADMIN_USERS
    settings = load_settings(database_url=database_url, admin_users="test:olaf", _env_file=None)
    core = await Core.create(settings, FixedClock(MONDAY))
    try:
        assert await send_digest(core.services, MONDAY) == 1
    finally:
        await core.close()
    [row] = await outbox_rows(org.core, "org_digest")
    assert row.chat_id == dm(olaf).chat_id  # not Paula's


async def test_a_chat_the_bot_was_removed_from_gets_nothing(org: Conversation) -> None:
    await org.say(olaf, "/infodienst hier", THIRD_GROUP)
    await org.say(olaf, "/infodienst hier", GROUP)
    await org.core.dispatcher.bot_removed("test", THIRD_GROUP.chat_id)
    assert await send_digest(org.core.services, MONDAY) == 1
    [row] = await outbox_rows(org.core, "org_digest")
    assert row.chat_id == GROUP.chat_id


async def test_monthly_digest_removal_and_preview(org: Conversation) -> None:
    assert "monatlich" in await org.text(olaf, "/infodienst monatlich", dm(olaf))
    await org.say(olaf, "/infodienst hier", dm(olaf))
    await org.say(olaf, "/infodienst info@example.org", dm(olaf))
    assert "nicht mehr" in await org.text(olaf, "/infodienst entfernen info@example.org", dm(olaf))
    preview = await org.text(olaf, "/infodienst vorschau", dm(olaf))
    assert "Checks ausweiten" in preview and "geheim" not in preview
    services = org.core.services
    assert await send_digest(services, MONDAY) == 0  # the month is not over
    assert await send_digest(services, datetime(2021, 7, 1, 4, tzinfo=UTC)) == 1
    [text] = await _digests(org)
    assert "01.06.2021 – 30.06.2021" in text and "Checks ausweiten" in text


async def test_registry_figures_of_the_period(org: Conversation) -> None:
    await org.say(olaf, "/infodienst hier", dm(olaf))
    async with org.core.services.sessions.begin() as session:
        for n in range(3):
            advisor = await advisor_store.create_advisor(
                session,
                name=f"Berater {n}",
                email=f"b{n}@example.org",
                institution="Institut",
                fields="",
                language="de",
                authorized_on=date(2019, 1, 1),
                source=AuthorizationSource.IMPORT,
                now=NOW,
                next_step_on=None,
            )
            await advisor_store.record_step(
                session,
                advisor_id=advisor.id,
                step="first_reminder" if n else "relisting",
                cycle_start=date(2019, 1, 1),
                due_on=date(2021, 6, 10),
                outcome=StepOutcome.SENT,
                now=NOW,
                outbox_key=None,
            )
    await send_digest(org.core.services, MONDAY)
    [text] = await _digests(org)
    for figure in ("jetzt gelistet: 3", "neu gelistet: 3", "erinnert: 2", "wieder gelistet: 1"):
        assert figure in text
    assert "Berater 1" not in text  # figures, no names


async def test_a_group_sharing_only_recommendations_keeps_its_decisions(
    org: Conversation,
) -> None:
    assert "nur Empfehlungen und Aufträge" in await org.text(
        anna, "/infodienstfreigabe empfehlungen"
    )
    assert "nur Empfehlungen und Aufträge" in await org.text(clara, "/infodienstfreigabe", GROUP)
    await org.say(olaf, "/infodienst hier", dm(olaf))
    await send_digest(org.core.services, MONDAY)
    [text] = await _digests(org)
    assert "Checks ausweiten" in text and "Bögen prüfen" in text
    assert "Budget" not in text
    assert "Juli-Vorbereitung" not in text  # its meetings are no recommendation either


async def test_erasing_an_admin_removes_their_private_chat_as_destination(
    org: Conversation,
) -> None:
    await org.say(olaf, "/infodienst hier", dm(olaf))
    await org.say(olaf, "/infodienst info@example.org", dm(olaf))
    await org.say(olaf, "/datenloeschen ja", dm(olaf))
    assert await send_digest(org.core.services, MONDAY) == 1
    [row] = await outbox_rows(org.core, "org_digest")
    assert row.platform == MAIL_PLATFORM  # the address stays; Olaf's chat is gone


async def test_an_overdue_task_from_another_groups_assignment_is_listed(
    org: Conversation,
) -> None:
    assert "Datum" in await org.text(clara, "/alsaufgabe E-1 Clara bis 45.13.2021", OTHER_GROUP)
    assert "für Clara" in await org.text(clara, "/alsaufgabe E-1 Clara bis 12.06.2021", OTHER_GROUP)
    assert "12.06.2021" in await org.text(clara, "/aufgaben", OTHER_GROUP)
    await org.say(olaf, "/infodienst hier", dm(olaf))
    await send_digest(org.core.services, MONDAY)
    [text] = await _digests(org)
    assert (
        "AG Qualitätssicherung: die Aufgabe aus B-2021-02 von AG Transfer war am 12.06.2021 "
        "fällig" in text
    )
    assert "noch nicht behandelt" not in text  # no longer open
    # the receiving group's chair opts out: its tasks are its own business again
    await org.say(clara, "/infodienstfreigabe aus", OTHER_GROUP)
    await send_digest(org.core.services, MONDAY + timedelta(days=7))
    assert "Aufgabe aus B-2021-02" not in (await _digests(org))[1]


async def test_who_left_the_admin_group_gets_no_digest(database_url: str) -> None:
    admins_chat = ChatRef("test", "-500", ChatKind.GROUP, "Geschäftsstelle")
    petra, gero = person("petra"), person("gero")
    settings = load_settings(database_url=database_url, admin_chats="test:-500", _env_file=None)
    core = await Core.create(settings, FixedClock(NOW))
    try:
        chat = await _scene(core)
        chat.platform.admins.add((admins_chat.chat_id, petra.user_id))
        await chat.say(petra, '/registrieren ag "Geschäftsstelle"', admins_chat)
        await chat.say(gero, "/beitreten", admins_chat)
        for who in (petra, gero):
            await chat.say(who, "/start", dm(who))
            assert "jetzt den Infodienst" in await chat.text(who, "/infodienst hier", dm(who))
        await core.dispatcher.member_left("test", admins_chat.chat_id, gero.user_id)  # type: ignore[attr-defined]
        assert await send_digest(core.services, MONDAY) == 1
        [row] = await outbox_rows(core, "org_digest")
        assert row.chat_id == dm(petra).chat_id
    finally:
        await core.close()
