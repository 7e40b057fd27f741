"""Delivery through a flaky platform: a scripted hour compressed into minutes.

Path measured: the outbox on a real PostgreSQL → the delivery worker (circuit breaker,
pacing) → the platform's real sender → a platform that misbehaves on a script. For Telegram
that is the real adapter (python-telegram-bot over aiohttp) → the fake Bot API in this
process, with Telegram's flood limits and its fault modes (tests/fake_telegram/faults.py).

`--messages` (2,000) go to `--recipients` (200) people; a tenth are meeting reminders that
lose their use halfway through the outage (they must expire with a record, not go out
late). The script, in seconds from the start (`--outage-seconds` stretches the outage):
- 0–25: slow answers: 30 % of sends answered 0.5 s late, 3 % later than the read timeout
  (processed, answer lost: those must become `uncertain`, never a copy);
- all along: random connection resets mid-response (0.5 %) and garbled answers (0.3 %);
- 15–20: the database is restarted (PostgreSQL stopped and started);
- 30 – 30+outage: every request gets a 500 (the platform is down).

Figures (last line, one JSON object):
- sent: messages queued; delivered: of those, arrived (at least once);
- duplicated: arrivals beyond the first (must be 0); lost: neither arrived, nor expired
  with a record, nor reported uncertain (must be 0); uncertain (≤ cut_mid_response: the
  requests the platform processed but whose answer was cut or too late); expired;
- seconds_after_recovery: from the platform's recovery to an empty queue, with the goal
  recovery_goal_seconds = 2 × (backlog at recovery ÷ the worker's rate);
- admin_notices: outage notices queued for admins (one outage + one recovery = 2);
- claim_ratio: time to claim a batch with `--old-rows` (1,000,000) sent rows in the
  outbox ÷ with none (goal ≤ 1.2), measured in the same run on the same server.

`--platform matrix` runs the same script and figures against Synapse through the fault
proxy (bench/faults_matrix.py: its `PlatformDriver`), `--platform both` runs Telegram and
then Matrix; the last line then holds one object per platform. Matrix's rate limit is
`--matrix-rate` (Synapse's rc_message, and the bot is told the same).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select, text  # noqa: E402

from bot.adapters.telegram import TelegramAdapter  # noqa: E402
from bot.app import Core  # noqa: E402
from bot.core.clock import SystemClock  # noqa: E402
from bot.core.messages import OutgoingMessage  # noqa: E402
from bot.core.settings import Settings, load_settings  # noqa: E402
from bot.outbox.breaker import BreakerPolicy  # noqa: E402
from bot.outbox.ports import TELEGRAM_LIMITS, Sender  # noqa: E402
from bot.outbox.worker import DeliveryWorker, WorkerPolicy  # noqa: E402
from handlers.delivery.outage import PURPOSES as NOTICE_PURPOSES  # noqa: E402
from handlers.delivery.outage import notifier  # noqa: E402
from storage import outbox  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402
from storage.migrate import upgrade_to_head  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402
from storage.outbox import INTERRUPTED  # noqa: E402
from tests.fake_telegram import FakeTelegram, Fault, FaultKind, Phase  # noqa: E402
from tests.postgres import PostgresCluster, find_pg_bin  # noqa: E402

PURPOSE = "bench_faults"
REMINDER = "reminder_meeting"
OPEN = ("pending", "sending", "waiting_for_dm")


# --- the script, platform-neutral ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """From `start` to `end` seconds: `kind` ("slow", "outage", "reset", "malformed")
    with `probability` per send; `seconds`: how late a slow answer comes."""

    kind: str
    start: float
    end: float
    probability: float = 1.0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Scenario:
    steps: tuple[Step, ...]
    read_timeout: float  # the bot's, for this run
    database_restart_at: float
    database_down_seconds: float

    @property
    def outage(self) -> Step:
        return next(step for step in self.steps if step.kind == "outage")


def default_scenario(outage_seconds: float, read_timeout: float = 2.0) -> Scenario:
    end = 30.0 + outage_seconds + 600.0  # faults go on until the run is over
    return Scenario(
        steps=(
            Step("slow", 0, 25, 0.03, read_timeout * 2.5),  # later than the timeout: cut
            Step("slow", 0, 25, 0.30, 0.5),
            Step("reset", 0, end, 0.005),
            Step("malformed", 0, end, 0.003),
            Step("outage", 30, 30 + outage_seconds),
        ),
        read_timeout=read_timeout,
        database_restart_at=15.0,
        database_down_seconds=5.0,
    )


class PlatformDriver(Protocol):
    """A platform the scenario runs against."""

    name: str
    per_second: float  # the platform's rate limit (for the recovery goal)
    worker_per_second: float | None  # a cap on the worker's rate (None: the sender's own)

    async def start(self, core: Core, recipients: int) -> list[str]:
        """Be ready to receive; returns the recipients' chat ids."""
        ...

    @property
    def sender(self) -> Sender: ...

    def script(self, scenario: Scenario, seed: int) -> None:
        """Start misbehaving as the scenario says (its clock starts now)."""
        ...

    def arrivals(self) -> Counter[tuple[str, str]]:
        """(chat id, text) of every message the platform shows, counted."""
        ...

    def cut_mid_response(self, read_timeout: float) -> int: ...

    async def stop(self) -> None: ...


