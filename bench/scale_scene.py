"""What the chair of AG Transfer says in the scale bench (bench/scale.py), and the same
commands for the query-plan test (tests/storage/test_query_plans.py): the twenty most-used
commands and a press on the poll with 500 answers, through the real dispatcher
(tests/harness.py's Conversation, no network), on a database bench/scale_data.py filled.
"""

from __future__ import annotations

import time
from datetime import date

from bench.scale_data import CHAIR, MEMBER, NOW, TARGET_CHAT
from bot.app import Core
from bot.core.clock import FixedClock
from bot.core.messages import ChatKind, ChatRef
from bot.core.settings import load_settings
from tests.harness import Conversation, FakePlatform, dm, person

GROUP = ChatRef("test", TARGET_CHAT, ChatKind.GROUP, "AG Transfer")
TODAYS = 97  # the meeting in progress: 10 TOPs, 200 notes (bench/scale_data.py)
PAST, NEXT = 96, 98

# (name, text, in the group chat?): the twenty most-used commands. A command that changes
# something alternates between two texts (odd/even round) so every run does real work.
COMMANDS: list[tuple[str, tuple[str, ...], bool]] = [
    ("meetings", ("/sitzungen",), True),
    ("meetings_all", ("/sitzungen alle",), True),
    ("show_meeting", (f"/sitzunginfo {NEXT}",), True),
    ("rsvp", (f"/zusage {NEXT} ja", f"/zusage {NEXT} nein"), True),
    ("vote", ("/abstimmen 1 ja 2 nein", "/abstimmen 1 nein 2 ja"), True),
    ("record_decision", ("/beschluss einstimmig Der Leitfaden wird beschlossen.",), True),
    ("action_items", ("/aufgaben",), True),
    # by a member of this group only: the chair's own are in 50 groups, the small
    # database's in one, which would compare two different lists
    ("my_action_items", ("/meineaufgaben",), False),
    ("minutes_10_tops_200_notes", (f"/protokoll {TODAYS}",), True),
    ("decisions_search", ("/beschluesse Leitfaden Transfer",), True),
    ("decisions_list", ("/beschluesse",), True),
    ("advisor_lookup", ("/berater berater7@example.org",), False),
    ("agenda", (f"/tagesordnung {TODAYS}",), True),
    ("note", ("/notiz Die Checks laufen gut.",), True),
    ("notes", ("/notizen",), True),
    ("attendance", (f"/anwesenheit #{PAST}",), True),
    ("members", ("/mitglieder",), True),
    ("polls", ("/abfragen",), True),
    ("record_action_item", ("/aufgabe @bernd: Leitfaden verschicken bis 30.06.2026",), True),
    ("action_item_status", ("/aufgabenstatus 5 erledigt", "/aufgabenstatus 5 offen"), True),
    ("settings", ("/einstellungen",), True),
]
POLL_PRESS = "poll_press_500_answers"
BY_MEMBER = frozenset({"my_action_items"})  # said by bernd, a member of this group only


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Side:
    """One database with its bot core and the chair's conversation."""

    def __init__(self, name: str, url: str, policy_start: date | None = None) -> None:
        self.name, self.url, self.policy_start = name, url, policy_start
        self.times: dict[str, list[float]] = {}

    async def start(self) -> None:
        settings = load_settings(
            database_url=self.url,
            admin_users=f"test:{CHAIR}",
            advisor_policy_start=self.policy_start,
            _env_file=None,
        )
        self.core = await Core.create(settings, FixedClock(NOW))
        platform = FakePlatform()
        self.chat = Conversation(self.core, platform, admins=[(GROUP, person(CHAIR))])
        self.poll_button = await self._poll_button()

    async def _poll_button(self) -> tuple[str, str]:
        [shown] = await self.chat.say(person(CHAIR), "/abfragen 40", GROUP)
        data = [b.data for row in shown.buttons for b in row]
        assert data, f"the open poll shows no buttons: {shown.text[:300]}"
        return shown.text, data[0]

    async def run(self, name: str, texts: tuple[str, ...], in_group: bool, round_: int) -> None:
        anna = person(MEMBER if name in BY_MEMBER else CHAIR)
        started = time.perf_counter()
        if name == POLL_PRESS:
            text, data = self.poll_button
            replies = await self.chat.say(anna, text, GROUP, callback=data, message_id="1")
        else:
            text = texts[round_ % len(texts)]
            replies = await self.chat.say(anna, text, GROUP if in_group else dm(anna))
        elapsed = (time.perf_counter() - started) * 1000
        if round_ < 0:  # warm-up: the answer must be a real one
            shown = "\n".join(r.text for r in replies)
            assert replies and "Entschuldigung" not in shown, f"{self.name} {name}: {shown[:300]}"
            return
        self.times.setdefault(name, []).append(elapsed)

    async def close(self) -> None:
        await self.core.close()
