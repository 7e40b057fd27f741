"""Two webhook processes behind the load balancer, each with its own delivery worker and
scheduler, on one PostgreSQL database: a meeting's reminders fall due, both processes'
sweeps find them again and again, and each person gets each message once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.core.clock import FixedClock
from storage.models import OutboxMessage, ReminderLog
from tests.fake_telegram import FakeTelegram
from tests.postgres import PostgresCluster
from tests.telegram_bot import ANNA, BERND, CLARA, GROUP, converse
from tests.webhook_processes import webhook_processes


async def test_reminders_and_the_outbox_go_out_once_from_two_webhook_processes(
    telegram: FakeTelegram, postgres: PostgresCluster, tmp_path: Path
) -> None:
    database_url = postgres.create_database("webhook_sweeps")
    clock = FixedClock(datetime(2021, 6, 10, 8, 0, tzinfo=UTC))
    async with webhook_processes(
        telegram, database_url, tmp_path, 2, clock, scheduler_sweep_seconds=1
    ) as deployment:
        await converse(telegram, GROUP, ANNA, '/registrieren ag "AG Transfer"')
        await converse(telegram, ANNA, ANNA, "/start")
        for who in (BERND, CLARA):
            await converse(telegram, who, who, "/start")
            await converse(telegram, GROUP, who, "/beitreten")
        await converse(telegram, GROUP, ANNA, "/sitzung 15.06.2021 9 Uhr Sitzung")
        for who in (BERND, CLARA):
            await converse(telegram, GROUP, who, "/zusage 1 ja")
        before = {who: len(telegram.messages_in(who)) for who in (BERND, CLARA)}
        clock.set(datetime(2021, 6, 14, 7, 0, tzinfo=UTC))  # a day before: reminders due
        await telegram.wait_until(
            lambda: all(len(telegram.messages_in(w)) > before[w] for w in (BERND, CLARA)),
            timeout=30,
            what="the reminders",
        )
        await asyncio.sleep(3)  # several more sweeps of both processes
        for who in (BERND, CLARA):
            received = Counter(
                (m.text, m.document.filename if m.document else None)
                for m in telegram.messages_in(who)
            )
            assert all(count == 1 for count in received.values()), received
        async with deployment.bots[0].core.services.sessions() as session:
            logged = await session.scalar(select(func.count()).select_from(ReminderLog))
            statuses = Counter((await session.execute(select(OutboxMessage.status))).scalars())
        assert logged == 2  # one reminder each for Bernd and Clara
        assert set(statuses) == {"sent"}, statuses
        # both processes took part: each answered some of the commands
        assert all(count > 0 for count in deployment.balancer.forwarded.values())