# --- Telegram ------------------------------------------------------------------------------

FIRST_CHAT = 500_000
ADMIN_CHAT = -100_777


class TelegramDriver:
    name = "telegram"
    per_second = TELEGRAM_LIMITS.global_per_second
    worker_per_second: float | None = TELEGRAM_LIMITS.global_per_second

    def __init__(self) -> None:
        self.fake = FakeTelegram()
        self._adapter: TelegramAdapter | None = None

    def settings(self, database_url: str, read_timeout: float) -> Settings:
        return load_settings(
            _env_file=None,
            database_url=database_url,
            telegram_token=self.fake.token,
            telegram_base_url=self.fake.base_url,
            telegram_base_file_url=self.fake.base_file_url,
            telegram_read_timeout_seconds=read_timeout,
            admin_chats=f"telegram:{ADMIN_CHAT}",
            outbox_outage_notice_seconds=10,
            log_level="WARNING",
        )

    async def open(self) -> None:
        await self.fake.start()
        self.fake.rate_limits(enabled=True)  # Telegram's: 30/s overall, 1/s per chat
        self.fake.add_group(ADMIN_CHAT, "Admins", admins=[], members=[])

    async def start(self, core: Core, recipients: int) -> list[str]:
        chats = [FIRST_CHAT + index for index in range(recipients)]
        for index, chat in enumerate(chats):
            self.fake.add_user(chat, f"P{index}", f"p{index}", started=True)
        self._adapter = TelegramAdapter(core.settings, core.dispatcher, core.services.router)
        await self._adapter.application.bot.initialize()
        return [str(chat) for chat in chats]

    @property
    def sender(self) -> Sender:
        assert self._adapter is not None
        return self._adapter.sender

    def script(self, scenario: Scenario, seed: int) -> None:
        phases = []
        for step in scenario.steps:
            if step.kind == "outage":  # every method, the probe (getMe) included
                fault, methods = Fault(FaultKind.STATUS, status=500), None
            else:
                kind = {"slow": FaultKind.SLOW, "reset": FaultKind.RESET}.get(
                    step.kind, FaultKind.MALFORMED
                )
                fault, methods = Fault(kind, seconds=step.seconds), frozenset({"sendMessage"})
            phases.append(Phase(step.start, step.end, fault, step.probability, methods))
        self.fake.schedule(phases, seed)

    def arrivals(self) -> Counter[tuple[str, str]]:
        return Counter((str(m.chat_id), m.text) for m in self.fake.sent)

    def cut_mid_response(self, read_timeout: float) -> int:
        return self.fake.cut_mid_response(read_timeout)

    async def stop(self) -> None:
        if self._adapter is not None:
            await self._adapter.application.bot.shutdown()
        await self.fake.stop()


