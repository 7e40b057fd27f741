"""Finding due reminders: the indexed sweep against one APScheduler job per reminder.

Data (same seed every run): 100,000 advisors whose authorizations are spread over eight
years, in the steady state of a daily run (every step due before "today" handled, so
`next_step_on` is the day of each advisor's next step), and 100,000 action items of 50
working groups (70 % open, due dates from two months ago to a year ahead).

* **ours** – what the bot does: the database is the only schedule. One sweep runs the two
  indexed queries the daily/minutely jobs run: advisors with `next_step_on <= today`
  (`ix_advisors_next_step_on`) and open action items due by tomorrow
  (`ix_action_items_status_due_date`). `sweep_seconds` is the median of 7 warm sweeps.
* **naive** – the same reminders as one APScheduler 3 job each (`BackgroundScheduler`,
  `MemoryJobStore`, a date trigger per job, `add_job` per reminder): for each advisor every
  step of the current cycle still ahead (reminders, last call, delisting), for each open
  action item with a due date the reminder the day before and the one when it is overdue
  (those still ahead), loaded from the same database at start as a restarted bot would.

Where the memory goes: both processes first load the same modules (~48 MB here, of which
SQLAlchemy's code objects alone are ~15 MB); ours then needs a few MB for its queries and
holds nothing per advisor, the naive one ~0.8 KB per job. `memory_ratio` compares whole
processes, as the issue asks; `marginal_memory_ratio` compares what each adds above the
shared imports.

Each side runs in its own subprocess importing the same modules (SQLAlchemy, the models,
the policy, APScheduler), so `peak_rss_mb` (VmHWM) compares like with like. With
PostgreSQL binaries installed (tests/postgres.py) the sweep is also timed on PostgreSQL.

    .venv/bin/python bench/sweep.py [--advisors 100000] [--action-items 100000] [--no-postgres]

Last line of output: one JSON object with sweep_seconds, peak_rss_mb, naive_peak_rss_mb and
memory_ratio (naive / ours), plus the counts and the PostgreSQL figure when measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from handlers.advisors.policy import EscalationPolicy

TODAY = date(2024, 6, 3)
POLICY_START = date(2021, 1, 1)
SEED = 20240603
CHUNK = 5000


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: reset by exec, unlike ru_maxrss, which
    a child inherits from the parent that forked it)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _common_imports() -> float:
    """What both contenders load, so their baselines match; the resident MB after it."""
    import apscheduler.schedulers.background  # noqa: F401
    import sqlalchemy  # noqa: F401

    import handlers.advisors.policy  # noqa: F401
    import storage.models  # noqa: F401

    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return peak_rss_mb()


# --- data ----------------------------------------------------------------------------------


def _policy() -> EscalationPolicy:
    from handlers.advisors.policy import EscalationPolicy

    return EscalationPolicy(policy_start=POLICY_START)


def _authorizations(count: int, rng: random.Random) -> list[date]:
    """85 % active advisors (authorized within the last 29 months), 15 % delisted long ago."""
    active_from = TODAY - timedelta(days=29 * 30)
    old_from = date(2016, 1, 1)
    out = []
    for _ in range(count):
        if rng.random() < 0.85:
            out.append(active_from + timedelta(days=rng.randrange((TODAY - active_from).days)))
        else:
            out.append(old_from + timedelta(days=rng.randrange((active_from - old_from).days)))
    return out


def _next_steps(authorized: list[date]) -> list[date | None]:
    """`next_step_on` per advisor in the steady state of daily runs (all earlier steps done)."""
    from handlers.advisors.policy import AdvisorHistory, due_steps, next_due_on

    policy = _policy()
    yesterday = TODAY - timedelta(days=1)
    cache: dict[date, date | None] = {}
    for day in set(authorized):
        history = AdvisorHistory((day,))
        history = history.record(due_steps(history, policy, yesterday), yesterday)
        cache[day] = next_due_on(history, policy)
    return [cache[day] for day in authorized]


async def populate(url: str, advisors: int, items: int) -> None:
    from sqlalchemy import insert

    from storage.db import create_engine
    from storage.migrate import upgrade_to_head
    from storage.models import (
        ActionItem,
        Advisor,
        AdvisorAuthorization,
        Group,
    )

    rng = random.Random(SEED)
    now = datetime(2024, 6, 3, 4, 0, tzinfo=UTC)
    engine = create_engine(url)
    await upgrade_to_head(engine)
    authorized = _authorizations(advisors, rng)
    next_steps = _next_steps(authorized)
    async with engine.begin() as conn:
        await conn.execute(
            insert(Group),
            [
                {
                    "name": f"AG {g}",
                    "kind": "ag",
                    "timezone": "Europe/Berlin",
                    "language": "de",
                    "created_at": now,
                }
                for g in range(50)
            ],
        )
        group_ids = list((await conn.execute(Group.__table__.select())).scalars())
        for start in range(0, advisors, CHUNK):
            rows = [
                {
                    "id": i + 1,
                    "name": f"Advisor {i}",
                    "email": f"a{i}@example.org",
                    "institution": f"Institut {i % 40}",
                    "fields": "Digitalisierung",
                    "language": "de",
                    "status": "listed",
                    "next_step_on": next_steps[i],
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(start, min(start + CHUNK, advisors))
            ]
            await conn.execute(insert(Advisor), rows)
            await conn.execute(
                insert(AdvisorAuthorization),
                [
                    {
                        "advisor_id": r["id"],
                        "authorized_on": authorized[r["id"] - 1],
                        "source": "import",
                        "created_at": now,
                    }
                    for r in rows
                ],
            )
        for start in range(0, items, CHUNK):
            await conn.execute(
                insert(ActionItem),
                [
                    {
                        "group_id": group_ids[i % len(group_ids)],
                        "number": i // len(group_ids) + 1,
                        "text": f"Aufgabe {i}",
                        "due_date": TODAY + timedelta(days=rng.randrange(-60, 366)),
                        "status": "open" if rng.random() < 0.7 else "done",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(start, min(start + CHUNK, items))
                ],
            )
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            await conn.exec_driver_sql("ANALYZE")
    await engine.dispose()


# --- contenders (each in its own process) --------------------------------------------------


async def ours(url: str) -> dict[str, float]:
    baseline = _common_imports()
    from sqlalchemy import select

    from bot.core.enums import ActionItemStatus
    from storage import advisors as advisor_store
    from storage.db import create_engine, session_factory
    from storage.models import ActionItem

    engine = create_engine(url)
    sessions = session_factory(engine)

    async def sweep() -> tuple[int, int]:
        async with sessions() as session:
            due_advisors = await advisor_store.due_advisors(session, TODAY)
            due_items = list(
                await session.scalars(
                    select(ActionItem.id).where(
                        ActionItem.status == ActionItemStatus.OPEN.value,
                        ActionItem.due_date <= TODAY + timedelta(days=1),
                    )
                )
            )
        return len(due_advisors), len(due_items)

    await sweep()  # warm: connection, statement cache
    times = []
    for _ in range(7):
        started = time.perf_counter()
        advisors, items = await sweep()
        times.append(time.perf_counter() - started)
    await engine.dispose()
    return {
        "sweep_seconds": statistics.median(times),
        "due_advisors": advisors,
        "due_action_items": items,
        "peak_rss_mb": peak_rss_mb(),
        "baseline_rss_mb": baseline,
    }


async def naive(url: str) -> dict[str, float]:
    baseline = _common_imports()
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from sqlalchemy import select

    from bot.core.enums import ActionItemStatus
    from handlers.advisors.policy import AdvisorHistory, timeline
    from storage.db import create_engine, session_factory
    from storage.models import ActionItem, AdvisorAuthorization

    engine = create_engine(url)
    async with session_factory(engine)() as session:
        authorized = (
            await session.execute(
                select(AdvisorAuthorization.advisor_id, AdvisorAuthorization.authorized_on)
            )
        ).all()
        item_dates = (
            await session.execute(
                select(ActionItem.id, ActionItem.due_date).where(
                    ActionItem.status == ActionItemStatus.OPEN.value,
                    ActionItem.due_date.is_not(None),
                )
            )
        ).all()
    await engine.dispose()

    # Every reminder still ahead, as a scheduler-per-reminder bot would hold them: each
    # remaining step of an advisor's cycle; for an open action item, the reminder the day
    # before it is due and the one when it is overdue.
    policy = _policy()
    plans: dict[date, list[tuple[str, date]]] = {}
    scheduler = BackgroundScheduler(jobstores={"default": MemoryJobStore()}, timezone=UTC)
    scheduler.start(paused=True)  # nothing fires during the measurement
    started = time.perf_counter()
    for advisor_id, day in authorized:
        if day not in plans:
            plans[day] = [
                (e.step.value, e.due_on)
                for e in timeline(AdvisorHistory((day,)), policy)
                if e.due_on >= TODAY
            ]
        for step, due_on in plans[day]:
            scheduler.add_job(
                _remind,
                "date",
                run_date=datetime(due_on.year, due_on.month, due_on.day, 6, tzinfo=UTC),
                args=("advisor", advisor_id, step),
                id=f"advisor:{advisor_id}:{step}",
                misfire_grace_time=None,
            )
    for item_id, day in item_dates:
        for kind, when in (("before_due", day - timedelta(days=1)), ("overdue", day)):
            if when < TODAY:
                continue
            scheduler.add_job(
                _remind,
                "date",
                run_date=datetime(when.year, when.month, when.day, 7, tzinfo=UTC),
                args=("action_item", item_id, kind),
                id=f"action_item:{item_id}:{kind}",
                misfire_grace_time=None,
            )
    scheduling = time.perf_counter() - started
    del authorized, item_dates
    jobs = len(scheduler.get_jobs())
    started = time.perf_counter()
    due = scheduler._lookup_jobstore("default").get_due_jobs(  # what its wake-up does
        datetime(TODAY.year, TODAY.month, TODAY.day, 23, 59, tzinfo=UTC)
    )
    due_seconds = time.perf_counter() - started
    scheduler.shutdown(wait=False)
    return {
        "jobs": jobs,
        "naive_schedule_seconds": scheduling,
        "naive_due_seconds": due_seconds,
        "naive_due_jobs": len(due),
        "naive_peak_rss_mb": peak_rss_mb(),
        "naive_baseline_rss_mb": baseline,
    }


def _remind(kind: str, ident: int, what: str) -> None:
    """The job body; never runs here (the scheduler stays paused)."""


def run_role(role: str, url: str) -> dict[str, float]:
    command = [sys.executable, str(Path(__file__).resolve()), "--role", role, "--url", url]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{role} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--advisors", type=int, default=100_000)
    parser.add_argument("--action-items", type=int, default=100_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--role", choices=("ours", "naive"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        result = asyncio.run(ours(args.url) if args.role == "ours" else naive(args.url))
        print(json.dumps(result))
        return

    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'sweep.db'}"
        started = time.perf_counter()
        asyncio.run(populate(url, args.advisors, args.action_items))
        print(
            f"SQLite: {args.advisors} advisors, {args.action_items} action items "
            f"written in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        mine = run_role("ours", url)
        theirs = run_role("naive", url)
        print(f"ours:  {mine}", file=sys.stderr)
        print(f"naive: {theirs}", file=sys.stderr)
        figures.update(
            sweep_seconds=round(mine["sweep_seconds"], 4),
            peak_rss_mb=round(mine["peak_rss_mb"], 1),
            naive_peak_rss_mb=round(theirs["naive_peak_rss_mb"], 1),
            memory_ratio=round(theirs["naive_peak_rss_mb"] / mine["peak_rss_mb"], 2),
            advisors=args.advisors,
            action_items=args.action_items,
            due_advisors=mine["due_advisors"],
            due_action_items=mine["due_action_items"],
            naive_jobs=theirs["jobs"],
            naive_schedule_seconds=round(theirs["naive_schedule_seconds"], 2),
            # Above the imports both load (interpreter, SQLAlchemy, APScheduler, models):
            # what the reminders themselves cost each way.
            baseline_rss_mb=round(mine["baseline_rss_mb"], 1),
            marginal_memory_ratio=round(
                (theirs["naive_peak_rss_mb"] - theirs["naive_baseline_rss_mb"])
                / max(mine["peak_rss_mb"] - mine["baseline_rss_mb"], 0.1),
                1,
            ),
        )
        if not args.no_postgres:
            figures.update(_postgres(args))
    print(json.dumps(figures))


def _postgres(args: argparse.Namespace) -> dict[str, object]:
    from tests.postgres import PostgresCluster, find_pg_bin

    bin_dir = find_pg_bin()
    if bin_dir is None:
        print("PostgreSQL not installed: SQLite only", file=sys.stderr)
        return {}
    cluster = PostgresCluster.start(bin_dir)
    try:
        url = cluster.create_database("sweep")
        asyncio.run(populate(url, args.advisors, args.action_items))
        mine = run_role("ours", url)
        print(f"ours on PostgreSQL: {mine}", file=sys.stderr)
        return {
            "pg_sweep_seconds": round(mine["sweep_seconds"], 4),
            "pg_peak_rss_mb": round(mine["peak_rss_mb"], 1),
        }
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
