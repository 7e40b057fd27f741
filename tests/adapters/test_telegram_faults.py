"""The bot's deliveries through a Telegram that misbehaves (the fake's fault modes).

What must hold: a request whose answer is lost after Telegram processed it (slow answer,
reset mid-response, garbage) gives exactly one message and an uncertain report, never a
copy; a request that provably did not reach Telegram is simply sent again; an outage is
waited out and everything goes out in order afterwards, with one notice of the outage and
one of its end; no log line or stored error shows the token.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.telegram_http import UPLOAD_READ_TIMEOUT, AiohttpRequest, RequestNotSent
from bot.core.messages import OutgoingMessage
from handlers.delivery.uncertain import report_uncertain
from storage import outbox
from storage.models import OutboxMessage
from tests.fake_telegram import FakeTelegram, Fault, FaultKind, Phase
from tests.harness import outbox_rows
from tests.ports import free_port
from tests.telegram_bot import (
    GROUP,
    TelegramBot,
    settings_for,
    start_telegram_bot,
    stop_telegram_bot,
)

READ_TIMEOUT = 0.5
PEOPLE = (3001, 3002, 3003)


@pytest.fixture
async def bot(telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[TelegramBot]:
    """The bot with a short read timeout, admins in AG Transfer's chat, and three people
    who opened its private chat."""
    for index, person in enumerate(PEOPLE):
        telegram.add_user(person, f"P{index}", f"p{index}", started=True)
    settings = settings_for(
        telegram,
        tmp_path,
        telegram_read_timeout_seconds=READ_TIMEOUT,
        admin_chats=f"telegram:{GROUP}",
        outbox_outage_notice_seconds=1,
    )
    running = await start_telegram_bot(telegram, settings)
    # Started once the worker runs: from then on faults hit deliveries, not the setup.
    for _ in range(200):
        if running.core.worker is not None:
            break
        await asyncio.sleep(0.05)
    yield running
    await stop_telegram_bot(running)


async def queue(bot: TelegramBot, chat: int, *texts: str) -> None:
    services = bot.core.services
    async with services.sessions.begin() as session:
        for text in texts:
            await outbox.enqueue(
                session,
                dedupe_key=f"test:{chat}:{text}",
                purpose="notice",
                platform="telegram",
                chat_id=str(chat),
                message=OutgoingMessage(text),
                now=services.clock.now(),
            )
    services.wake_outbox()


async def settled(bot: TelegramBot, timeout: float = 20.0) -> list[OutboxMessage]:  # noqa: ASYNC109
    """The test's rows once none is waiting or being sent any more."""
    async with asyncio.timeout(timeout):
        while True:
            rows = [r for r in await outbox_rows(bot.core, "notice")]
            if rows and all(r.status not in ("pending", "sending") for r in rows):
                return rows
            await asyncio.sleep(0.1)


def copies(fake: FakeTelegram) -> Counter[tuple[int, str]]:
    return Counter((m.chat_id, m.text) for m in fake.sent)


async def test_a_slow_answer_gives_one_message_and_an_uncertain_report(bot: TelegramBot) -> None:
    fake = bot.fake
    fake.slow_answers("sendMessage", READ_TIMEOUT * 4, chat_id=PEOPLE[0])
    await queue(bot, PEOPLE[0], "Einladung zur Sitzung")
    rows = await settled(bot)
    await asyncio.sleep(READ_TIMEOUT * 5)  # long after the slow answer: nothing more comes
    assert copies(fake)[(PEOPLE[0], "Einladung zur Sitzung")] == 1
    assert [r.status for r in rows] == ["uncertain"]
    assert await report_uncertain(bot.core.services, bot.core.services.clock.now()) == 1
    report = await outbox_rows(bot.core, "outbox_uncertain")
    assert len(report) == 1 and f"#{rows[0].id}" in report[0].payload["text"]
    assert report[0].payload["text"].startswith("Die Plattform hat 1 Nachricht nicht bestätigt")