# --- the run -------------------------------------------------------------------------------


async def seed_outbox(
    core: Core, chats: list[str], messages: int, platform: str, reminders_end: datetime
) -> None:
    now = core.services.clock.now()
    async with core.services.sessions.begin() as session:
        for index in range(messages):
            reminder = index % 10 == 9
            await outbox.enqueue(
                session,
                dedupe_key=f"{PURPOSE}:{index}",
                purpose=REMINDER if reminder else PURPOSE,
                platform=platform,
                chat_id=chats[index % len(chats)],
                message=OutgoingMessage(f"Bench {index}"),
                now=now,
                expires_at=reminders_end if reminder else None,
            )


async def open_rows(core: Core) -> int | None:
    """Messages of the run still to be sent (None: the database did not answer)."""
    try:
        async with core.services.sessions() as session:
            rows = await session.execute(
                select(OutboxMessage.id).where(
                    OutboxMessage.dedupe_key.like(f"{PURPOSE}:%"),
                    OutboxMessage.status.in_(OPEN),
                )
            )
            return len(rows.all())
    except Exception:
        return None


async def restart_database(cluster: PostgresCluster, at: float, down: float) -> None:
    await asyncio.sleep(at)
    print(f"[{at:.0f}s] restarting PostgreSQL", file=sys.stderr)
    await asyncio.to_thread(cluster.stop_server)
    await asyncio.sleep(down)
    await asyncio.to_thread(cluster.start_server)


