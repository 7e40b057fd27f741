"""Letters an advisor can act on: exchanges before the deadline first (or a plain word that
there is none, and the admins told), no delisting for lack of an exchange to attend, the
date the authorization ran out or now runs until, and relisting at once on attendance."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest

from bot.app import Core
from bot.core.clock import FixedClock
from handlers.advisors.escalation import advisor_policy, preview
from handlers.advisors.policy import Step
from storage.models import Advisor, ExperienceExchange
from storage.outbox import decode_message
from tests.advisor_registry import ADMIN, advisor_settings
from tests.advisors.test_advisor_escalation import add_advisor, linked_user, step_rows
from tests.harness import Conversation, dm, outbox_rows


async def run_on(core: Core, clock: FixedClock, day: date):
    from handlers.advisors.escalation import run_advisor_escalation

    clock.set(datetime(day.year, day.month, day.day, 5, 0, tzinfo=UTC))
    return await run_advisor_escalation(core.services, day)


async def add_exchange(core: Core, day: date, provider: str) -> None:
    async with core.services.sessions.begin() as session:
        session.add(
            ExperienceExchange(
                starts_at=datetime(day.year, day.month, day.day, 8, 0, tzinfo=UTC),
                ends_at=datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC),
                provider=provider,
                place="Köln",
                capacity=None,
                created_at=core.services.clock.now(),
            )
        )


async def letters(core: Core) -> list[str]:
    return [decode_message(r.payload).text for r in await outbox_rows(core, "advisor_escalation")]


async def admin_notes(core: Core) -> list[str]:
    return [decode_message(r.payload).text for r in await outbox_rows(core, "advisor_admin_report")]


async def status(core: Core, advisor_id: int) -> str:
    async with core.services.sessions() as session:
        return (await session.get(Advisor, advisor_id)).status


@pytest.fixture
async def acore(database_url: str, clock: FixedClock) -> AsyncIterator[Core]:
    core = await Core.create(advisor_settings(database_url), clock)
    yield core
    await core.close()


async def test_exchanges_before_the_deadline_come_first(acore: Core, clock: FixedClock) -> None:
    user_id = await linked_user(acore, Conversation(acore), "paul")
    await add_advisor(acore, date(2019, 1, 10), user_id=user_id)
    await add_exchange(acore, date(2021, 7, 1), "HWK Later")
    await add_exchange(acore, date(2021, 5, 1), "IHK In Time")
    await run_on(acore, clock, date(2021, 3, 10))  # catch-up: the last call is current
    text = (await letters(acore))[-1]
    assert "letzte Erinnerung" in text
    before = text.index("Erfahrungsaustausche bis zum 10.06.2021:")
    later = text.index("Spätere Erfahrungsaustausche:")
    assert before < text.index("IHK In Time") < later < text.index("HWK Later")
    assert not any("Kein Erfahrungsaustausch" in note for note in await admin_notes(acore))


async def test_no_exchange_before_the_deadline_is_said_and_never_costs_the_listing(
    acore: Core, clock: FixedClock
) -> None:
    user_id = await linked_user(acore, Conversation(acore), "paul")
    advisor_id = await add_advisor(acore, date(2019, 1, 10), user_id=user_id)
    await add_exchange(acore, date(2021, 9, 1), "IHK Too Late")
    await run_on(acore, clock, date(2021, 3, 10))
    text = (await letters(acore))[-1]
    assert "Bis zum 10.06.2021 ist noch kein Erfahrungsaustausch veröffentlicht." in text
    assert "nicht aus der Berater*innen-Liste entfernt, bevor Sie an einem teilnehmen" in text
    assert text.index("Spätere Erfahrungsaustausche:") < text.index("IHK Too Late")
    [note] = await admin_notes(acore)
    assert "Kein Erfahrungsaustausch vor Ablauf der Frist anzubieten: 1" in note
    assert f"#{advisor_id} Berta Beispiel: letzte Erinnerung, Frist 10.06.2021" in note

    # The delisting day: no exchange has taken place since the last call, so it waits –
    # as the preview (chat and command line) says beforehand.
    async with acore.services.sessions() as session:
        lines, _ = await preview(
            session,
            advisor_policy(acore.settings),
            date(2021, 6, 10),
            settings=acore.settings,
        )
    assert [(line.step.step, line.waits) for line in lines] == [(Step.DELISTING, True)]
    report = await run_on(acore, clock, date(2021, 6, 10))
    assert report.held == 1 and report.delisted == 0
    assert await status(acore, advisor_id) == "listed"
    held = [n for n in await admin_notes(acore) if "vorerst nicht ausgelistet" in n]
    assert len(held) == 1 and "Seit der letzten Erinnerung vom 10.03.2021" in held[0]
    await run_on(acore, clock, date(2021, 6, 11))  # told once, not every day
    assert len([n for n in await admin_notes(acore) if "vorerst nicht" in n]) == 1
    # An exchange was offered and took place without the advisor: now the delisting.
    await add_exchange(acore, date(2021, 6, 20), "IHK Offered")
    assert (await run_on(acore, clock, date(2021, 6, 20))).held == 1  # not yet taken place
    report = await run_on(acore, clock, date(2021, 6, 21))
    assert report.delisted == 1 and await status(acore, advisor_id) == "delisted"
    assert [s.step for s in await step_rows(acore)][-1] == "delisting"


async def test_the_setting_delists_without_an_exchange(
    database_url: str, clock: FixedClock
) -> None:
    settings = advisor_settings(database_url, advisor_delist_without_exchange=True)
    core = await Core.create(settings, clock)
    try:
        user_id = await linked_user(core, Conversation(core), "paul")
        advisor_id = await add_advisor(core, date(2019, 1, 10), user_id=user_id)
        await run_on(core, clock, date(2021, 3, 10))
        assert "Die Admins wurden informiert" not in (await letters(core))[-1]
        report = await run_on(core, clock, date(2021, 6, 10))
        assert report.delisted == 1 and await status(core, advisor_id) == "delisted"
    finally:
        await core.close()


async def test_legacy_notice_says_when_the_authorization_ran_out(
    acore: Core, clock: FixedClock
) -> None:
    user_id = await linked_user(acore, Conversation(acore), "lena")
    await add_advisor(acore, date(2018, 6, 1), user_id=user_id)
    await run_on(acore, clock, date(2021, 1, 1))
    [text] = await letters(acore)
    assert "Ihre Autorisierung als Berater*in ist am 01.06.2020 abgelaufen" in text
    assert "bis zum 01.04.2021" in text


async def test_attendance_after_delisting_relists_at_once_with_the_new_expiry(
    chat: Conversation, clock: FixedClock
) -> None:
    core = chat.core
    user_id = await linked_user(core, chat, "paul")
    advisor_id = await add_advisor(core, date(2019, 1, 10), user_id=user_id)
    await add_exchange(core, date(2021, 5, 1), "IHK Missed")
    await run_on(core, clock, date(2021, 6, 10))
    assert await status(core, advisor_id) == "delisted"
    clock.set(datetime(2021, 6, 25, 8, 0, tzinfo=UTC))
    await chat.say(ADMIN, '/austausch 24.06.2021 9-12 Uhr "IHK Köln" | Köln | 30', dm(ADMIN))
    reply = await chat.text(ADMIN, f"/teilnahme 2 {advisor_id}", dm(ADMIN))
    assert "Autorisierung ab 24.06.2021 verlängert" in reply
    assert "Sofort wieder aufgeführt: Berta Beispiel" in reply
    # Listed now, not at the next daily run; the relisting letter gives the new expiry.
    assert await status(core, advisor_id) == "listed"
    relisting = (await letters(core))[-1]
    assert "wieder in der öffentlichen Berater*innen-Liste" in relisting
    assert "gilt jetzt bis zum 24.06.2023" in relisting
    # The daily run afterwards sends it no second time.
    report = await run_on(core, clock, date(2021, 6, 26))
    assert report.relisted == 0
    assert sum("wieder in der" in t for t in await letters(core)) == 1


async def test_with_no_exchanges_listed_the_letter_still_tells_the_truth(
    sqlite_url: str, clock: FixedClock
) -> None:
    """ADVISOR_EXCHANGES_LISTED=0 lists none; the letter says "none before the deadline"
    only when there really is none."""
    core = await Core.create(advisor_settings(sqlite_url, advisor_exchanges_listed=0), clock)
    try:
        chat = Conversation(core)
        in_time = await add_advisor(
            core, date(2019, 1, 10), user_id=await linked_user(core, chat, "paul")
        )
        await add_exchange(core, date(2021, 5, 1), "IHK In Time")
        await run_on(core, clock, date(2021, 3, 10))
        [text] = await letters(core)
        assert "Erfahrungsaustausch" in text and "IHK" not in text
        assert "noch kein Erfahrungsaustausch" not in text
        assert not any(s.no_exchange for s in await step_rows(core) if s.advisor_id == in_time)
        await add_advisor(
            core,
            date(2019, 9, 10),
            name="Lena Late",
            user_id=await linked_user(core, chat, "lena"),
        )
        await run_on(core, clock, date(2021, 9, 10))  # her last call: deadline 10.02.2022
        text = (await letters(core))[-1]
        assert "Bis zum 10.02.2022 ist noch kein Erfahrungsaustausch veröffentlicht." in text
    finally:
        await core.close()
