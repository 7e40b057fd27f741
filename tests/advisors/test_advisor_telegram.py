"""End to end on the fake Bot API: an advisor delisted by the daily run is listed again the
moment an admin records their attendance, and the relisting letter with the new expiry
date reaches their private chat through the outbox."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.dates import format_date
from handlers.advisors.escalation import run_advisor_escalation
from handlers.advisors.policy import add_months
from storage.models import Advisor
from tests.fake_telegram import FakeTelegram
from tests.telegram_bot import (
    ANNA,
    BERND,
    TelegramBot,
    converse,
    settings_for,
    start_telegram_bot,
    stop_telegram_bot,
)


@pytest.fixture
async def bot(telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[TelegramBot]:
    """The real clock: the advisor was authorized 30 months ago (so is due for delisting)."""
    today = _today()
    settings = settings_for(
        telegram,
        tmp_path,
        admin_users=f"telegram:{ANNA}",
        advisor_policy_start=add_months(today, -30),
        advisor_delist_without_exchange=True,
    )
    running = await start_telegram_bot(telegram, settings)
    yield running
    await stop_telegram_bot(running)


def _today() -> date:
    from datetime import datetime

    return datetime.now(ZoneInfo("Europe/Berlin")).date()


async def test_attendance_relists_at_once_and_the_letter_reaches_the_advisor(
    bot: TelegramBot, telegram: FakeTelegram
) -> None:
    today = _today()
    authorized = add_months(today, -30)
    for who in (ANNA, BERND):
        await converse(telegram, who, who, "/start")
    # The bot's own start-up run of the daily jobs is over (it holds the scheduler's lock):
    # it must not catch the advisor between being added and being linked.
    assert bot.core.scheduler is not None
    await bot.core.scheduler.run_jobs([])
    added = await converse(
        telegram,
        ANNA,
        ANNA,
        f"/beraterneu Bernd Berater | bernd@example.org | RKW Nord | Export | "
        f"{format_date(authorized, 'de')}",
    )
    assert "Bernd Berater" in (added[0].text or "")
    [coded] = await converse(telegram, ANNA, ANNA, "/beratercode 1")
    code = re.search(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}\b", coded.text or "").group(0)
    await converse(telegram, BERND, BERND, f"/verknuepfen {code}")

    await run_advisor_escalation(bot.core.services, today)
    await telegram.wait_for_messages(
        BERND, predicate=lambda m: "entfernt" in (m.text or ""), timeout=15
    )
    await telegram.wait_for_messages(  # the admin report to Anna, before she goes on
        ANNA, predicate=lambda m: "Erinnerungslauf" in (m.text or ""), timeout=15
    )
    async with bot.core.services.sessions() as session:
        assert (await session.get(Advisor, 1)).status == "delisted"

    yesterday = today - timedelta(days=1)
    await converse(
        telegram, ANNA, ANNA, f'/austausch {format_date(yesterday, "de")} 9-12 Uhr "IHK" | Köln'
    )
    [reply] = await converse(telegram, ANNA, ANNA, "/teilnahme 1 1")
    assert "Sofort wieder aufgeführt: Bernd Berater" in (reply.text or "")
    async with bot.core.services.sessions() as session:
        assert (await session.get(Advisor, 1)).status == "listed"
    expiry = format_date(add_months(yesterday, 24), "de")
    [letter] = await telegram.wait_for_messages(
        BERND, predicate=lambda m: "wieder in der" in (m.text or ""), timeout=15
    )
    assert f"gilt jetzt bis zum {expiry}" in (letter.text or "")
