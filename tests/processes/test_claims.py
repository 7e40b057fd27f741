"""Claims on updates and single-holder leases, on both backends and on a clock that the
test moves: a crashed holder's claim or lease runs out and is taken over, the old holder
can then no longer commit, and old claims are forgotten after the retention."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.app import Core
from bot.core.clock import FixedClock
from handlers.processes import claims
from handlers.processes.jobs import purge_handled_updates
from handlers.processes.leases import LeaseHeld, SingleProcessLease
from storage import processes
from storage.models import HandledUpdate, ProcessLease, User
from storage.processes import Claim
from tests.harness import Conversation, dm, person
from tests.postgres import PostgresCluster

LEASE = timedelta(seconds=60)


async def claim(core: Core, update_id: int, owner: str, chat: str = "42") -> Claim:
    async with core.services.sessions.begin() as session:
        return await processes.claim_update(
            session, "telegram", update_id, chat, owner, core.services.clock.now(), LEASE
        )


async def test_a_crashed_holders_claim_is_taken_over_once_it_runs_out(
    core: Core, clock: FixedClock
) -> None:
    assert await claim(core, 1, "a") is Claim.MINE
    assert await claim(core, 1, "b") is Claim.BUSY  # a still has it in hand
    clock.advance(LEASE)
    assert await claim(core, 1, "b") is Claim.MINE  # a died: b takes over
    assert await claim(core, 1, "c") is Claim.BUSY
    async with core.services.sessions.begin() as session:
        now = clock.now()
        assert not await processes.finish_update(session, "telegram", 1, "a", now)
        assert await processes.finish_update(session, "telegram", 1, "b", now)
    assert await claim(core, 1, "a") is Claim.HANDLED


async def test_a_holder_that_lost_its_claim_cannot_commit_the_command(
    core: Core, clock: FixedClock
) -> None:
    """The old holder was only slow, not dead: its command's effects are rolled back and
    it does not answer; the new holder's run is the one that counts."""
    assert await claim(core, 2, "slow") is Claim.MINE
    clock.advance(LEASE)
    assert await claim(core, 2, "new") is Claim.MINE
    lost = claims.UpdateClaim("telegram", 2, "42", "slow")
    token = claims.current_claim.set(lost)
    try:
        replies = await Conversation(core).say(person("dora"), "/sprache en", dm(person("dora")))
    finally:
        claims.current_claim.reset(token)
    assert replies == []
    async with core.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0
    assert await claims.finish(core.services, lost) is False


async def test_a_chats_later_update_waits_only_for_an_earlier_one_in_hand(
    core: Core, clock: FixedClock
) -> None:
    now = clock.now()
    assert await claim(core, 10, "a") is Claim.MINE
    async with core.services.sessions() as session:
        assert await processes.earlier_in_hand(session, "telegram", "42", 11, now)
        assert not await processes.earlier_in_hand(session, "telegram", "43", 11, now)
        assert not await processes.earlier_in_hand(session, "telegram", "42", 9, now)
        # a dead holder's earlier update does not block the chat for ever
        assert not await processes.earlier_in_hand(session, "telegram", "42", 11, now + LEASE)


async def test_handled_updates_are_forgotten_after_the_retention(
    core: Core, clock: FixedClock
) -> None:
    for update_id in (20, 21):
        assert await claim(core, update_id, "a") is Claim.MINE
        async with core.services.sessions.begin() as session:
            await processes.close_update(session, "telegram", update_id, "a", clock.now())
    clock.advance(timedelta(hours=47))
    assert await claim(core, 22, "a") is Claim.MINE
    assert await purge_handled_updates(core.services, clock.now()) == 0
    clock.advance(timedelta(hours=2))
    assert await purge_handled_updates(core.services, clock.now()) == 2
    async with core.services.sessions() as session:
        left = await session.scalars(select(HandledUpdate.update_id))
        assert list(left) == [22]


