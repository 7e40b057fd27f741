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


async def test_existing_reaction_records_learn_their_account_on_upgrade(
    database_url: str,
) -> None:
    """Records written before platform_state had `account` are found by erasure too."""
    from sqlalchemy import text

    from storage.db import create_engine
    from storage.migrate import upgrade_to_head

    engine = create_engine(database_url)
    try:
        await upgrade_to_head(engine, "0015_organisation")
        rows = {
            "taps:$poll:@bernd:example.org": "{}",
            "reaction:$tap": '{"on": "$poll", "key": "1️⃣", "sender": "@bernd:example.org"}',
            "reaction:$old": '{"superseded": true}',
            "sync_token": "s1",
        }
        async with engine.begin() as connection:
            for key, value in rows.items():
                await connection.execute(
                    text(
                        "INSERT INTO platform_state (platform, key, value, updated_at) "
                        "VALUES ('matrix', :key, :value, CURRENT_TIMESTAMP)"
                    ),
                    {"key": key, "value": value},
                )
        await upgrade_to_head(engine)
        async with engine.connect() as connection:
            accounts = dict(
                (await connection.execute(text("SELECT key, account FROM platform_state"))).all()
            )
    finally:
        await engine.dispose()
    assert accounts == {
        "taps:$poll:@bernd:example.org": "@bernd:example.org",
        "reaction:$tap": "@bernd:example.org",
        "reaction:$old": None,
        "sync_token": None,
    }
