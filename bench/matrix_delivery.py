"""Outbox delivery rate on Matrix against a real Synapse with a known message rate limit.

Path measured: the outbox (SQLite) → the delivery worker → the real Matrix adapter (nio,
running in this process as in the tests) → a pass-through proxy that counts the answers
(tests/matrix_fault_proxy.py, no faults) → Synapse, whose `rc_message` is set to `--rate`
messages per second (burst `--burst`). The bot is told the same rate with
MATRIX_MESSAGES_PER_SECOND; with `--measured` it is not, and has to find it itself.

`--count` people (default 500) each have a direct room with the bot already (created before
the run with the bot's limit lifted, then the lift removed), so every delivery is one event,
as on Telegram's bench, where the private chats exist too.

Figures (last line, one JSON object):
- matrix_rate_ratio: messages per second between the first and the last delivery as Synapse
  stored them (origin_server_ts, read from its database), divided by `--rate`; goal ≥ 0.9.
- matrix_limit_exceeded: M_LIMIT_EXCEEDED answers Synapse gave the bot; goal 0.
- lost / duplicated: people without the message / with more than one copy; must be 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nio import AsyncClient, AsyncClientConfig, RoomCreateResponse, RoomPreset  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bot.app import Core  # noqa: E402
from bot.core.messages import OutgoingMessage, UserRef  # noqa: E402
from bot.core.settings import load_settings  # noqa: E402
from storage import outbox, people, platform_state  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402
from tests.matrix_bot import PASSWORD, start_matrix_bot, stop_matrix_bot  # noqa: E402
from tests.matrix_fault_proxy import FaultProxy  # noqa: E402
from tests.matrix_server import Synapse  # noqa: E402

TEXT = "Zustellung"


def create_users(synapse: Synapse, count: int) -> list[str]:
    """`count` accounts through the admin API (no password: no hashing), in threads."""
    token = synapse.admin_token()

    def one(index: int) -> str:
        user_id = f"@p{index}_{synapse.unique_localpart('m')}:{synapse.server_name}"
        quoted = urllib.parse.quote(user_id, safe="")
        synapse.request("PUT", f"/_synapse/admin/v2/users/{quoted}", {"admin": False}, token)
        return user_id

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(count)))


def lift(synapse: Synapse, user_id: str, lifted: bool) -> None:
    quoted = urllib.parse.quote(user_id, safe="")
    path = f"/_synapse/admin/v1/users/{quoted}/override_ratelimit"
    if lifted:
        synapse.override_ratelimit(user_id)
    else:
        synapse.request("DELETE", path, token=synapse.admin_token())


async def direct_rooms(synapse: Synapse, bot_token: str, bot: str, users: list[str]) -> list[str]:
    """One direct room per person, opened by the bot as it would itself."""
    client = AsyncClient(synapse.base_url, bot, config=AsyncClientConfig(max_limit_exceeded=0))
    client.access_token = bot_token
    limit = asyncio.Semaphore(4)

    async def one(user_id: str) -> str:
        async with limit:
            response = await client.room_create(
                is_direct=True, preset=RoomPreset.trusted_private_chat, invite=[user_id]
            )
        assert isinstance(response, RoomCreateResponse), response
        return response.room_id

    try:
        return list(await asyncio.gather(*(one(u) for u in users)))
    finally:
        await client.close()


async def seed(database_url: str, users: list[str], rooms: list[str]) -> None:
    """The bot knows each person and their direct room, and has a message queued for each."""
    core = await Core.create(load_settings(_env_file=None, database_url=database_url))
    now = core.services.clock.now()
    async with core.services.sessions.begin() as session:
        for index, (user_id, room) in enumerate(zip(users, rooms, strict=True)):
            identity = await people.upsert_identity(
                session, UserRef("matrix", user_id, f"P{index}"), now, private_chat_id=room
            )
            await outbox.enqueue(
                session,
                dedupe_key=f"bench:{index}",
                purpose="bench",
                platform="matrix",
                message=OutgoingMessage(f"{TEXT} {index}"),
                now=now,
                user_id=identity.user_id,
            )
        await platform_state.set_state(session, "matrix", "direct_rooms", json.dumps(rooms), now)
    await core.close()


def stored_messages(synapse: Synapse, sender: str) -> list[tuple[str, int, str]]:
    """(room, origin_server_ts, body) of the bot's messages, as Synapse stored them."""
    assert synapse.root is not None
    with sqlite3.connect(synapse.root / "homeserver.db") as db:
        rows = db.execute(
            "SELECT e.room_id, e.origin_server_ts, j.json FROM events e "
            "JOIN event_json j ON j.event_id = e.event_id "
            "WHERE e.sender = ? AND e.type = 'm.room.message'",
            (sender,),
        ).fetchall()
    found = []
    for room, ts, raw in rows:
        body = json.loads(raw).get("content", {}).get("body", "")
        if body.startswith(TEXT):
            found.append((room, ts, body))
    return found


