"""A seeded organisation of the size of the national initiative, written with bulk inserts.

`generate(url, scale)` fills an empty database (migrated to head first) with, at scale 1:
500 groups, 15,000 people, 10,000 advisors, 50,000 meetings over ten years with agendas,
RSVPs, attendance and notes, 200,000 decisions and 200,000 action items, 20,000 polls with
options and answers, and the outbox rows the retention leaves of 5,000,000 messages.

The outbox: finished rows are deleted OUTBOX_COMPACT_DAYS (180) after they were sent (their
payload already emptied after OUTBOX_RETENTION_DAYS, 30), see storage/outbox.py. Ten years
of 5,000,000 messages (~1,370 a day) therefore leave the last 180 days, ~246,000 rows, of
which the last 30 days keep their text: a database that held 5,000,000 would be one whose
compaction is broken, not one that has grown.

`only_group` writes the same rows for that one group alone (its members, its share of the
organisation-wide advisors and outbox) and nothing else: the small database the large one
is measured against. Every row gets the same id in both, since the same seeded stream is
walked and only filtered.

PostgreSQL is filled with COPY (asyncpg), SQLite with sqlite3's executemany in one
transaction; SQLAlchemy runs only the migrations. PostgreSQL is vacuumed and analyzed at the
end, as its autovacuum would have done long ago on a database in use; SQLite is not
analyzed, as the bot never analyzes it.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

SEED = 20260610
NOW = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
TODAY = NOW.date()
START = NOW - timedelta(days=3652)
TARGET_GROUP = 1
TARGET_CHAT = "-100"
CHAIR = "anna"  # chairs the target group, member of FEED_GROUPS groups, an admin
MEMBER = "bernd"
FEED_GROUPS = 50
TARGET_MEMBERS = 125  # × 4 options: the poll with 500 answers
MINUTES_TOPS, MINUTES_NOTES = 10, 200  # today's meeting of the target group
POLL_OPTIONS = 4

WORDS = (  # noqa: SIM905 - a sentence reads better than a list of 23 strings
    "Leitfaden Checks Weiterbildung Handwerk Digitalisierung Transfer Qualität Konzept "
    "Strategiekreis Förderung Netzwerk Beratung Mittelstand Umfrage Workshop Evaluation "
    "Öffentlichkeitsarbeit Datenschutz Nachhaltigkeit Fachkräfte Bericht Haushalt Satzung"
).split()


@dataclass(frozen=True)
class Sizes:
    groups: int = 500
    people: int = 15_000
    advisors: int = 10_000
    meetings_per_group: int = 100  # 50,000
    tops: int = 6
    notes: int = 8
    rsvps: int = 10
    attendance: int = 12
    decisions_per_meeting: int = 4  # + 1 at every 6th: 200,000
    items_per_meeting: int = 4  # + 1 at every 6th: 200,000
    polls_per_group: int = 40  # 20,000
    voters: int = 10
    outbox_total: int = 5_000_000  # sent over ten years; the retention leaves 180 days
    compact_days: int = 180

    @classmethod
    def scaled(cls, scale: float) -> Sizes:
        base = cls()

        def s(n: int, least: int = 1) -> int:
            return max(least, round(n * scale))

        return cls(
            groups=s(base.groups, FEED_GROUPS if scale >= 0.1 else 3),
            people=s(base.people, TARGET_MEMBERS + 50),
            advisors=s(base.advisors, 40),
            outbox_total=s(base.outbox_total, 1000),
            meetings_per_group=base.meetings_per_group,
            polls_per_group=base.polls_per_group,
        )

    @property
    def outbox_rows(self) -> int:
        return round(self.outbox_total * self.compact_days / 3652)


def stamp(day: datetime) -> datetime:
    return day.replace(microsecond=0)


@dataclass
class Writer:
    """Buffers rows per table and writes them in foreign-key order when a buffer is full."""

    conn: Any  # sqlite3.Connection or asyncpg.Connection
    postgres: bool
    keep_group: int | None
    tables: list[str]
    columns: dict[str, list[str]]
    json_columns: dict[str, set[str]]
    buffers: dict[str, list[tuple]] = field(default_factory=lambda: defaultdict(list))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    pending: int = 0

    async def add(self, table: str, row: dict[str, Any]) -> None:
        cols = self.columns[table]
        missing = set(row) - set(cols)
        assert not missing, f"{table}: unknown columns {missing}"
        values = []
        for col in cols:
            value = row.get(col)
            if col in self.json_columns[table] and value is not None:
                value = json.dumps(value)
            if not self.postgres:
                value = _sqlite_value(value)
            values.append(value)
        self.buffers[table].append(tuple(values))
        self.pending += 1
        if self.pending >= 20_000:
            await self.flush()

    async def flush(self) -> None:
        for table in self.tables:
            rows = self.buffers.pop(table, None)
            if not rows:
                continue
            cols = self.columns[table]
            self.counts[table] += len(rows)
            if self.postgres:
                await self.conn.copy_records_to_table(table, records=rows, columns=cols)
            else:
                marks = ", ".join("?" for _ in cols)
                quoted = ", ".join(f'"{c}"' for c in cols)
                self.conn.executemany(f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})', rows)
        self.pending = 0


def _sqlite_value(value: Any) -> Any:
    """What SQLAlchemy's SQLite types store: naive UTC text with microseconds, ISO dates."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


