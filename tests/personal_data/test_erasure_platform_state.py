"""`/datenloeschen` removes the per-person records adapters keep in platform_state (who
reacted how on Matrix), and only the person's own."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import Core
from storage import platform_state
from storage.models import Identity
from tests.harness import Conversation, dm, person

anna, bernd = person("anna"), person("bernd")


async def test_erasure_removes_records_naming_the_persons_accounts(
    chat: Conversation, core: Core
) -> None:
    await chat.say(bernd, "/start", dm(bernd))
    await chat.say(anna, "/start", dm(anna))
    now = core.services.clock.now()
    async with core.services.sessions.begin() as session:
        accounts = dict(
            (await session.execute(select(Identity.user_id, Identity.platform_user_id))).all()
        )
        identity = await session.scalar(
            select(Identity).where(Identity.platform_user_id == bernd.user_id)
        )
        assert identity is not None
        other = next(account for account in accounts.values() if account != bernd.user_id)
        for key, account in (
            (f"taps:$poll:{bernd.user_id}", bernd.user_id),
            ("reaction:$tap", bernd.user_id),
            (f"taps:$poll:{other}", other),
            ("buttons:$poll", None),
        ):
            await platform_state.set_state(
                session, identity.platform, key, "{}", now, account=account
            )
    await chat.say(bernd, "/datenloeschen ja", dm(bernd))
    async with core.services.sessions() as session:
        for key in (f"taps:$poll:{bernd.user_id}", "reaction:$tap"):
            assert await platform_state.get_state(session, identity.platform, key) is None
        for key in (f"taps:$poll:{other}", "buttons:$poll"):
            assert await platform_state.get_state(session, identity.platform, key) == "{}"