async def wait_drained(core: Core, count: int, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    sent = 0
    while time.monotonic() < deadline:
        async with core.services.sessions() as session:
            sent = await session.scalar(
                select(func.count()).where(
                    OutboxMessage.purpose == "bench", OutboxMessage.status == "sent"
                )
            )
        if sent >= count:
            break
        await asyncio.sleep(0.5)
    return int(sent or 0)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="people to send a DM to")
    parser.add_argument("--rate", type=float, default=5.0, help="Synapse's rc_message per_second")
    parser.add_argument("--burst", type=int, default=10, help="Synapse's rc_message burst_count")
    parser.add_argument(
        "--measured", action="store_true", help="do not tell the bot the rate: it measures"
    )
    args = parser.parse_args()
    limits = {"rc_message": {"per_second": args.rate, "burst_count": args.burst}}
    with tempfile.TemporaryDirectory() as workdir, Synapse(extra_config=limits) as synapse:
        print(f"setting up {args.count} people on Synapse …", file=sys.stderr)
        began = time.monotonic()
        bot, bot_token = synapse.register(synapse.unique_localpart("agbot"), PASSWORD)
        users = create_users(synapse, args.count)
        lift(synapse, bot, True)
        rooms = await direct_rooms(synapse, bot_token, bot, users)
        lift(synapse, bot, False)  # from here on the limit under test applies to the bot
        database_url = f"sqlite:///{Path(workdir) / 'bot.db'}"
        await seed(database_url, users, rooms)
        setup_seconds = time.monotonic() - began
        print(f"set up in {setup_seconds:.0f}s; delivering …", file=sys.stderr)
        extra: dict[str, Any] = {} if args.measured else {"matrix_messages_per_second": args.rate}
        async with FaultProxy(synapse.base_url) as proxy:
            running = await start_matrix_bot(
                synapse, bot, Path(workdir), via=proxy.base_url, **extra
            )
            try:
                timeout = args.count / args.rate * 3 + 120
                sent = await wait_drained(running.core, args.count, timeout)
                await asyncio.sleep(2)  # a late duplicate would show up here
                pace = running.adapter.pace
                final_pace, source, raised = pace.per_second, pace.source, pace.raised
            finally:
                await stop_matrix_bot(running)
        stored = stored_messages(synapse, bot)
    per_room = Counter(room for room, _, _ in stored)
    times = sorted(ts for _, ts, _ in stored)
    seconds = (times[-1] - times[0]) / 1000 if len(times) > 1 else float("nan")
    rate = (len(times) - 1) / seconds if len(times) > 1 and seconds > 0 else float("nan")
    figures = {
        "matrix_rate_ratio": round(rate / args.rate, 3),
        "matrix_limit_exceeded": proxy.upstream_limit_exceeded,
        "rate_per_s": round(rate, 3),
        "limit_per_s": args.rate,
        "burst": args.burst,
        "pace_source": source,
        "pace_final_per_s": round(final_pace, 3),
        "pace_raised": raised,
        "count": args.count,
        "sent": sent,
        "lost": len(set(rooms) - set(per_room)),
        "duplicated": sum(n - 1 for n in per_room.values()),
        "seconds": round(seconds, 1),
        "setup_seconds": round(setup_seconds, 1),
        "database": "sqlite",
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