async def test_a_reset_or_garbled_answer_is_uncertain_and_shows_no_token(
    bot: TelegramBot, caplog: pytest.LogCaptureFixture
) -> None:
    fake = bot.fake
    caplog.set_level(logging.DEBUG)
    fake.reset_next("sendMessage", chat_id=PEOPLE[0])
    fake.malformed_next("sendMessage", chat_id=PEOPLE[1])
    await queue(bot, PEOPLE[0], "eins")
    await queue(bot, PEOPLE[1], "zwei")
    rows = await settled(bot)
    assert {r.payload["text"]: r.status for r in rows} == {"eins": "uncertain", "zwei": "uncertain"}
    assert copies(fake)[(PEOPLE[0], "eins")] == 1 and copies(fake)[(PEOPLE[1], "zwei")] == 1
    secret = fake.token.split(":", 1)[1]
    assert all(secret not in (r.last_error or "") for r in rows)
    assert secret not in caplog.text


async def test_refused_requests_are_sent_again_once(bot: TelegramBot) -> None:
    """500 and 429 mean Telegram did not take the message: it goes out, once, later."""
    fake = bot.fake
    fake.fail_next("sendMessage", 500)
    fake.fail_next("sendMessage", 429)
    await queue(bot, PEOPLE[2], "drei")
    rows = await settled(bot, timeout=30)
    assert [r.status for r in rows] == ["sent"]
    assert copies(fake)[(PEOPLE[2], "drei")] == 1


async def test_an_outage_is_waited_out_and_everything_goes_out_in_order(
    bot: TelegramBot,
) -> None:
    fake = bot.fake
    fake.schedule([Phase(0.0, 4.0, Fault(FaultKind.STATUS, status=500))])
    texts = [f"Nachricht {i}" for i in range(4)]
    for person in PEOPLE:
        await queue(bot, person, *texts)
    rows = await settled(bot, timeout=60)
    assert {r.status for r in rows} == {"sent"}
    assert {r.attempts for r in rows} == {0}  # an outage is not the messages' fault
    for person in PEOPLE:
        got = [m.text for m in fake.sent if m.chat_id == person]
        assert got == texts  # each once, in order
    async with asyncio.timeout(30):
        while True:
            down = await outbox_rows(bot.core, "platform_unreachable")
            back = await outbox_rows(bot.core, "platform_recovered")
            if back and back[0].status == "sent":
                break
            await asyncio.sleep(0.2)
    assert len(down) == 1 and len(back) == 1
    assert "Telegram" in back[0].payload["text"]
    notices = [m.text for m in fake.sent if m.chat_id == GROUP]
    assert len(notices) == 2  # one of the outage, one of its end


async def test_no_connection_means_not_sent_and_the_error_shows_no_token() -> None:
    request = AiohttpRequest(connect_timeout=1.0)
    await request.initialize()
    try:
        with pytest.raises(RequestNotSent) as raised:
            await request.do_request(
                f"http://127.0.0.1:{free_port()}/bot123456:SECRETTOKEN/sendMessage", "POST"
            )
    finally:
        await request.shutdown()
    assert "SECRETTOKEN" not in str(raised.value)


def test_uploads_get_a_longer_read_timeout_than_texts() -> None:
    request = AiohttpRequest(read_timeout=5.0)
    base = "https://api.telegram.org/bot1:x"
    assert request.read_timeout_for(f"{base}/sendMessage", None) == 5.0
    assert request.read_timeout_for(f"{base}/sendDocument", None) == UPLOAD_READ_TIMEOUT


async def test_a_reply_telegram_refused_goes_out_through_the_outbox(bot: TelegramBot) -> None:
    """The chair's command is answered although the reply's first try got a 500."""
    fake = bot.fake
    fake.fail_next("sendMessage", 500)
    since = len(fake.sent)
    fake.send_text(PEOPLE[0], PEOPLE[0], "/hilfe")
    replies = await fake.wait_for_messages(PEOPLE[0], count=1, since=since, timeout=20)
    for _ in range(100):  # the worker records the delivery right after it
        rows = await outbox_rows(bot.core, "command_reply")
        if rows and rows[0].status == "sent":
            break
        await asyncio.sleep(0.05)
    assert [r.status for r in rows] == ["sent"]
    assert rows[0].payload["text"].startswith(replies[0].text)  # the help is long: in parts
