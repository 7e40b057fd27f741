"""Outbox delivery rate against Telegram's flood limits, with commands answered meanwhile.

Path measured: the outbox (SQLite) → the delivery worker → the real Telegram adapter
(python-telegram-bot) in a real `python -m bot` process → the fake Bot API in this process,
which enforces Telegram's limits (30/s overall, 1/s per chat) with 429 answers.

`--count` direct messages (default 10,000, one per person) are queued before the bot
starts. While they drain, other people send `/einstellungen` in their private chats at a
steady pace; their reply times are the interactive latency.

Figures (last line, one JSON object):
- rate_ratio: messages per second between the first and the last delivery, divided by the
  worker's configured limit (OUTBOX_GLOBAL_PER_SECOND, 25 = TELEGRAM_LIMITS in
  bot/outbox/ports.py); goal ≥ 0.9.
- retry_429: 429 answers the fake gave (to any send, replies included); goal 0.
- lost / duplicated: queued messages that never arrived / arrived more than once; must be 0.
- interactive_p95_ms: 95th percentile of command → reply time during the run; goal < 200.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import Core  # noqa: E402
from bot.core.messages import OutgoingMessage, UserRef  # noqa: E402
from bot.core.settings import load_settings  # noqa: E402
from bot.outbox.ports import TELEGRAM_LIMITS  # noqa: E402
from storage import outbox, people  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402

FIRST_RECIPIENT = 100_000
FIRST_INTERACTIVE = 900_000
INTERACTIVE_USERS = 40


async def seed(database_url: str, fake: FakeTelegram, count: int) -> None:
    core = await Core.create(load_settings(_env_file=None, database_url=database_url))
    now = core.services.clock.now()
    for start in range(0, count, 1000):
        async with core.services.sessions.begin() as session:
            for index in range(start, min(start + 1000, count)):
                chat = FIRST_RECIPIENT + index
                fake.add_user(chat, f"P{index}", f"p{index}", started=True)
                identity = await people.upsert_identity(
                    session,
                    UserRef("telegram", str(chat), f"P{index}"),
                    now,
                    private_chat_id=str(chat),
                )
                await outbox.enqueue(
                    session,
                    dedupe_key=f"bench:{index}",
                    purpose="bench",
                    platform="telegram",
                    message=OutgoingMessage(f"Zustellung {index}"),
                    now=now,
                    user_id=identity.user_id,
                )
    async with core.services.sessions.begin() as session:
        for index in range(INTERACTIVE_USERS):  # known already: no first-contact burst
            chat = FIRST_INTERACTIVE + index
            fake.add_user(chat, f"I{index}", f"i{index}", started=True)
            await people.upsert_identity(
                session,
                UserRef("telegram", str(chat), f"I{index}"),
                now,
                private_chat_id=str(chat),
            )
    await core.close()


async def interactive(fake: FakeTelegram, stop: asyncio.Event, every: float) -> list[float]:
    """One command every `every` seconds from a rotating set of people; reply times in ms."""
    latencies: list[float] = []
    pending: set[asyncio.Task[None]] = set()

    async def one(chat: int) -> None:
        since = len(fake.sent)  # only newer messages are scanned while waiting
        started = time.perf_counter()
        fake.send_text(chat, chat, "/einstellungen")
        await fake.wait_for_messages(chat_id=chat, timeout=30, since=since)
        latencies.append((time.perf_counter() - started) * 1000)

    index = 0
    while not stop.is_set():
        chat = FIRST_INTERACTIVE + index % INTERACTIVE_USERS
        index += 1
        task = asyncio.create_task(one(chat))
        pending.add(task)
        task.add_done_callback(pending.discard)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    return latencies


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="direct messages to deliver")
    parser.add_argument(
        "--command-every", type=float, default=0.5, help="seconds between interactive commands"
    )
    args = parser.parse_args()
    limit = TELEGRAM_LIMITS.global_per_second
    with tempfile.TemporaryDirectory() as workdir:
        database_url = f"sqlite:///{Path(workdir) / 'bench.db'}"
        async with FakeTelegram() as fake:
            fake.rate_limits(enabled=True)  # Telegram's: 30/s overall, 1/s per chat
            print(f"queueing {args.count} messages …", file=sys.stderr)
            await seed(database_url, fake, args.count)
            env = {
                k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))
            }
            env.update(
                DATABASE_URL=database_url,
                TELEGRAM_TOKEN=fake.token,
                TELEGRAM_BASE_URL=fake.base_url,
                TELEGRAM_BASE_FILE_URL=fake.base_file_url,
                OUTBOX_GLOBAL_PER_SECOND=str(limit),
                LOG_LEVEL="WARNING",
            )
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                env=env,
                cwd=workdir,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            try:

                def bench_sent() -> list:
                    return [m for m in fake.sent if m.text.startswith("Zustellung")]

                await fake.wait_until(
                    lambda: len(bench_sent()) >= 1, timeout=120, what="first delivery"
                )
                stop = asyncio.Event()
                commands = asyncio.create_task(interactive(fake, stop, args.command_every))
                timeout = args.count / limit * 3 + 60
                deadline = time.perf_counter() + timeout
                while len({m.chat_id for m in bench_sent()}) < args.count:
                    if time.perf_counter() > deadline:
                        break
                    await asyncio.sleep(0.5)
                await asyncio.sleep(2)  # a late duplicate would show up here
                stop.set()
                latencies = await commands
            finally:
                with contextlib.suppress(ProcessLookupError):  # it may have died already
                    process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.communicate(), timeout=30)
                except TimeoutError:
                    process.kill()
            sent = bench_sent()
            per_chat = Counter(m.chat_id for m in sent)
            first, last = min(m.at for m in sent), max(m.at for m in sent)
            rate = (len(per_chat) - 1) / (last - first) if last > first else float("nan")
            expected = {FIRST_RECIPIENT + i for i in range(args.count)}
            figures = {
                "rate_ratio": round(rate / limit, 3),
                "rate_per_s": round(rate, 2),
                "limit_per_s": limit,
                "retry_429": fake.count_429,
                "retry_429_replies": sum(
                    1
                    for e in fake.errors
                    if e.status == 429 and int(e.params.get("chat_id", 0)) >= FIRST_INTERACTIVE
                ),
                "lost": len(expected - set(per_chat)),
                "duplicated": sum(count - 1 for count in per_chat.values()),
                "interactive_p95_ms": round(percentile(latencies, 0.95), 1),
                "interactive_median_ms": round(statistics.median(latencies), 1)
                if latencies
                else None,
                "commands": len(latencies),
                "count": args.count,
                "seconds": round(last - first, 1),
                "database": "sqlite",
            }
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
