"""Command throughput through the full Telegram path, against a plain PTB baseline.

Path measured: fake Bot API (this process) → getUpdates → the bot (`python -m bot`, its own
process) → dispatcher → SQLite write → sendMessage → fake. The baseline is a
python-telegram-bot application whose handler only replies (bench/baseline_bot.py), run
the same way in the same run.

Both processes run side by side, each with its own fake API, and take turns: a warm-up
round of `/start` (first contact creates the people), then timed rounds of N queued
commands from distinct private chats that each change a stored setting (`/sprache en`,
then `/sprache de`, …: one UPDATE per command). Alternating rounds cancel the drift of a
shared machine; the medians count.

Last line of output: one JSON object with commands_per_s, baseline_per_s and ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_telegram import FakeTelegram  # noqa: E402

FIRST_USER = 10_000


class Contender:
    """One bot process with its own fake Bot API."""

    def __init__(self, name: str, command: list[str], users: int, workdir: Path) -> None:
        self.name, self.command, self.users, self.workdir = name, command, users, workdir
        self.fake = FakeTelegram()
        self.process: asyncio.subprocess.Process | None = None
        self.rates: list[float] = []

    async def start(self) -> None:
        await self.fake.start()
        for index in range(self.users):
            self.fake.add_user(FIRST_USER + index, f"Person {index}", f"p{index}", started=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
        env.update(
            TELEGRAM_TOKEN=self.fake.token,
            TELEGRAM_BASE_URL=self.fake.base_url,
            TELEGRAM_BASE_FILE_URL=self.fake.base_file_url,
            DATABASE_URL=f"sqlite:///{self.workdir / 'bench.db'}",
            LOG_LEVEL="WARNING",
        )
        self.process = await asyncio.create_subprocess_exec(
            *self.command,
            env=env,
            cwd=self.workdir,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        await self.fake.wait_for_call("getUpdates", timeout=60)

    async def round(self, text: str, timed: bool) -> None:
        fake = self.fake
        fake.clear_log()  # keep the fake's own bookkeeping from growing round by round
        started = time.perf_counter()
        for index in range(self.users):
            fake.send_text(FIRST_USER + index, FIRST_USER + index, text)
        await fake.wait_until(lambda: len(fake.sent) >= self.users, timeout=300, what="all replies")
        if timed:
            self.rates.append(self.users / (time.perf_counter() - started))

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout=20)
            except TimeoutError:
                self.process.kill()
        await self.fake.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000, help="commands per round")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per side")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as bot_dir, tempfile.TemporaryDirectory() as base_dir:
        ours = Contender("bot", [sys.executable, "-m", "bot", "run"], args.users, Path(bot_dir))
        baseline = Contender(
            "baseline",
            [sys.executable, str(ROOT / "bench" / "baseline_bot.py")],
            args.users,
            Path(base_dir),
        )
        async with AsyncExitStack() as stack:
            for contender in (ours, baseline):
                stack.push_async_callback(contender.stop)
                await contender.start()
                await contender.round("/start", timed=False)
            for index in range(args.rounds):
                text = f"/sprache {'en' if index % 2 == 0 else 'de'}"
                for contender in (ours, baseline) if index % 2 else (baseline, ours):
                    await contender.round(text, timed=True)
    median_ours = statistics.median(ours.rates)
    median_baseline = statistics.median(baseline.rates)
    print(f"bot rounds:      {', '.join(f'{r:.0f}/s' for r in ours.rates)}")
    print(f"baseline rounds: {', '.join(f'{r:.0f}/s' for r in baseline.rates)}")
    print(
        json.dumps(
            {
                "commands_per_s": round(median_ours, 1),
                "baseline_per_s": round(median_baseline, 1),
                "ratio": round(median_ours / median_baseline, 3),
                "commands_per_round": args.users,
                "rounds": args.rounds,
                "database": "sqlite",
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
