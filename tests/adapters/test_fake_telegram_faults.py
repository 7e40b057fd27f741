"""The fake Bot API's misbehaving mode, checked over plain HTTP: what each fault does to the
answer of a request it processed, and that a seeded random schedule repeats exactly."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.fake_telegram import FakeTelegram, Fault, FaultKind, Phase

CHAT = 4242


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as running:
        running.add_user(CHAT, "Dora", "dora", started=True)
        yield running


async def send(fake: FakeTelegram, text: str, timeout: float = 5.0) -> tuple[int, bytes]:  # noqa: ASYNC109
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fake.base_url}{fake.token}/sendMessage",
            data={"chat_id": str(CHAT), "text": text},
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response,
    ):
        return response.status, await response.read()


async def test_a_slow_answer_comes_late_but_the_message_is_there_at_once(fake) -> None:
    fake.slow_answers("sendMessage", 0.6)
    started = time.monotonic()
    status, _ = await send(fake, "langsam")
    assert status == 200 and time.monotonic() - started >= 0.6
    assert [m.text for m in fake.sent] == ["langsam"]


async def test_a_reset_cuts_the_answer_of_a_processed_request(fake) -> None:
    fake.reset_next("sendMessage")
    with pytest.raises(aiohttp.ClientPayloadError):
        await send(fake, "abgerissen")
    assert [m.text for m in fake.sent] == ["abgerissen"]
    assert fake.cut_mid_response(slower_than=5.0) == 1


async def test_a_garbled_answer_is_not_json(fake) -> None:
    fake.malformed_next("sendMessage")
    status, body = await send(fake, "kaputt")
    assert status == 200 and not body.startswith(b"{")
    assert [m.text for m in fake.sent] == ["kaputt"]


async def test_an_outage_phase_refuses_before_processing(fake) -> None:
    fake.schedule([Phase(0.0, 60.0, Fault(FaultKind.STATUS, status=500))])
    status, _ = await send(fake, "weg")
    assert status == 500 and fake.sent == []


async def test_random_faults_repeat_with_the_same_seed(fake) -> None:
    def draws(seed: int) -> list[bool]:
        fake.at_random({Fault(FaultKind.MALFORMED): 0.5}, seed=seed)
        return [fake._fault_after("sendMessage") is not None for _ in range(40)]

    first, again, other = draws(7), draws(7), draws(8)
    assert first == again and first != other
    assert 5 < sum(first) < 35
