"""The Matrix `PlatformDriver` for bench/faults.py (`--platform matrix` or `both`).

Path measured: the outbox on the bench's PostgreSQL → the delivery worker (circuit
breaker probing with whoami, pacing) → the real Matrix adapter (nio) in this process → the
fault proxy (tests/matrix_fault_proxy.py) → the suite's Synapse, whose rc_message is set to
`rate` messages a second (the bot is told the same with MATRIX_MESSAGES_PER_SECOND). Every
recipient has a direct room with the bot, opened beforehand with the bot's limit lifted.

The scenario's steps on Matrix (sends are PUT …/send/…):
- slow: the proxy passes the send on and holds Synapse's answer `seconds` (processed,
  answered late; longer than the bot's send timeout counts as cut);
- reset: the answer is cut mid-response; malformed: answered 200 with garbage;
- outage: the proxy stops listening (connection refused, open connections cut), every
  request, the probe and the sync included.

What arrived is read from Synapse's database (the bot's m.room.message events), never
from the bot. `cut_mid_response` is the number of sends Synapse processed whose answer the
bot did not get intact: a Matrix resend with the same transaction id shows the message
once, so `uncertain` is expected to stay 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nio import AsyncClient, AsyncClientConfig, RoomCreateResponse  # noqa: E402

from bench.faults import Scenario, Step  # noqa: E402
from bench.matrix_delivery import create_users, direct_rooms, lift  # noqa: E402
from bot.adapters.matrix import MatrixAdapter  # noqa: E402
from bot.app import Core  # noqa: E402
from bot.core.messages import UserRef  # noqa: E402
from bot.core.settings import Settings, load_settings  # noqa: E402
from bot.outbox.ports import Sender  # noqa: E402
from storage import people, platform_state  # noqa: E402
from tests.matrix_bot import PASSWORD  # noqa: E402
from tests.matrix_fault_proxy import Fault, FaultProxy, Rule  # noqa: E402
from tests.matrix_server import Synapse  # noqa: E402

PREFIX = "Bench "  # the bench's messages (bench/faults.py seed_outbox)


class MatrixDriver:
    """Synapse with rc_message at `rate`/s behind the fault proxy, `recipients` people."""

    name = "matrix"
    worker_per_second: float | None = None  # the adapter's own pace holds the limit

    def __init__(self, recipients: int, rate: float, seed: int, burst: int = 10) -> None:
        self.per_second = rate
        self.recipients = recipients
        self.seed = seed
        self.burst = burst
        self.synapse: Synapse | None = None
        self.proxy: FaultProxy | None = None
        self.bot_id = ""
        self.rooms: list[str] = []
        self.users: list[str] = []
        self.admin_room = ""
        self._workdir = tempfile.TemporaryDirectory()
        self._adapter: MatrixAdapter | None = None
        self._script: asyncio.Task[None] | None = None
        self._slow: list[Rule] = []
        self._read_timeout = 0.0

    def settings(self, database_url: str, read_timeout: float) -> Settings:
        assert self.synapse is not None and self.proxy is not None
        self._read_timeout = read_timeout
        return load_settings(
            _env_file=None,
            database_url=database_url,
            matrix_homeserver=self.proxy.base_url,
            matrix_user_id=self.bot_id,
            matrix_password=PASSWORD,
            matrix_store_path=str(Path(self._workdir.name) / "store"),
            matrix_allowed_inviters=":localhost",
            matrix_messages_per_second=self.per_second,
            admin_chats=f"matrix:{self.admin_room}",
            outbox_outage_notice_seconds=10,
            log_level="WARNING",
        )

    async def open(self) -> None:
        """Start Synapse and the proxy; make the people and their direct rooms."""
        limits = {"rc_message": {"per_second": self.per_second, "burst_count": self.burst}}
        synapse = Synapse(extra_config=limits)
        await asyncio.to_thread(synapse.start)
        self.synapse = synapse
        print(f"setting up {self.recipients} people on Synapse …", file=sys.stderr)
        self.bot_id, token = synapse.register(synapse.unique_localpart("agbot"), PASSWORD)
        self.users = await asyncio.to_thread(create_users, synapse, self.recipients)
        lift(synapse, self.bot_id, True)
        self.rooms = await direct_rooms(synapse, token, self.bot_id, self.users)
        self.admin_room = await self._admin_room(token)
        lift(synapse, self.bot_id, False)  # from here on the limit under test applies
        self.proxy = await FaultProxy(synapse.base_url, seed=self.seed).start()

    async def _admin_room(self, token: str) -> str:
        assert self.synapse is not None
        client = AsyncClient(
            self.synapse.base_url, self.bot_id, config=AsyncClientConfig(max_limit_exceeded=0)
        )
        client.access_token = token
        try:
            response = await client.room_create(name="Admins")
        finally:
            await client.close()
        assert isinstance(response, RoomCreateResponse), response
        return response.room_id

    async def start(self, core: Core, recipients: int) -> list[str]:
        """The bot knows each person and their direct room, then logs in through the proxy."""
        now = core.services.clock.now()
        async with core.services.sessions.begin() as session:
            for index, (user_id, room) in enumerate(zip(self.users, self.rooms, strict=True)):
                await people.upsert_identity(
                    session, UserRef("matrix", user_id, f"P{index}"), now, private_chat_id=room
                )
            await platform_state.set_state(
                session, "matrix", "direct_rooms", json.dumps(self.rooms), now
            )
        self._adapter = MatrixAdapter(core.settings, core.dispatcher, core.services)
        await self._adapter.start()
        self._adapter.send_timeout = self._read_timeout  # later than this counts as cut
        return self.rooms[:recipients]

    @property
    def sender(self) -> Sender:
        assert self._adapter is not None
        return self._adapter.sender

    def script(self, scenario: Scenario, seed: int) -> None:
        self._script = asyncio.create_task(self._play(scenario.steps))

    async def _play(self, steps: tuple[Step, ...]) -> None:
        """Each step switched on at its start and off at its end, on the loop's clock."""
        proxy = self.proxy
        assert proxy is not None
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        events = sorted(
            [(step.start, 0, index) for index, step in enumerate(steps)]
            + [(step.end, 1, index) for index, step in enumerate(steps)]
        )
        rules: dict[int, Rule] = {}
        for at, ending, index in events:
            await asyncio.sleep(max(0.0, t0 + at - loop.time()))
            step = steps[index]
            if step.kind == "outage":
                print(f"[{at:.0f}s] outage {'ends' if ending else 'begins'}", file=sys.stderr)
                await (proxy.resume() if ending else proxy.refuse())
            elif ending:
                with contextlib.suppress(ValueError):
                    proxy.rules.remove(rules.pop(index))
            else:
                fault = {"slow": Fault.DELAY, "reset": Fault.RESET}.get(step.kind, Fault.MALFORMED)
                rule = proxy.add(
                    fault, times=None, probability=step.probability, seconds=step.seconds
                )
                rules[index] = rule
                if fault is Fault.DELAY:
                    self._slow.append(rule)

    def arrivals(self) -> Counter[tuple[str, str]]:
        """(room, body) of the bot's messages, as Synapse stored them."""
        assert self.synapse is not None and self.synapse.root is not None
        with sqlite3.connect(self.synapse.root / "homeserver.db") as db:
            rows = db.execute(
                "SELECT e.room_id, j.json FROM events e "
                "JOIN event_json j ON j.event_id = e.event_id "
                "WHERE e.sender = ? AND e.type = 'm.room.message'",
                (self.bot_id,),
            ).fetchall()
        found: Counter[tuple[str, str]] = Counter()
        for room, raw in rows:
            body = json.loads(raw).get("content", {}).get("body", "")
            if body.startswith(PREFIX):
                found[(room, body)] += 1
        return found

    def cut_mid_response(self, read_timeout: float) -> int:
        """Sends Synapse processed whose answer was cut, garbled, or later than the bot
        waited."""
        assert self.proxy is not None
        late = sum(rule.fired for rule in self._slow if rule.seconds > read_timeout)
        return self.proxy.cut_after_processing + late

    @property
    def limit_exceeded(self) -> int:
        """Synapse's own M_LIMIT_EXCEEDED answers (the pace should keep this 0)."""
        return self.proxy.upstream_limit_exceeded if self.proxy is not None else 0

    async def stop(self) -> None:
        if self._script is not None:
            self._script.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._script
        if self._adapter is not None:
            await self._adapter.stop()
        if self.proxy is not None:
            await self.proxy.stop()
        if self.synapse is not None:
            await asyncio.to_thread(self.synapse.stop)
        self._workdir.cleanup()