class Ids:
    """Next id per table: the same stream in the large and the small database."""

    def __init__(self) -> None:
        self._next: dict[str, int] = defaultdict(int)

    def __call__(self, table: str) -> int:
        self._next[table] += 1
        return self._next[table]


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)) + "."


async def generate(url: str, sizes: Sizes, only_group: int | None = None) -> dict[str, Any]:
    """Fill the (empty) database at `url`; returns row counts and seconds taken."""
    from storage.db import create_engine
    from storage.migrate import upgrade_to_head
    from storage.models import Base

    started = time.perf_counter()
    engine = create_engine(url)
    await upgrade_to_head(engine)
    await engine.dispose()
    tables = [t.name for t in Base.metadata.sorted_tables]
    columns = {t.name: [c.name for c in t.columns] for t in Base.metadata.sorted_tables}
    json_columns = {
        t.name: {c.name for c in t.columns if c.type.__class__.__name__ == "JSON"}
        for t in Base.metadata.sorted_tables
    }
    postgres = url.startswith("postgres")
    if postgres:
        import asyncpg

        conn: Any = await asyncpg.connect(url.replace("+asyncpg", ""))
    else:
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("PRAGMA journal_mode=OFF")  # a bulk load: no rollback, no WAL to copy
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
    writer = Writer(conn, postgres, only_group, tables, columns, json_columns)
    try:
        await _organisation(writer, sizes, random.Random(SEED), only_group)
        await writer.flush()
        if postgres:
            for table in tables:
                if "id" in columns[table]:
                    await conn.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
                    )
            # As a database in use is: vacuumed (hint bits set, visibility map) and analyzed,
            # so autovacuum and first reads do not rewrite the fresh pages while we measure.
            await conn.execute("VACUUM ANALYZE")
        else:
            # No ANALYZE: the bot never runs it on SQLite, so its planner works without
            # statistics there (and then takes every usable index as selective).
            conn.execute("PRAGMA journal_mode=WAL")  # as storage/db.py opens it
            conn.commit()
    finally:
        await conn.close() if postgres else conn.close()
    return {"seconds": round(time.perf_counter() - started, 1), "rows": dict(writer.counts)}


