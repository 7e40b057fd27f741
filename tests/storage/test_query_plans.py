"""PostgreSQL's plans for the hot queries: none may read a large table whole.

The chair's twenty most-used commands of the scale bench (bench/scale_scene.py) and the
scheduler's every-minute sweeps run once on a small organisation from the bench's generator
(bench/scale_data.py), each SQL statement recorded as SQLAlchemy hands it to the driver.
Every statement is then EXPLAINed with its parameters under `SET enable_seqscan = off`:
PostgreSQL then picks any usable index, so a Seq Scan left on a large table means there is
none, and a missing index is caught when it is introduced, not in production. A full index
scan (an index walked without an Index Cond, e.g. the primary key as a substitute) counts
as a sequential read too.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event

from bench.scale_data import NOW, Sizes, generate
from bench.scale_scene import COMMANDS, POLL_PRESS, Side
from bench.sweep import POLICY_START
from handlers.registry import all_jobs
from tests.postgres import PostgresCluster

# Tables that grow with the organisation or its history (bench/scale_data.py's sizes).
LARGE_TABLES = frozenset(
    {
        "users",
        "identities",
        "memberships",
        "meetings",
        "agenda_items",
        "rsvps",
        "attendance",
        "meeting_notes",
        "decisions",
        "action_items",
        "action_item_assignees",
        "polls",
        "poll_options",
        "poll_votes",
        "outbox",
        "advisors",
        "advisor_authorizations",
        "advisor_steps",
        "processed_events",
        "reminder_log",
    }
)
SCANS = ("Index Scan", "Index Only Scan", "Bitmap Index Scan")
SKIPPED = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET", "SHOW", "select pg_")


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def whole_table_reads(
    plan: dict[str, Any], large: frozenset[str], indexed: dict[str, set[str]]
) -> list[str]:
    """The plan's nodes that read a large table whole: a Seq Scan, or an index walked without
    a condition whose filter has no index of its own to use (`indexed`: each table's
    columns that lead an index). A walk whose filter could use another index is the
    planner keeping the order of a tiny test table; on a large one it takes that index."""
    found = []
    for node in _nodes(plan):
        table = node.get("Relation Name")
        if table not in large:
            continue
        if node["Node Type"] == "Seq Scan":
            found.append(f"Seq Scan on {table}")
        elif node["Node Type"] in SCANS and "Index Cond" not in node:
            filtered = set(re.findall(r"[a-z_]+", node.get("Filter", "")))
            if not filtered & indexed.get(table, set()):
                found.append(f"{node['Node Type']} on {table} using {node['Index Name']} (whole)")
    return found


async def leading_index_columns(conn: asyncpg.Connection) -> dict[str, set[str]]:
    """Per table, the columns that lead one of its indexes."""
    rows = await conn.fetch(
        "SELECT c.relname AS table, a.attname AS column FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indrelid "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
    )
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row["table"], set()).add(row["column"])
    return found


class Recorder:
    """The statements an engine sends, with the parameters of their first use and the
    command that sent them."""

    def __init__(self) -> None:
        self.current = ""
        self.statements: dict[str, tuple[Any, str]] = {}

    def __call__(
        self,
        _conn: object,
        _cursor: object,
        statement: str,
        parameters: Any,
        _context: object,
        executemany: bool,
    ) -> None:
        if executemany or statement.lstrip().startswith(SKIPPED):
            return
        self.statements.setdefault(statement, (parameters, self.current))


async def record_hot_queries(url: str) -> Recorder:
    """Fill `url` with a small organisation and run the commands and sweeps on it."""
    await generate(url, Sizes.scaled(0.01))
    side = Side("plans", url, POLICY_START)
    await side.start()
    recorder = Recorder()
    event.listen(side.core.engine.sync_engine, "before_cursor_execute", recorder)
    try:
        for name, texts, in_group in [*COMMANDS, (POLL_PRESS, (), True)]:
            recorder.current = name
            for round_ in range(len(texts) or 1):
                await side.run(name, texts, in_group, round_)
        for job in all_jobs():
            if job.daily:  # once a day may read a table through; bench/scale.py times it
                continue
            recorder.current = f"job {job.name}"
            await job.run(side.core.services, NOW)
    finally:
        event.remove(side.core.engine.sync_engine, "before_cursor_execute", recorder)
        await side.close()
    return recorder


async def explain_all(url: str, recorder: Recorder) -> list[str]:
    """Every recorded statement that reads a large table whole, with its plan's offence."""
    conn = await asyncpg.connect(url)
    problems = []
    try:
        await conn.execute("SET enable_seqscan = off")
        indexed = await leading_index_columns(conn)
        for statement, (parameters, origin) in recorder.statements.items():
            args = list(parameters or ())
            raw = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {statement}", *args)
            plan = json.loads(raw)[0]["Plan"]
            for read in whole_table_reads(plan, LARGE_TABLES, indexed):
                problems.append(f"{origin}: {read}\n    {' '.join(statement.split())[:1500]}")
    finally:
        await conn.close()
    return problems


