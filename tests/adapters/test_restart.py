"""Kill the bot process in the middle of a delivery run and start it again.

Nothing may be sent twice, and nothing may be lost silently: the single message that was
in flight at the moment of the kill is not resent but marked `uncertain` (the platform has
no idempotency key; see storage/outbox.py). The bot runs as a real `python -m bot`
process against the fake Telegram API served from this test process.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from bot.app import Core
from bot.core.messages import OutgoingMessage, UserRef
from bot.core.settings import load_settings
from storage import outbox, people
from storage.models import OutboxMessage
from tests.fake_telegram import FakeTelegram
from tests.telegram_bot import bot_process_env, start_bot_process

PEOPLE = 40


async def test_kill_and_restart_never_sends_twice_and_loses_nothing_silently(
    tmp_path: Path,
) -> None:
    db = tmp_path / "bot.db"
    async with FakeTelegram() as fake:
        core = await Core.create(load_settings(_env_file=None, database_url=f"sqlite:///{db}"))
        async with core.services.sessions.begin() as session:
            for index in range(PEOPLE):
                user_id = 5000 + index
                fake.add_user(user_id, f"P{index}", f"p{index}", started=True)
                identity = await people.upsert_identity(
                    session,
                    UserRef("telegram", str(user_id), f"P{index}"),
                    core.services.clock.now(),
                    private_chat_id=str(user_id),
                )
                await outbox.enqueue(
                    session,
                    dedupe_key=f"reminder:{user_id}",
                    purpose="reminder",
                    platform="telegram",
                    message=OutgoingMessage(f"Erinnerung {index}"),
                    now=core.services.clock.now(),
                    user_id=identity.user_id,
                )
        await core.close()

        env = bot_process_env(fake, db)
        first = await start_bot_process(env, tmp_path)
        try:
            await fake.wait_until(
                lambda: sum(m.text.startswith("Erinnerung") for m in fake.sent) >= 10,
                timeout=30,
                what="the first deliveries",
            )
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        delivered_before = sum(m.text.startswith("Erinnerung") for m in fake.sent)
        assert delivered_before < PEOPLE, "killed too late to prove anything"

        second = await start_bot_process(env, tmp_path)
        try:
            await fake.wait_until(
                lambda: (
                    len({m.chat_id for m in fake.sent if m.text.startswith("Erinnerung")})
                    >= PEOPLE - 1
                ),
                timeout=60,
                what="every reminder after the restart",
            )
            core = await Core.create(load_settings(_env_file=None, database_url=f"sqlite:///{db}"))
            for _ in range(100):
                async with core.services.sessions() as session:
                    unsent = await session.scalar(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.status.not_in(("sent", "uncertain")))
                    )
                    uncertain = {
                        int(chat)
                        for chat in await session.scalars(
                            select(OutboxMessage.chat_id).where(OutboxMessage.status == "uncertain")
                        )
                    }
                if unsent == 0:
                    break
                await asyncio.sleep(0.1)
            await core.close()
            assert unsent == 0
            assert len(uncertain) <= 1  # at most the one in flight at the kill
        finally:
            second.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(second.communicate(), timeout=20)
        assert second.returncode == 0, stderr.decode()

    per_chat = Counter(m.chat_id for m in fake.sent if m.text.startswith("Erinnerung"))
    everyone = {5000 + i for i in range(PEOPLE)}
    assert set(per_chat) <= everyone
    assert everyone - set(per_chat) <= uncertain  # nothing lost silently
    repeated = [chat for chat, count in per_chat.items() if count > 1]
    assert not repeated, f"sent twice: {repeated}"
