"""Per-platform values: per-person reaction records expire, everything else stays."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Core
from storage import platform_state


async def test_old_reaction_records_are_forgotten_other_values_kept(core: Core) -> None:
    now = core.services.clock.now()
    old, recent = now - timedelta(days=100), now - timedelta(days=1)
    async with core.services.sessions.begin() as session:
        for key, when in (
            ("reaction:$old", old),
            ("taps:$poll:@bernd:example.org", old),
            ("reaction:$recent", recent),
            ("sync_token", old),
            ("buttons:$old", old),
            ("reaction_x%", old),  # a LIKE wildcard in a key is no wildcard
        ):
            await platform_state.set_state(session, "matrix", key, "{}", when)
        forgotten = await platform_state.forget_state_before(
            session, "matrix", ("reaction:", "taps:"), now - timedelta(days=90)
        )
    assert forgotten == 2
    async with core.services.sessions() as session:
        for key in ("reaction:$recent", "sync_token", "buttons:$old", "reaction_x%"):
            assert await platform_state.get_state(session, "matrix", key) == "{}"
        assert await platform_state.get_state(session, "matrix", "reaction:$old") is None
