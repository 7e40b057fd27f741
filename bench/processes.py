"""Commands per second through the webhook path with 1, 2, 4 … bot processes on one
PostgreSQL database, against one process, in the same run.

Path measured: the fake Bot API (this process) posts each update, as Telegram's server
does (up to 40 connections at once, one chat's updates one after the other), to a
round-robin load balancer (this process) → one of N `python -m bot run` processes in
webhook mode (claim of the update_id, dispatcher, its transaction on PostgreSQL, the
reply by sendMessage to the fake, the update marked handled) → 200 to the fake, which
then posts that chat's next update. PostgreSQL is the suite's throwaway cluster
(tests/postgres.py), a fresh database per setting.

Workload: `--users` private chats, each writing `--commands` commands in a row: `/q<chat>n<i>`,
a command the bot does not know (it answers "I don't know the command …" with the name),
so every reply names its command. That is the full per-update path — the person's
bookkeeping (identity, last seen) in a transaction, the reply — without the work of one
particular command. A warm-up round of `/start` creates the people first.

Counted from what the fake API received: `out_of_order` (a reply in a chat that came
before the reply to an earlier command of that chat) and `handled_twice` (a command
answered more than once); both must be 0. Where the time goes: the CPU seconds of the
bot processes, of PostgreSQL (postmaster and its backends) and of this process (the fake
API and the balancer) during the timed phase, per command.

Settings are run in rounds, alternating their order (1,2,4 then 4,2,1 …), so the drift
of a shared machine falls on all of them; the mean of the rounds counts.

Last line of output: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import signal
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_telegram import FakeTelegram  # noqa: E402
from tests.load_balancer import LoadBalancer  # noqa: E402
from tests.ports import free_port  # noqa: E402
from tests.postgres import PostgresCluster, find_pg_bin  # noqa: E402
from tests.webhook_processes import HOOK_PATH, SECRET, listening  # noqa: E402

FIRST_USER = 20_000
MARKER = re.compile(r"q(\d+)n(\d+)")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_busy_seconds() -> float:
    """CPU seconds all cores of this machine spent on anything but idling, so far."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / TICKS


def postgres_pids(cluster: PostgresCluster) -> list[int]:
    """The postmaster of `cluster` and its children (backends, writer, checkpointer …)."""
    postmaster = int((cluster.root / "data" / "postmaster.pid").read_text().split()[0])
    pids = [postmaster]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if parent == postmaster:
            pids.append(int(entry.name))
    return pids


@dataclass
class Result:
    """One timed run of one setting."""

    processes: int
    commands: int
    seconds: float
    cpu: dict[str, float]
    out_of_order: int
    handled_twice: int
    missing: int
    share: list[int] = field(default_factory=list)

    @property
    def per_s(self) -> float:
        return self.commands / self.seconds


async def stop_bots(processes: list[asyncio.subprocess.Process]) -> None:
    for process in processes:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            await asyncio.wait_for(process.wait(), timeout=30)
        except TimeoutError:
            process.kill()
            await process.wait()


def count_replies(fake: FakeTelegram, users: int, commands: int) -> tuple[int, int, int]:
    """out_of_order, handled_twice, missing: from the replies the fake API received."""
    seen: dict[int, list[int]] = defaultdict(list)
    for message in fake.sent:
        found = MARKER.search(message.text or "")
        if found and int(found.group(1)) == message.chat_id:
            seen[message.chat_id].append(int(found.group(2)))
    out_of_order = twice = missing = 0
    for index in range(users):
        got = seen.get(FIRST_USER + index, [])
        out_of_order += sum(1 for a, b in itertools.pairwise(got) if b < a)
        twice += len(got) - len(set(got))
        missing += commands - len(set(got))
    return out_of_order, twice, missing


async def run_setting(
    count: int, cluster: PostgresCluster, users: int, commands: int, round_: int
) -> Result:
    database_url = cluster.create_database(f"procs{count}r{round_}")
    with tempfile.TemporaryDirectory() as workdir:
        async with FakeTelegram(webhook_parallel=True) as fake:
            for index in range(users):
                user = FIRST_USER + index
                fake.add_user(user, f"Person {index}", f"p{index}", "en", started=True)
            # The balancer's backends are the bots' ports; they are chosen first.
            ports = [free_port() for _ in range(count)]
            async with LoadBalancer([f"http://127.0.0.1:{p}" for p in ports]) as balancer:
                processes = await start_bots(
                    ports, fake, database_url, balancer.url(HOOK_PATH), Path(workdir)
                )
                try:
                    for index in range(users):
                        fake.send_text(FIRST_USER + index, FIRST_USER + index, "/start")
                    await fake.wait_until(
                        lambda: len(fake.sent) >= users, timeout=300, what="warm-up"
                    )
                    fake.clear_log()
                    balancer.forwarded.clear()
                    bots = [p.pid for p in processes]
                    pg = postgres_pids(cluster)
                    before = (
                        sum(cpu_seconds(p) for p in bots),
                        sum(cpu_seconds(p) for p in pg),
                        time.process_time(),
                        machine_busy_seconds(),
                    )
                    started = time.perf_counter()
                    for i in range(commands):
                        for index in range(users):
                            user = FIRST_USER + index
                            fake.send_text(user, user, f"/q{user}n{i}")
                    total = users * commands
                    await fake.wait_until(
                        lambda: len(fake.sent) >= total, timeout=900, what="all replies"
                    )
                    seconds = time.perf_counter() - started
                    pg = postgres_pids(cluster)  # the same backends: connections are pooled
                    cpu = {
                        "bot": sum(cpu_seconds(p) for p in bots) - before[0],
                        "postgres": sum(cpu_seconds(p) for p in pg) - before[1],
                        "fake_api_and_balancer": time.process_time() - before[2],
                    }
                    # what else ran on the machine meanwhile (other people's work)
                    cpu["other_work"] = max(
                        0.0, machine_busy_seconds() - before[3] - sum(cpu.values())
                    )
                    await asyncio.sleep(0.5)  # a doubled reply would have arrived by now
                    out_of_order, twice, missing = count_replies(fake, users, commands)
                    share = [balancer.forwarded[b] for b in balancer.backends]
                finally:
                    await stop_bots(processes)
    return Result(count, total, seconds, cpu, out_of_order, twice, missing, share)


