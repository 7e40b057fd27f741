"""A group's room stays a group room across restarts, against a real Synapse.

After a restart during which nothing happened, a sync from the saved token comes back empty
and nio ignores it, so rooms used to arrive without name or members and "two members, no name"
took the group room for a direct chat. The room kind comes from stored facts now, and the full
room state is loaded at every start. Checked for an idle in-process restart and for the real
`python -m bot` process after SIGTERM and after SIGKILL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from nio import RoomCreateResponse, RoomPreset

from tests.matrix_bot import (
    PASSWORD,
    MakePerson,
    MatrixBot,
    Person,
    joined,
    notice,
    start_matrix_bot,
    stop_matrix_bot,
)
from tests.matrix_server import Synapse
from tests.ports import free_port

NOT_HERE = "nur in einem Gruppenchat"


async def _group_of_two(
    synapse: Synapse, matrix_person: MakePerson, bot: str
) -> tuple[Person, str]:
    """Alice's named room with only the bot in it, registered as a working group: the shape
    the "two members, no name" rule took for a direct chat when the state was missing."""
    alice = await matrix_person(synapse, "alice")
    room = await alice.room(bot)
    await joined(alice, room, bot)
    await alice.say(room, '!registrieren ag "AG Neustart"')
    await alice.wait(notice(bot, room, "AG Neustart"))
    return alice, room


async def _still_a_group(alice: Person, bot: str, room: str, answers: int) -> None:
    """A room command is answered as in a group (the `answers`-th member list so far), with
    the room's power levels known; never "only in a group chat"."""
    await alice.say(room, "!mitglieder")
    found = await alice.wait(notice(bot, room, "Mitglied:"), seconds=30, count=answers)
    # her moderator power level still makes her the chair: the room's state was loaded
    assert "– Vorsitz" in found[-1].body, found[-1].body
    bad = [e.body for e in alice.seen if notice(bot, room, NOT_HERE)(e)]
    assert not bad, bad
    await asyncio.sleep(1.5)  # the bot's sync passes its own answer: the restart is idle


async def test_an_idle_restart_keeps_the_group_room_a_group(
    synapse: Synapse, tmp_path: Path, matrix_person: MakePerson
) -> None:
    user_id, _ = await synapse.aregister(synapse.unique_localpart("agbot"), PASSWORD)
    bot = await start_matrix_bot(synapse, user_id, tmp_path)
    alice, room = await _group_of_two(synapse, matrix_person, user_id)
    await stop_matrix_bot(bot)
    await bot.core.close()
    for answers in (1, 2):  # two idle restarts in a row: nothing happens in between
        bot = await start_matrix_bot(synapse, user_id, tmp_path)
        try:
            await _still_a_group(alice, user_id, room, answers)
            assert not bot.adapter.is_direct_room(room)
            assert bot.adapter.sender.is_group_chat(room)
        finally:
            await stop_matrix_bot(bot)
            await bot.core.close()


def _process_env(synapse: Synapse, user_id: str, workdir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DATABASE_", "MATRIX_"))
    }
    env.update(
        DATABASE_URL=f"sqlite:///{workdir / 'bot.db'}",
        MATRIX_HOMESERVER=synapse.base_url,
        MATRIX_USER_ID=user_id,
        MATRIX_PASSWORD=PASSWORD,
        MATRIX_STORE_PATH=str(workdir / "store"),
        MATRIX_ALLOWED_INVITERS=":localhost",
        OUTBOX_POLL_SECONDS="0.2",
        LOG_LEVEL="INFO",
        HTTP_PORT=str(free_port()),
    )
    return env


async def _start_process(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    """`python -m bot run`, returned once the Matrix side syncs (its log says so)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = await asyncio.wait_for(process.stderr.readline(), timeout=60)
        if not line:
            break
        seen.append(line.decode(errors="replace"))
        if "matrix: running as" in seen[-1]:
            asyncio.get_running_loop().create_task(_drain(process))
            return process
    process.kill()
    await process.wait()
    raise AssertionError("the bot did not start:\n" + "".join(seen[-30:]))


async def _drain(process: asyncio.subprocess.Process) -> None:
    """Keep reading the log so a full pipe never blocks the process."""
    assert process.stderr is not None
    while await process.stderr.readline():
        pass


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
async def test_the_group_room_survives_a_stopped_or_killed_process(
    synapse: Synapse, tmp_path: Path, matrix_person: MakePerson, how: signal.Signals
) -> None:
    user_id, _ = await synapse.aregister(synapse.unique_localpart("agbot"), PASSWORD)
    env = _process_env(synapse, user_id, tmp_path)
    process = await _start_process(env, tmp_path)
    try:
        alice, room = await _group_of_two(synapse, matrix_person, user_id)
        await _still_a_group(alice, user_id, room, 1)
    finally:
        process.send_signal(how)
        await asyncio.wait_for(process.wait(), timeout=30)
    process = await _start_process(env, tmp_path)  # nothing happened while it was down
    try:
        await _still_a_group(alice, user_id, room, 2)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=30)


async def test_a_registered_room_stays_a_group_when_it_shrinks_to_two(
    matrix_bot: MatrixBot, synapse: Synapse, matrix_person: MakePerson
) -> None:
    """An unnamed room of three, registered as a group; when Bob leaves, only Alice and the
    bot are left, which looks like a direct chat. The registration says what it is."""
    alice, bob = await matrix_person(synapse, "alice"), await matrix_person(synapse, "bob")
    created = await alice.client.room_create(
        invite=[matrix_bot.user_id, bob.user_id], preset=RoomPreset.private_chat
    )
    assert isinstance(created, RoomCreateResponse), created
    room = created.room_id
    await bob.sync()
    await joined(alice, room, matrix_bot.user_id)
    await joined(alice, room, bob.user_id)
    await alice.say(room, '!registrieren ag "AG Klein"')
    await alice.wait(notice(matrix_bot.user_id, room, "AG Klein"))
    await bob.client.room_leave(room)
    await asyncio.sleep(1)
    await _still_a_group(alice, matrix_bot.user_id, room, 1)
    assert not matrix_bot.adapter.is_direct_room(room)
    assert matrix_bot.adapter.sender.is_group_chat(room)
