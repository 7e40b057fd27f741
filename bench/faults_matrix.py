"""Issue #13's fault scenario on Matrix: a compressed hour of a misbehaving homeserver.

Path: the outbox (SQLite) → the delivery worker → the real Matrix adapter (in this
process) → the fault proxy (tests/matrix_fault_proxy.py) → Synapse, whose rc_message is set
to `--rate` (the bot is told the same with MATRIX_MESSAGES_PER_SECOND). `--count` messages
to `--recipients` people (each has a direct room with the bot) are queued at a steady pace
while the proxy plays the script:

  calm (`--calm` s) → slow answers (`--slow` s: a third of the sends answered after
  `--delay` s, longer than the bot waits) → outage (`--outage` s: connections refused, open
  ones cut) → random resets (`--resets` s: 5% of the sends cut mid-response, 1% answered
  with garbage) → calm until the queue is empty.

Figures (last line, one JSON object), what reached the rooms read from Synapse's database:
- sent: messages queued; delivered: distinct messages in the rooms
- duplicated: copies beyond the first (must be 0)
- lost: messages neither delivered, nor expired with a record, nor reported uncertain (0)
- uncertain / expired: rows in those states at the end
- cut_mid_response: requests the homeserver processed but whose answer the proxy cut or
  garbled (the bound for `uncertain`)
- seconds_after_recovery: from the end of the outage to an empty queue (every message
  sent, failed, expired or uncertain);
  backlog_seconds: the time the rate limit needs for the backlog at recovery (goal: the
  former within 2× the latter)
- admin_notices: outage/recovery notices to admins. The worker's notices (#13, platform-
  independent part) are not in this branch, so this counts 0 until they are merged.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.matrix_delivery import (  # noqa: E402
    create_users,
    direct_rooms,
    lift,
    stored_messages,
)
from bot.app import Core  # noqa: E402
from bot.core.messages import OutgoingMessage, UserRef  # noqa: E402
from bot.core.settings import load_settings  # noqa: E402
from storage import outbox, people, platform_state  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402
from tests.matrix_bot import PASSWORD, MatrixBot, start_matrix_bot, stop_matrix_bot  # noqa: E402
from tests.matrix_fault_proxy import Fault, FaultProxy  # noqa: E402
from tests.matrix_server import Synapse  # noqa: E402

TEXT = "Zustellung"
FINAL = ("sent", "failed", "expired", "uncertain", "unreachable")


async def known_people(database_url: str, users: list[str], rooms: list[str]) -> list[int]:
    core = await Core.create(load_settings(_env_file=None, database_url=database_url))
    now = core.services.clock.now()
    ids = []
    async with core.services.sessions.begin() as session:
        for index, (user_id, room) in enumerate(zip(users, rooms, strict=True)):
            identity = await people.upsert_identity(
                session, UserRef("matrix", user_id, f"P{index}"), now, private_chat_id=room
            )
            ids.append(identity.user_id)
        await platform_state.set_state(session, "matrix", "direct_rooms", json.dumps(rooms), now)
    await core.close()
    return ids


async def feed(bot: MatrixBot, people_ids: list[int], count: int, seconds: float) -> None:
    """Queue `count` messages evenly over `seconds`, round robin over the people."""
    services = bot.core.services
    for index in range(count):
        async with services.sessions.begin() as session:
            await outbox.enqueue(
                session,
                dedupe_key=f"bench:{index}",
                purpose="bench",
                platform="matrix",
                message=OutgoingMessage(f"{TEXT} {index}"),
                now=services.clock.now(),
                user_id=people_ids[index % len(people_ids)],
            )
        services.wake_outbox()
        await asyncio.sleep(seconds / count)


async def statuses(bot: MatrixBot) -> Counter[str]:
    async with bot.core.services.sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.purpose == "bench")
            .group_by(OutboxMessage.status)
        )
        return Counter({str(status): int(n) for status, n in rows})


async def random_resets(proxy: FaultProxy, seconds: float) -> None:
    rules = [
        proxy.add(Fault.RESET, times=None, probability=0.05),
        proxy.add(Fault.MALFORMED, times=None, probability=0.01),
    ]
    try:
        await asyncio.sleep(seconds)
    finally:
        for rule in rules:
            proxy.rules.remove(rule)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=600, help="messages to queue")
    parser.add_argument("--recipients", type=int, default=60, help="people with a direct room")
    parser.add_argument("--rate", type=float, default=10.0, help="Synapse's rc_message per_second")
    parser.add_argument("--calm", type=float, default=15.0)
    parser.add_argument("--slow", type=float, default=30.0)
    parser.add_argument("--delay", type=float, default=3.0, help="slow answers take this long")
    parser.add_argument("--outage", type=float, default=120.0)
    parser.add_argument("--resets", type=float, default=45.0)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    limits = {"rc_message": {"per_second": args.rate, "burst_count": 10}}
    with tempfile.TemporaryDirectory() as workdir, Synapse(extra_config=limits) as synapse:
        print(f"setting up {args.recipients} people on Synapse …", file=sys.stderr)
        bot_id, bot_token = synapse.register(synapse.unique_localpart("agbot"), PASSWORD)
        users = create_users(synapse, args.recipients)
        lift(synapse, bot_id, True)
        rooms = await direct_rooms(synapse, bot_token, bot_id, users)
        lift(synapse, bot_id, False)
        database_url = f"sqlite:///{Path(workdir) / 'bot.db'}"
        people_ids = await known_people(database_url, users, rooms)
        async with FaultProxy(synapse.base_url, seed=args.seed) as proxy:
            bot = await start_matrix_bot(
                synapse,
                bot_id,
                Path(workdir),
                via=proxy.base_url,
                matrix_messages_per_second=args.rate,
            )
            bot.adapter.send_timeout = args.delay / 2  # slow answers come after the bot gave up
            loop = asyncio.get_running_loop()
            try:
                # Messages keep coming until the outage is half over, so a backlog builds.
                feeding = args.calm + args.slow + args.outage / 2
                feeder = asyncio.create_task(feed(bot, people_ids, args.count, feeding))
                await asyncio.sleep(args.calm)
                print("slow answers …", file=sys.stderr)
                slow = proxy.add(Fault.DELAY, times=None, probability=0.33, seconds=args.delay)
                await asyncio.sleep(args.slow)
                proxy.rules.remove(slow)
                print("outage …", file=sys.stderr)
                await proxy.refuse()
                await asyncio.sleep(args.outage)
                await proxy.resume()
                recovered = loop.time()
                await feeder
                counts = await statuses(bot)
                backlog = args.count - sum(counts[s] for s in FINAL)
                print(f"recovered with {backlog} queued; random resets …", file=sys.stderr)
                resets = asyncio.create_task(random_resets(proxy, args.resets))
                drained_at: float | None = None
                deadline = recovered + args.resets + 900
                while loop.time() < deadline:
                    counts = await statuses(bot)
                    if sum(counts[s] for s in FINAL) >= args.count:
                        drained_at = loop.time()
                        break
                    await asyncio.sleep(0.5)
                await resets
                await asyncio.sleep(2)  # a late duplicate would show up here
                counts = await statuses(bot)
                pace = bot.adapter.pace
            finally:
                await stop_matrix_bot(bot)
        stored = stored_messages(synapse, bot_id)
    bodies = Counter(body for _, _, body in stored)
    delivered = {int(body.split()[-1]) for body in bodies}
    figures = {
        "sent": args.count,
        "delivered": len(delivered),
        "duplicated": sum(n - 1 for n in bodies.values()),
        "lost": args.count - len(delivered) - counts["expired"] - counts["uncertain"],
        "uncertain": counts["uncertain"],
        "expired": counts["expired"],
        "failed": counts["failed"],
        "cut_mid_response": proxy.cut_after_processing,
        "slow_answers": proxy.applied(Fault.DELAY),
        "seconds_after_recovery": round(drained_at - recovered, 1)
        if drained_at is not None
        else None,
        "backlog_at_recovery": backlog,
        "backlog_seconds": round(backlog / args.rate, 1),
        "admin_notices": 0,
        "admin_notices_note": "worker notices (#13) not merged in this branch",
        "matrix_limit_exceeded": proxy.upstream_limit_exceeded,
        "pace_final_per_s": round(pace.per_second, 2),
        "rate_limit_per_s": args.rate,
        "outage_seconds": args.outage,
        "statuses": dict(counts),
        "database": "sqlite",
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