async def _organisation(w: Writer, sizes: Sizes, rng: random.Random, only: int | None) -> None:
    ids = Ids()
    created = START - timedelta(days=30)
    # --- people: the bench's chair and member first, then everyone else --------------------
    names = [CHAIR, MEMBER, *(f"p{i}" for i in range(3, sizes.people + 1))]
    user_ids = list(range(1, sizes.people + 1))
    members_of: dict[int, list[int]] = {}
    for g in range(1, sizes.groups + 1):
        count = TARGET_MEMBERS if g == TARGET_GROUP else rng.randrange(30, 61)
        chosen = set(rng.sample(user_ids[2:], count - 2))
        members_of[g] = [1, 2, *sorted(chosen)] if g == TARGET_GROUP else sorted(chosen)
    for g in range(2, FEED_GROUPS + 1):  # the chair is in FEED_GROUPS groups
        if g <= sizes.groups:
            members_of[g] = [1, *members_of[g]]
    kept_people = set(members_of[only]) if only else set(user_ids)
    for uid, name in zip(user_ids, names, strict=True):
        if uid not in kept_people:
            continue
        await w.add("users", {"id": uid, "language": "de", "created_at": created})
        await w.add(
            "identities",
            {
                "id": uid,
                "user_id": uid,
                "platform": "test",
                "platform_user_id": name,
                "display_name": name.capitalize(),
                "username": name,
                "dm_chat_id": name,
                "created_at": created,
                "last_seen_at": created,
            },
        )
    # --- advisors: the organisation's; the small database keeps its share ------------------
    await _advisors(w, sizes, rng, only)
    # --- the policy the stored next_step_on values were computed by, as after any daily run --
    await w.add(
        "platform_state",
        {
            "id": 1,
            "platform": "advisors",
            "key": "policy",
            "value": _policy_fingerprint(),
            "updated_at": NOW - timedelta(days=1),
        },
    )
    # --- an experience exchange every month, open to all (both databases) -------------------
    for month in range(124):
        starts = START + timedelta(days=30 * month + 10)
        await w.add(
            "experience_exchanges",
            {
                "id": month + 1,
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=3),
                "provider": f"Institut {month % 40}",
                "place": "Videokonferenz",
                "capacity": 30,
                "created_at": starts - timedelta(days=60),
            },
        )
    # --- groups, one after another ----------------------------------------------------------
    for g in range(1, sizes.groups + 1):
        await _group(w, sizes, rng, ids, g, members_of[g], only)
    await _outbox(w, sizes, rng, members_of, only)