async def start_bots(
    ports: list[int], fake: FakeTelegram, database_url: str, hook_url: str, workdir: Path
) -> list[asyncio.subprocess.Process]:
    """`python -m bot run` in webhook mode on each of `ports`, all registering the
    balancer's URL; returns once every one listens."""
    processes = []
    for port in ports:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATRIX_"))}
        env.update(
            DATABASE_URL=database_url,
            TELEGRAM_TOKEN=fake.token,
            TELEGRAM_BASE_URL=fake.base_url,
            TELEGRAM_BASE_FILE_URL=fake.base_file_url,
            TELEGRAM_MODE="webhook",
            TELEGRAM_WEBHOOK_URL=hook_url,
            TELEGRAM_WEBHOOK_PORT=str(port),
            TELEGRAM_WEBHOOK_SECRET=SECRET,
            HTTP_PORT=str(free_port()),
            MAIL_DIR=str(workdir / "mail"),
            LOG_LEVEL="WARNING",
        )
        processes.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                env=env,
                cwd=workdir,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
        )
    for port in ports:
        await listening(port, within=120)
    return processes


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", default="1,2,4", help="process counts, comma-separated")
    parser.add_argument("--users", type=int, default=100, help="private chats writing at once")
    parser.add_argument("--commands", type=int, default=10, help="commands per chat")
    parser.add_argument("--rounds", type=int, default=2, help="timed runs per setting")
    args = parser.parse_args()
    counts = [int(part) for part in args.processes.split(",")]
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise SystemExit("PostgreSQL is not installed (scripts/ensure_postgres.sh)")
    cluster = PostgresCluster.start(bin_dir)
    results: dict[int, list[Result]] = defaultdict(list)
    try:
        for round_ in range(args.rounds):
            for count in counts if round_ % 2 == 0 else list(reversed(counts)):
                result = await run_setting(count, cluster, args.users, args.commands, round_)
                results[count].append(result)
                cpu = ", ".join(
                    f"{name} {1000 * seconds / result.commands:.1f} ms"
                    for name, seconds in result.cpu.items()
                )
                print(
                    f"{count} process(es), round {round_ + 1}: {result.per_s:.1f} commands/s "
                    f"({result.commands} in {result.seconds:.1f} s); CPU per command: {cpu}; "
                    f"posts per process {result.share}; out_of_order {result.out_of_order}, "
                    f"handled_twice {result.handled_twice}, missing {result.missing}",
                    flush=True,
                )
    finally:
        cluster.stop()
    rate = {c: statistics.mean(r.per_s for r in results[c]) for c in counts}
    base = rate[counts[0]]
    per_command = {
        str(c): {
            name: round(1000 * statistics.mean(r.cpu[name] / r.commands for r in results[c]), 2)
            for name in ("bot", "postgres", "fake_api_and_balancer", "other_work")
        }
        for c in counts
    }
    ours = ("bot", "postgres", "fake_api_and_balancer")
    busy = {
        str(c): {
            "ours": round(
                statistics.mean(sum(r.cpu[n] for n in ours) / r.seconds for r in results[c]), 2
            ),
            "other_work": round(
                statistics.mean(r.cpu["other_work"] / r.seconds for r in results[c]), 2
            ),
        }
        for c in counts
    }
    everything = [r for c in counts for r in results[c]]
    print(
        json.dumps(
            {
                "commands_per_s": {str(c): round(rate[c], 1) for c in counts},
                "ratio_vs_one": {str(c): round(rate[c] / base, 3) for c in counts},
                "cpu_ms_per_command": per_command,
                "cores_busy": busy,
                "cores": os.cpu_count(),
                "out_of_order": sum(r.out_of_order for r in everything),
                "handled_twice": sum(r.handled_twice for r in everything),
                "missing": sum(r.missing for r in everything),
                "commands_per_run": args.users * args.commands,
                "rounds": args.rounds,
                "database": "postgresql",
            }
        )
    )


async def cancellable() -> None:
    """main(), cancelled by SIGTERM like by Ctrl-C: the bots and the cluster are stopped."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    await main()


if __name__ == "__main__":
    asyncio.run(cancellable())
