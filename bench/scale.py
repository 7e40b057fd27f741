"""The most-used commands on an organisation's ten years of history against one group alone.

Two databases on the same backend, filled by bench/scale_data.py in the same run: the large
one (500 groups, 15,000 people, 10,000 advisors, 50,000 meetings, 200,000 decisions and
action items, 20,000 polls, the outbox the retention leaves of 5,000,000 messages — see
that module) and a small one holding only the measured group ("AG Transfer": 100 meetings
over ten years, 125 members) with its share of advisors and outbox. Every row of the small
database is the same row in the large one.

The chair (anna) of AG Transfer then sends the commands of COMMANDS through the real
dispatcher (tests/harness.py's Conversation, no network), alternating between the two
databases command by command so the machine's drift hits both alike. Per command: p50 and
p95 on each database and `p95_ratio` (large ÷ small); the goal is p95_ratio_max <= 1.5.

Also measured on the large database:
- feed_ms: the personal calendar feed of the chair, a member of 50 groups, through the
  feed server on 127.0.0.1 (median of GETs right after one of her meetings changed, i.e.
  the feed is rebuilt, not answered from a cache);
- daily_run_s: the daily advisor run (handlers/advisors/jobs.py) over 10,000 advisors in
  the steady state (bench/sweep.py's model); goal < 2;
- poll_press_ms: p95 of a button press on the open poll with 500 answers (also one of the
  commands, so in the ratio);
- startup_s: a fresh process importing the bot and creating its Core (migrations checked)
  on the large database; rss_mb: that process's resident memory afterwards, idle; goal < 3 s.

    .venv/bin/python bench/scale.py [--database postgresql|sqlite] [--scale 1] [--repeat 60]

PostgreSQL runs on the test suite's throwaway cluster (tests/postgres.py). Last line of
output: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The repository root replaces this script's folder: bench/email.py would shadow `email`.
sys.path[0] = str(ROOT)

import aiohttp  # noqa: E402
from sqlalchemy import update  # noqa: E402

from bench.scale_data import FEED_GROUPS, NOW, TARGET_GROUP, Sizes, generate  # noqa: E402
from bench.scale_scene import COMMANDS, POLL_PRESS, Side, percentile  # noqa: E402
from bench.sweep import POLICY_START  # noqa: E402
from bot.app import Core  # noqa: E402
from bot.core.enums import FeedKind  # noqa: E402
from bot.feed_server import FeedServer  # noqa: E402
from handlers.advisors.jobs import advisor_escalation  # noqa: E402
from storage import calendar as feeds  # noqa: E402
from storage.models import Meeting  # noqa: E402


async def measure_commands(small: Side, large: Side, repeat: int) -> dict[str, dict]:
    plan = [*COMMANDS, (POLL_PRESS, (), True)]
    for round_ in range(-1, repeat):
        for index, (name, texts, in_group) in enumerate(plan):
            pair = (small, large) if (round_ + index) % 2 else (large, small)
            for side in pair:
                # Both cores share this process's heap: collected before each command, so
                # one database's run does not pay for the garbage the other one left.
                gc.collect()
                await side.run(name, texts, in_group, round_)
    results = {}
    for name, *_ in plan:
        s, g = small.times[name], large.times[name]
        results[name] = {
            "small_p50": round(statistics.median(s), 2),
            "small_p95": round(percentile(s, 0.95), 2),
            "large_p50": round(statistics.median(g), 2),
            "large_p95": round(percentile(g, 0.95), 2),
        }
        results[name]["p95_ratio"] = round(
            results[name]["large_p95"] / results[name]["small_p95"], 3
        )
    return results


async def measure_feed(core: Core, rounds: int = 5) -> tuple[float, float, int]:
    """Median ms of the chair's personal feed rebuilt after a change, and served warm."""
    async with core.services.sessions() as session, session.begin():
        token = await feeds.issue(session, FeedKind.PERSON, 1, NOW)
    server = FeedServer(core.services)
    await server.start("127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.port}/calendar/{token}.ics"
    rebuilds, warm, events = [], [], 0
    try:
        async with aiohttp.ClientSession() as http:
            for index in range(rounds):
                async with core.services.sessions() as session, session.begin():
                    await session.execute(
                        update(Meeting)
                        .where(Meeting.group_id == 2 + index % (FEED_GROUPS - 1))
                        .where(Meeting.number == 99)
                        .values(
                            updated_at=NOW + timedelta(minutes=index + 1),
                            sequence=Meeting.sequence + 1,
                        )
                    )
                for bucket in (rebuilds, warm):
                    started = time.perf_counter()
                    async with http.get(url) as response:
                        body = await response.read()
                        assert response.status == 200, response.status
                    bucket.append((time.perf_counter() - started) * 1000)
                events = body.count(b"BEGIN:VEVENT")
    finally:
        await server.stop()
    return statistics.median(rebuilds), statistics.median(warm), events


STARTUP = """
import asyncio, sys, time
started = time.perf_counter()
sys.path[0] = {root!r}
from bot.app import Core
from bot.core.settings import load_settings

async def main():
    core = await Core.create(load_settings(database_url={url!r}, _env_file=None))
    elapsed, cpu = time.perf_counter() - started, time.process_time()
    await asyncio.sleep(1)
    rss = [l for l in open("/proc/self/status") if l.startswith("VmRSS:")][0].split()[1]
    print(elapsed, cpu, int(rss) / 1024)
    await core.close()

asyncio.run(main())
"""


def measure_startup(url: str, runs: int = 3) -> tuple[float, float, float]:
    """Medians of: seconds from a fresh interpreter to a ready Core (imports, engine,
    migrations checked), the CPU seconds that took (what a machine shared with other work
    does not inflate), and the idle resident MB after it."""
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", STARTUP.format(root=str(ROOT), url=url)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout.split()
        results.append(tuple(float(x) for x in out))
    return tuple(statistics.median(r[i] for r in results) for i in range(3))  # type: ignore[return-value]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--scale", type=float, default=1.0, help="1 = the issue's sizes")
    parser.add_argument("--repeat", type=int, default=60, help="timed runs per command")
    args = parser.parse_args()
    sizes = Sizes.scaled(args.scale)
    async with AsyncExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ag-scale-")))
        if args.database == "postgresql":
            from tests.postgres import PostgresCluster, find_pg_bin

            bin_dir = find_pg_bin()
            assert bin_dir is not None, "PostgreSQL is not installed (scripts/ensure_postgres.sh)"
            cluster = PostgresCluster.start(bin_dir)
            stack.callback(cluster.stop)
            large_url, small_url = (
                cluster.create_database("large"),
                cluster.create_database("small"),
            )
        else:
            large_url = f"sqlite:///{workdir / 'large.db'}"
            small_url = f"sqlite:///{workdir / 'small.db'}"
        generated = await generate(large_url, sizes)
        print(f"generated large database in {generated['seconds']} s: {generated['rows']}")
        small_generated = await generate(small_url, sizes, only_group=TARGET_GROUP)
        print(f"generated small database in {small_generated['seconds']} s")
        startup_s, startup_cpu_s, rss_mb = measure_startup(large_url)
        small = Side("small", small_url, POLICY_START)
        large = Side("large", large_url, POLICY_START)
        for side in (small, large):
            await side.start()
            stack.push_async_callback(side.close)
        results = await measure_commands(small, large, args.repeat)
        for name, figures in results.items():
            print(f"{name:28s} {json.dumps(figures)}")
        feed_ms, feed_warm_ms, feed_events = await measure_feed(large.core)
        started = time.perf_counter()
        report = await advisor_escalation(large.core.services, NOW)
        daily_run_s = time.perf_counter() - started
        print(
            f"daily advisor run over {sizes.advisors} advisors: {report.advisors} due, "
            f"{report.sent} sent, {report.missed} missed, {report.delisted} delisted"
        )
    worst = max(results, key=lambda n: results[n]["p95_ratio"])
    print(
        json.dumps(
            {
                "p95_ratio_max": results[worst]["p95_ratio"],
                "worst_command": worst,
                "feed_ms": round(feed_ms, 1),
                "feed_warm_ms": round(feed_warm_ms, 1),
                "feed_events": feed_events,
                "daily_run_s": round(daily_run_s, 3),
                "poll_press_ms": results[POLL_PRESS]["large_p95"],
                "startup_s": round(startup_s, 2),
                "startup_cpu_s": round(startup_cpu_s, 2),
                "rss_mb": round(rss_mb, 1),
                "database": args.database,
                "scale": args.scale,
                "generate_s": generated["seconds"],
                "outbox_rows": generated["rows"].get("outbox", 0),
                "commands": len(results),
                "repeat": args.repeat,
                "load_avg_1m": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