async def _advisors(w: Writer, sizes: Sizes, rng: random.Random, only: int | None) -> None:
    """Advisors authorized over ten years (bench/sweep.py's spread), in the steady state of
    daily runs up to yesterday: every step due so far handled on its day (advisor_steps),
    the delisted ones delisted, `next_step_on` set. Today's run then finds only today's."""
    import bench.sweep as sweep

    sweep.TODAY = TODAY
    authorized = sweep._authorizations(sizes.advisors, rng)
    histories: dict[date, tuple[list[tuple], date | None, bool]] = {}
    share = max(1, sizes.advisors // sizes.groups)
    step_id = 0
    for i in range(sizes.advisors):
        day = authorized[i]
        if day not in histories:
            histories[day] = _steady_state(day)
        steps, next_step_on, delisted = histories[day]
        name = f"Berater {i} {rng.choice(WORDS)}"
        fields = "Digitalisierung; " + rng.choice(WORDS)
        if only and i >= share:
            continue
        await w.add(
            "advisors",
            {
                "id": i + 1,
                "name": name,
                "email": f"berater{i}@example.org",
                "institution": f"Institut {i % 40}",
                "fields": fields,
                "region": f"Region {i % 16}",
                "published": "name,fields,region" if i % 3 else "",
                "language": "de",
                "status": "delisted" if delisted else "listed",
                "next_step_on": next_step_on,
                "created_at": START,
                "updated_at": START,
            },
        )
        await w.add(
            "advisor_authorizations",
            {
                "id": i + 1,
                "advisor_id": i + 1,
                "authorized_on": day,
                "source": "import",
                "created_at": START,
            },
        )
        for step, cycle_start, due_on, done_on, missed in steps:
            step_id += 1
            done_at = datetime(done_on.year, done_on.month, done_on.day, 4, tzinfo=UTC)
            await w.add(
                "advisor_steps",
                {
                    "id": step_id,
                    "advisor_id": i + 1,
                    "step": step,
                    "cycle_start": cycle_start,
                    "due_on": due_on,
                    "outcome": "missed" if missed else "sent",
                    "done_at": done_at,
                    "reported_at": done_at,
                    "no_exchange": False,
                },
            )


def _policy_fingerprint() -> str:
    """The fingerprint the bot stores with `next_step_on` (storage/advisors.POLICY_STATE)
    for the policy bench/sweep.py's start date gives with default settings."""
    from bench.sweep import POLICY_START
    from bot.core.settings import load_settings
    from handlers.advisors.escalation import advisor_policy
    from handlers.advisors.policy import policy_fingerprint

    settings = load_settings(advisor_policy_start=POLICY_START, _env_file=None)
    return policy_fingerprint(advisor_policy(settings))


def _steady_state(authorized_on: date) -> tuple[list[tuple], date | None, bool]:
    """The steps a daily run handled for an advisor authorized on `authorized_on`, each on
    the day it fell due, up to yesterday; then the next due day and whether delisted."""
    from bench.sweep import _policy
    from handlers.advisors.policy import AdvisorHistory, due_steps, next_due_on

    policy = _policy()
    yesterday = TODAY - timedelta(days=1)
    history = AdvisorHistory((authorized_on,))
    done: list[tuple] = []
    while pending := due_steps(history, policy, yesterday):
        day = min(step.due_on for step in pending)
        on_day = due_steps(history, policy, day)
        history = history.record(on_day, day)
        done += [(s.step.value, s.cycle_start, s.due_on, day, s.superseded) for s in on_day]
    delisted = any(d.step.is_delisting and not d.missed for d in history.steps_done)
    return done, next_due_on(history, policy), delisted


async def _group(
    w: Writer,
    sizes: Sizes,
    rng: random.Random,
    ids: Ids,
    g: int,
    members: list[int],
    only: int | None,
) -> None:
    keep = only is None or only == g
    writes: list[tuple[str, dict[str, Any]]] = []

    def add(table: str, row: dict[str, Any]) -> None:
        if keep:
            writes.append((table, row))

    created = START - timedelta(days=rng.randrange(1, 30))
    add(
        "groups",
        {
            "id": g,
            "name": "AG Transfer" if g == TARGET_GROUP else f"AG {rng.choice(WORDS)} {g}",
            "kind": "ag",
            "timezone": "Europe/Berlin",
            "language": "de",
            "created_at": created,
        },
    )
    add(
        "group_chats",
        {
            "id": g,
            "group_id": g,
            "platform": "test",
            "chat_id": TARGET_CHAT if g == TARGET_GROUP else f"-{1000 + g}",
            "title": f"AG {g}",
            "created_at": created,
        },
    )
    for index, uid in enumerate(members):
        role = "chair" if uid == 1 and g == TARGET_GROUP else "member"
        if index == 0 and g != TARGET_GROUP and uid != 1:
            role = "chair"
        add(
            "memberships",
            {
                "id": ids("memberships"),
                "group_id": g,
                "user_id": uid,
                "role": role,
                "created_at": created,
            },
        )
    count = sizes.meetings_per_group
    span = (NOW - START).total_seconds()
    decision_numbers: dict[int, int] = defaultdict(int)
    item_number = 0
    for number in range(1, count + 1):
        # ten years of history, the last few still ahead; the target group meets today
        if g == TARGET_GROUP and number == count - 3:
            starts = NOW.replace(hour=7)
        else:
            starts = START + timedelta(seconds=span * (number - 0.5) / (count - 4))
            starts = stamp(starts.replace(hour=8, minute=0, second=0))
        meeting_id = ids("meetings")
        today = g == TARGET_GROUP and starts.date() == TODAY
        past = starts < NOW and not today
        tops = MINUTES_TOPS if today else sizes.tops
        top_ids = [ids("agenda_items") for _ in range(tops)]
        add(
            "meetings",
            {
                "id": meeting_id,
                "group_id": g,
                "number": number,
                "title": f"{number}. Sitzung: {rng.choice(WORDS)}",
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=3),
                "location": "Videokonferenz",
                "status": "scheduled",
                "created_at": starts - timedelta(days=21),
                "updated_at": starts - timedelta(days=1),
                "sequence": 0,
                "current_agenda_item_id": top_ids[0] if today else None,
                "minutes_status": "approved" if past else "none",
                "minutes_approved_at": starts + timedelta(days=14) if past else None,
            },
        )
        for position, top_id in enumerate(top_ids, 1):
            add(
                "agenda_items",
                {
                    "id": top_id,
                    "meeting_id": meeting_id,
                    "position": position,
                    "title": f"TOP {position}: {_text(rng, 3)}",
                    "kind": "topic",
                    "status": "accepted",
                    "presenter_name": f"Referent {position} (Institut)",
                    "continue_next_time": False,
                    "created_at": starts - timedelta(days=14),
                },
            )
        for uid in rng.sample(members, min(sizes.rsvps, len(members))):
            add(
                "rsvps",
                {
                    "id": ids("rsvps"),
                    "meeting_id": meeting_id,
                    "user_id": uid,
                    "answer": rng.choice(("yes", "yes", "maybe", "no")),
                    "answered_at": starts - timedelta(days=3),
                },
            )
        if not past:
            continue
        for uid in rng.sample(members, min(sizes.attendance, len(members))):
            add(
                "attendance",
                {
                    "id": ids("attendance"),
                    "meeting_id": meeting_id,
                    "user_id": uid,
                    "recorded_at": starts,
                    "as_guest": False,
                },
            )
        for _ in range(sizes.notes):
            add(
                "meeting_notes",
                {
                    "id": ids("meeting_notes"),
                    "meeting_id": meeting_id,
                    "agenda_item_id": rng.choice(top_ids),
                    "author_user_id": rng.choice(members),
                    "text": _text(rng, 12),
                    "created_at": starts + timedelta(minutes=30),
                    "addendum": False,
                },
            )
        extra = int(number % 6 == 0)  # 96 past meetings × (4 + 1/6) = 400 a group
        for _ in range(sizes.decisions_per_meeting + extra):
            decision_numbers[starts.year] += 1
            add(
                "decisions",
                {
                    "id": ids("decisions"),
                    "group_id": g,
                    "year": starts.year,
                    "number": decision_numbers[starts.year],
                    "meeting_id": meeting_id,
                    "agenda_item_id": rng.choice(top_ids),
                    "kind": "decision",
                    "text": _text(rng, 10),
                    "outcome": "unanimous",
                    "created_at": starts + timedelta(hours=1),
                    "updated_at": starts + timedelta(hours=1),
                },
            )
        for _ in range(sizes.items_per_meeting + extra):
            item_number += 1
            item_id = ids("action_items")
            due = (starts + timedelta(days=rng.randrange(14, 90))).date()
            recent = starts > NOW - timedelta(days=365)  # older ones were done long ago
            status = "open" if recent and rng.random() < 0.5 else "done"
            add(
                "action_items",
                {
                    "id": item_id,
                    "group_id": g,
                    "number": item_number,
                    "text": _text(rng, 8),
                    "due_date": due,
                    "status": status,
                    "meeting_id": meeting_id,
                    "agenda_item_id": rng.choice(top_ids),
                    "created_at": starts + timedelta(hours=1),
                    "updated_at": starts + timedelta(hours=1),
                    "closed_at": None if status == "open" else starts + timedelta(days=30),
                },
            )
            assignee = rng.choice(members)
            add(
                "action_item_assignees",
                {
                    "id": ids("action_item_assignees"),
                    "action_item_id": item_id,
                    "user_id": 2 if g == TARGET_GROUP and item_number % 10 == 0 else assignee,
                },
            )
    if g == TARGET_GROUP:  # today's meeting: 200 notes on its 10 TOPs
        today_id = meeting_id - 3
        first_top = ids._next["agenda_items"] - 3 * sizes.tops - MINUTES_TOPS + 1
        for n in range(MINUTES_NOTES):
            add(
                "meeting_notes",
                {
                    "id": ids("meeting_notes"),
                    "meeting_id": today_id,
                    "agenda_item_id": first_top + n % MINUTES_TOPS,
                    "author_user_id": rng.choice(members),
                    "text": _text(rng, 12),
                    "created_at": NOW,
                    "addendum": False,
                },
            )
    for number in range(1, sizes.polls_per_group + 1):
        poll_id = ids("polls")
        latest = number == sizes.polls_per_group
        created_at = START + timedelta(days=3652 * number / (sizes.polls_per_group + 1))
        add(
            "polls",
            {
                "id": poll_id,
                "group_id": g,
                "number": number,
                "kind": "date",
                "title": f"Terminabfrage {number}",
                "deadline": created_at + timedelta(days=7),
                "allow_maybe": True,
                "anonymous": False,
                "status": "open" if latest else "closed",
                "closed_at": None if latest else created_at + timedelta(days=7),
                "created_at": created_at,
            },
        )
        voters = members if latest and g == TARGET_GROUP else rng.sample(members, sizes.voters)
        option_ids = []
        for position in range(1, POLL_OPTIONS + 1):
            option_ids.append(ids("poll_options"))
            add(
                "poll_options",
                {
                    "id": option_ids[-1],
                    "poll_id": poll_id,
                    "position": position,
                    "starts_at": created_at + timedelta(days=14 + position),
                },
            )
        for uid in voters:
            for option_id in option_ids:
                add(
                    "poll_votes",
                    {
                        "id": ids("poll_votes"),
                        "poll_id": poll_id,
                        "option_id": option_id,
                        "user_id": uid,
                        "answer": rng.choice(("yes", "maybe", "no")),
                        "answered_at": created_at + timedelta(days=1),
                    },
                )
    for table, row in writes:
        await w.add(table, row)