def sqlite_whole_reads(url: str, recorder: Recorder) -> list[str]:
    """SQLite's plans (EXPLAIN QUERY PLAN) of every recorded statement that reads a large
    table whole: `SCAN table` (with or without an index), where `SEARCH` would use a key.
    Without statistics (the bot never runs ANALYZE; any left are dropped) SQLite takes
    every index it can use as selective, as `enable_seqscan = off` makes PostgreSQL do."""
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE IF EXISTS sqlite_stat1")
    conn = sqlite3.connect(path)
    problems = []
    try:
        for statement, (parameters, origin) in recorder.statements.items():
            for *_, detail in conn.execute(f"EXPLAIN QUERY PLAN {statement}", parameters or ()):
                words = detail.split()
                if words[0] == "SCAN" and words[1] in LARGE_TABLES:
                    problems.append(f"{origin}: {detail}\n    {' '.join(statement.split())[:1500]}")
    finally:
        conn.close()
    return problems


async def test_sqlite_plans_use_keys_and_a_dropped_index_is_caught(sqlite_url: str) -> None:
    """The same on SQLite, the embedded default, whose planner keeps to its indexes."""
    recorder = await record_hot_queries(sqlite_url)
    problems = sqlite_whole_reads(sqlite_url, recorder)
    assert not problems, "queries that read a large table whole:\n" + "\n".join(problems)

    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as conn:
        conn.execute("DROP INDEX ix_meeting_notes_meeting_id")
    problems = sqlite_whole_reads(sqlite_url, recorder)
    assert any("SCAN meeting_notes" in p for p in problems), problems


@pytest.fixture
def plans_url(postgres: PostgresCluster) -> str:
    return postgres.create_database(f"plans{id(object())}")


async def test_hot_queries_use_indexes_and_a_dropped_index_is_caught(plans_url: str) -> None:
    recorder = await record_hot_queries(plans_url)
    assert len(recorder.statements) > 50, "the commands ran and their queries were recorded"
    problems = await explain_all(plans_url, recorder)
    assert not problems, "queries that read a large table whole:\n" + "\n".join(problems)

    # The check itself: without the index on meeting notes' meeting, /notizen and the
    # minutes must read all notes, and the plans say so.
    conn = await asyncpg.connect(plans_url)
    try:
        await conn.execute("DROP INDEX ix_meeting_notes_meeting_id")
    finally:
        await conn.close()
    problems = await explain_all(plans_url, recorder)
    assert any("on meeting_notes" in p for p in problems), problems


def test_a_whole_index_walk_counts_as_a_sequential_read_unless_another_index_fits() -> None:
    plan = {
        "Node Type": "Limit",
        "Plans": [
            {
                "Node Type": "Index Scan",
                "Relation Name": "outbox",
                "Index Name": "pk_outbox",
                "Filter": "((platform)::text = 'mail'::text)",
            },
            {
                "Node Type": "Index Scan",
                "Relation Name": "identities",
                "Index Name": "pk_identities",
                "Filter": "(user_id = ANY ('{1,2}'::integer[]))",
            },
            {
                "Node Type": "Index Scan",
                "Relation Name": "meetings",
                "Index Name": "ix_meetings_group_id",
                "Index Cond": "(group_id = 1)",
            },
            {"Node Type": "Seq Scan", "Relation Name": "groups"},
        ],
    }
    indexed = {"outbox": {"id", "status"}, "identities": {"id", "user_id"}}
    assert whole_table_reads(plan, LARGE_TABLES, indexed) == [
        "Index Scan on outbox using pk_outbox (whole)"
    ]