async def run_scenario(
    driver: PlatformDriver,
    settings: Settings,
    cluster: PostgresCluster,
    scenario: Scenario,
    *,
    messages: int,
    recipients: int,
    seed: int,
) -> dict[str, object]:
    """Queue the messages, run the worker through the script, and count what arrived."""
    core = await Core.create(settings)
    chats = await driver.start(core, recipients)
    outage = scenario.outage
    started_wall = core.services.clock.now()
    reminders_end = started_wall + timedelta(seconds=outage.start + (outage.end - outage.start) / 2)
    print(f"queueing {messages} messages …", file=sys.stderr)
    await seed_outbox(core, chats, messages, driver.name, reminders_end)
    worker = DeliveryWorker(
        core.services.sessions,
        {driver.name: driver.sender},
        SystemClock(),
        WorkerPolicy(
            poll_seconds=0.2,
            lease=timedelta(seconds=15),
            outage_notice_after=timedelta(seconds=settings.outbox_outage_notice_seconds),
        ),
        global_per_second=driver.worker_per_second,
        breaker=BreakerPolicy(
            first_probe=timedelta(seconds=1), max_probe_interval=timedelta(seconds=5)
        ),
        notify=notifier(core.services),
    )
    core.services.wake_outbox = worker.wake
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    driver.script(scenario, seed)
    t0 = loop.time()
    running = asyncio.create_task(worker.run(stop))
    restart = asyncio.create_task(
        restart_database(cluster, scenario.database_restart_at, scenario.database_down_seconds)
    )
    backlog_at_recovery: int | None = None
    emptied_at: float | None = None
    deadline = t0 + outage.end + messages / driver.per_second * 4 + 120
    while loop.time() < deadline:
        await asyncio.sleep(0.5)
        elapsed = loop.time() - t0
        left = await open_rows(core)
        if backlog_at_recovery is None and elapsed >= outage.end and left is not None:
            backlog_at_recovery = left
            print(f"[{elapsed:.0f}s] platform back; {left} messages waiting", file=sys.stderr)
        if elapsed >= outage.end and left == 0:
            emptied_at = elapsed
            break
    await asyncio.sleep(3)  # a late copy would show up here
    await restart
    stop.set()
    await asyncio.wait_for(running, timeout=30)

    async with core.services.sessions() as session:
        rows = list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"{PURPOSE}:%"))
            )
        )
        notices = list(
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.purpose.in_(list(NOTICE_PURPOSES.values()))
                )
            )
        )
    arrivals = driver.arrivals()
    texts = {row.id: str(row.payload.get("text", "")) for row in rows}
    arrived = {row.id: arrivals.get((row.chat_id or "", texts[row.id]), 0) for row in rows}
    status = Counter(row.status for row in rows)
    lost = [
        row.id
        for row in rows
        if (row.status == "sent" and not arrived[row.id])
        or row.status not in ("sent", "expired", "uncertain")
    ]
    backlog = backlog_at_recovery or 0
    cut = driver.cut_mid_response(scenario.read_timeout)
    goal = round(2 * backlog / driver.per_second, 1)
    after = round(emptied_at - outage.end, 1) if emptied_at else None
    await driver.stop()
    await core.close()
    return {
        "platform": driver.name,
        "sent": len(rows),
        "delivered": sum(1 for count in arrived.values() if count),
        "duplicated": sum(count - 1 for count in arrived.values() if count > 1),
        "lost": len(lost),
        "uncertain": status.get("uncertain", 0),
        "cut_mid_response": cut,
        "uncertain_arrived": sum(
            1 for row in rows if row.status == "uncertain" and arrived[row.id]
        ),
        "uncertain_interrupted": sum(
            1 for row in rows if row.status == "uncertain" and row.last_error == INTERRUPTED
        ),
        "expired": status.get("expired", 0),
        "expired_but_delivered": sum(
            1 for row in rows if row.status == "expired" and arrived[row.id]
        ),
        "seconds_after_recovery": after,
        "backlog_at_recovery": backlog,
        "rate_limit_per_s": driver.per_second,
        "recovery_goal_seconds": goal,
        "admin_notices": len(notices),
        "outage_seconds": outage.end - outage.start,
        "uncertain_within_cut": status.get("uncertain", 0) <= cut,
        "recovery_within_goal": after is not None and after <= goal,
    }


# --- claiming with a million old rows ------------------------------------------------------