async def _outbox(
    w: Writer,
    sizes: Sizes,
    rng: random.Random,
    members_of: dict[int, list[int]],
    only: int | None,
) -> None:
    """What the retention leaves of `outbox_total` messages over ten years: the last
    `compact_days` days, payloads emptied after 30 days."""
    rows = sizes.outbox_rows
    window = timedelta(days=sizes.compact_days)
    for i in range(rows):
        g = rng.randrange(1, sizes.groups + 1)
        uid = rng.choice(members_of[g])
        purpose = rng.choice(("meeting_reminder", "task_reminder", "invitation"))
        text = _text(rng, 20)
        if only and g != only:
            continue
        created = NOW - window + window * (i / rows)
        old = created < NOW - timedelta(days=30)
        pending = i >= rows - 20
        await w.add(
            "outbox",
            {
                "id": i + 1,
                "dedupe_key": f"bench:{i}",
                "purpose": purpose,
                "platform": "test",
                "chat_id": None,
                "user_id": uid,
                "group_id": g,
                "payload": {"text": ""} if old else {"text": text},
                "status": "pending" if pending else "sent",
                "attempts": 0 if pending else 1,
                "next_attempt_at": created,
                "created_at": created,
                "sent_at": None if pending else created + timedelta(seconds=2),
                "payload_purged_at": created + timedelta(days=30) if old else None,
            },
        )
