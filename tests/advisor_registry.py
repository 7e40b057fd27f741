"""The bot with the advisor registry switched on, and the people around it: shared by the
advisor tests (tests/advisors) and the delivery reports to admins (tests/delivery)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime

from bot.app import Core
from bot.core.clock import FixedClock
from bot.core.settings import Settings, load_settings
from tests.harness import GROUP, OTHER_GROUP, Conversation, person

POLICY_START = date(2021, 1, 1)
ADMIN_CHAT = GROUP  # the admin working group's chat
SUMMARY_CHAT = "-300"


def advisor_settings(database_url: str, **overrides: object) -> Settings:
    """The registry on: its policy from POLICY_START, ADMIN_CHAT as the admin working group's
    chat, summaries to SUMMARY_CHAT; `overrides` change or add settings."""
    values: dict[str, object] = {
        "database_url": database_url,
        "advisor_policy_start": POLICY_START,
        "admin_chats": f"test:{ADMIN_CHAT.chat_id}",
        "advisor_summary_chat": f"test:{SUMMARY_CHAT}",
        "_env_file": None,
    }
    values.update(overrides)
    return load_settings(**values)


ADMIN = person("alma")  # member of the admin working group (GROUP)
LISTED_ADMIN = person("olaf", "en")  # listed in ADMIN_USERS
CHAIR = person("carl")  # chair of another working group
ADVISOR = person("berta")

ADD = "/beraterneu Berta Beispiel | berta@example.org | RKW Nord | Digitalisierung | 15.03.2019"


@asynccontextmanager
async def registry_chat(database_url: str, clock: FixedClock) -> AsyncIterator[Conversation]:
    """Alma registers the admin working group in GROUP, Carl chairs AG Transfer in
    OTHER_GROUP, Olaf is listed in ADMIN_USERS; the core closes when the block ends."""
    clock.set(datetime(2021, 6, 10, 8, 0, tzinfo=UTC))
    core = await Core.create(
        advisor_settings(database_url, admin_users=f"test:{LISTED_ADMIN.user_id}"), clock
    )
    conversation = Conversation(core, admins=[(GROUP, ADMIN), (OTHER_GROUP, CHAIR)])
    await conversation.say(ADMIN, '/registrieren ag "Admins"', GROUP)
    await conversation.say(CHAIR, '/registrieren ag "AG Transfer"', OTHER_GROUP)
    yield conversation
    await core.close()