async def claim_times(url: str, repeats: int, batch: int = 100) -> list[float]:
    """Times of `repeats` claims of `batch` due rows (each rolled back, so all are alike)."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    clock = SystemClock()
    times = []
    try:
        for attempt in range(repeats + 2):  # the first two warm up connection and caches
            async with sessions() as session:
                started = time.perf_counter()
                claimed = await outbox.claim_due(
                    session,
                    owner="bench",
                    now=clock.now(),
                    lease=timedelta(seconds=60),
                    limit=batch,
                )
                if attempt >= 2:
                    times.append(time.perf_counter() - started)
                assert len(claimed) == batch
                await session.rollback()
    finally:
        await engine.dispose()
    return times


async def vacuum(url: str) -> None:
    """Fresh statistics and no dead rows, before each round alike."""
    engine = create_engine(url)
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("VACUUM ANALYZE outbox"))
    await engine.dispose()


async def outbox_with(cluster: PostgresCluster, name: str, old_rows: int) -> str:
    """A database whose outbox holds 2,000 due messages (as in the run) and `old_rows`
    sent ones."""
    url = cluster.create_database(name)
    engine = create_engine(url)
    await upgrade_to_head(engine)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO outbox (dedupe_key, purpose, platform, chat_id, payload, status, "
                "attempts, next_attempt_at, created_at) SELECT 'due:' || n, 'bench', "
                "'telegram', (n % 200)::text, '{\"text\": \"x\"}', 'pending', 0, now(), now() "
                "FROM generate_series(1, 2000) AS n"
            )
        )
        for start in range(0, old_rows, 250_000):
            await connection.execute(
                text(
                    "INSERT INTO outbox (dedupe_key, purpose, platform, chat_id, payload, "
                    "status, attempts, next_attempt_at, created_at, sent_at) "
                    "SELECT 'old:' || n, 'bench', 'telegram', (n % 5000)::text, "
                    "'{\"text\": \"\"}', 'sent', 1, now() - interval '30 days', "
                    "now() - interval '30 days', now() - interval '30 days' "
                    "FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS n"
                ),
                {"first": start + 1, "last": min(start + 250_000, old_rows)},
            )
    await engine.dispose()
    return url


async def measure_claims(
    cluster: PostgresCluster, old_rows: int, rounds: int = 20, per_round: int = 10
) -> dict[str, object]:
    """Claim time per batch with `old_rows` sent rows in the outbox vs none: two databases
    on the same server, measured in alternating rounds so the machine's load hits both."""
    print(f"adding {old_rows:,} sent rows …", file=sys.stderr)
    empty_url = await outbox_with(cluster, "claims_empty", 0)
    full_url = await outbox_with(cluster, "claims_full", old_rows)
    empty: list[float] = []
    full: list[float] = []
    for _ in range(rounds):
        for url, times in ((empty_url, empty), (full_url, full)):
            await vacuum(url)
            times.extend(await claim_times(url, per_round))
    empty_s, full_s = statistics.median(empty), statistics.median(full)
    return {
        "claim_ratio": round(full_s / empty_s, 3),
        "claim_ms_empty": round(empty_s * 1000, 2),
        "claim_ms_old_rows": round(full_s * 1000, 2),
        "old_rows": old_rows,
    }


async def with_postgres(
    body: Callable[[PostgresCluster], Awaitable[dict[str, object]]],
) -> dict[str, object]:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise SystemExit("PostgreSQL is not installed (scripts/ensure_postgres.sh)")
    cluster = PostgresCluster.start(bin_dir)
    try:
        return await body(cluster)
    finally:
        with contextlib.suppress(Exception):
            cluster.stop()


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--platform", choices=("telegram", "matrix", "both"), default="telegram")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--recipients", type=int, default=200)
    parser.add_argument("--outage-seconds", type=float, default=90.0)
    parser.add_argument("--matrix-rate", type=float, default=10.0, help="Synapse's rc_message/s")
    parser.add_argument("--old-rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=13)
    return parser.parse_args()


async def run_platform(
    name: str, cluster: PostgresCluster, scenario: Scenario, args: argparse.Namespace
) -> dict[str, object]:
    """One platform through the scenario, on a fresh database of the cluster."""
    if name == "matrix":
        from bench.faults_matrix import MatrixDriver  # Synapse: only when asked for

        driver: TelegramDriver | MatrixDriver = MatrixDriver(
            args.recipients, args.matrix_rate, args.seed
        )
    else:
        driver = TelegramDriver()
    await driver.open()
    url = cluster.create_database(f"faults_{name}")
    figures = await run_scenario(
        driver,
        driver.settings(url, scenario.read_timeout),
        cluster,
        scenario,
        messages=args.messages,
        recipients=args.recipients,
        seed=args.seed,
    )
    if isinstance(driver, TelegramDriver):
        return figures
    figures["matrix_limit_exceeded"] = driver.limit_exceeded
    return figures


async def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    scenario = default_scenario(args.outage_seconds)
    names = ("telegram", "matrix") if args.platform == "both" else (args.platform,)

    async def body(cluster: PostgresCluster) -> dict[str, object]:
        figures: dict[str, object] = {}
        for name in names:
            figures[name] = await run_platform(name, cluster, scenario, args)
            print(json.dumps(figures[name]), file=sys.stderr)
        figures.update(await measure_claims(cluster, args.old_rows))
        figures["database"] = "postgresql"
        return figures

    figures = await with_postgres(body)
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