def lease(core: Core, holder: str, lost: list[str]) -> SingleProcessLease:
    return SingleProcessLease(
        core.services,
        "matrix_sync",
        holder,
        heartbeat_seconds=10,
        on_lost=lambda: lost.append(holder),
    )


async def test_a_second_holder_is_refused_until_the_first_releases_or_dies(
    core: Core, clock: FixedClock
) -> None:
    lost: list[str] = []
    first = lease(core, "host-a:1", lost)
    await first.acquire()
    with pytest.raises(LeaseHeld, match=r"another process \(host-a:1\) is already running"):
        await lease(core, "host-b:2", lost).acquire()
    await first.release()  # a clean stop: the next one may start at once
    second = lease(core, "host-b:2", lost)
    await second.acquire()
    # host-b dies without releasing: refused until three heartbeats have passed
    with pytest.raises(LeaseHeld):
        await lease(core, "host-c:3", lost).acquire()
    clock.advance(timedelta(seconds=30))
    third = lease(core, "host-c:3", lost)
    await third.acquire()
    async with core.services.sessions.begin() as session:
        now = clock.now()
        # the old holder comes back from a long pause: its renewal fails, it must stop
        assert not await processes.renew_lease(session, "matrix_sync", "host-b:2", now, LEASE)
        assert await processes.renew_lease(session, "matrix_sync", "host-c:3", now, LEASE)
        row = await session.get(ProcessLease, "matrix_sync")
        assert row is not None and row.holder == "host-c:3"
    for held in (second, third):
        await held.release()


async def test_a_holder_that_crashed_on_this_machine_is_replaced_at_once(core: Core) -> None:
    """A restart after kill -9 need not wait for the lease to run out: the old holder's
    process id on this machine is gone. A live one on this machine is still refused."""
    import asyncio
    import socket
    import sys

    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await gone.wait()
    lost: list[str] = []
    dead = lease(core, f"{socket.gethostname()}:{gone.pid}:abc", lost)
    await dead.acquire()
    successor = lease(core, f"{socket.gethostname()}:{os.getpid()}:def", lost)
    await successor.acquire()
    with pytest.raises(LeaseHeld):
        await lease(core, f"{socket.gethostname()}:{os.getpid()}:ghi", lost).acquire()
    await successor.release()
    await dead.release()  # only stops its heartbeat: the lease is no longer its to give up


async def test_processes_starting_at_once_migrate_a_fresh_database_once(
    postgres: PostgresCluster,
) -> None:
    """Four processes started together on a new PostgreSQL database: without the lock
    around migrations, all but one fail creating tables the first already created."""
    import asyncio

    from storage.db import create_engine
    from storage.migrate import current_revision, upgrade_to_head

    url = postgres.create_database("four_starts")
    engines = [create_engine(url) for _ in range(4)]
    try:
        async with asyncio.timeout(120):  # without the lock they may also deadlock
            await asyncio.gather(*(upgrade_to_head(engine) for engine in engines))
        assert await current_revision(engines[0]) is not None
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_holder_whose_lease_was_taken_stops_itself(core: Core) -> None:
    """It could not renew in time (a long pause, the database away) and another process
    took over: the heartbeat finds out and stops this one, so two never sync at once."""
    import asyncio

    from sqlalchemy import update

    lost: list[str] = []
    held = SingleProcessLease(
        core.services,
        "matrix_sync",
        "host-a:1",
        heartbeat_seconds=0.1,
        on_lost=lambda: lost.append("host-a:1"),
    )
    await held.acquire()
    async with core.services.sessions.begin() as session:
        await session.execute(update(ProcessLease).values(holder="host-b:2"))
    for _ in range(50):
        if lost:
            break
        await asyncio.sleep(0.05)
    assert lost == ["host-a:1"]
    await held.release()
    async with core.services.sessions() as session:
        row = await session.get(ProcessLease, "matrix_sync")
        assert row is not None and row.holder == "host-b:2"  # not the lost holder's to give up
