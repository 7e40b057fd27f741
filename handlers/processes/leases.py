"""A job only one process may do at a time (the Matrix sync: two syncing processes would
each answer every command): a lease in the database, renewed by a heartbeat.

A second process is refused at start while the lease runs. A holder that crashed stops
renewing; its lease runs out after three heartbeats and the next start takes it. One that
crashed on this same machine (its process id is gone) is replaced at once, so a restart
after kill -9 need not wait. A clean stop gives the lease up at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from datetime import timedelta

from handlers.context import Services
from storage import processes
from storage.db import DatabaseError

log = logging.getLogger(__name__)

MISSED_HEARTBEATS = 3  # the lease runs out after this many heartbeats without renewal


def crashed_here(holder: str) -> bool:
    """Whether `holder` (see claims.holder_id: host:pid:random) ran on this machine and its
    process no longer exists."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it exists, under another user
    return False


class LeaseHeld(RuntimeError):
    """Another live process holds the lease: this one must not do the job."""


class SingleProcessLease:
    """Hold `name` for `holder` while running; `on_lost` is called if it is ever lost."""

    def __init__(
        self,
        services: Services,
        name: str,
        holder: str,
        *,
        heartbeat_seconds: float,
        on_lost: Callable[[], None],
    ) -> None:
        self._services, self._name, self._holder = services, name, holder
        self._heartbeat = heartbeat_seconds
        self._ttl = timedelta(seconds=heartbeat_seconds * MISSED_HEARTBEATS)
        self._on_lost = on_lost
        self._task: asyncio.Task[None] | None = None

    async def acquire(self) -> None:
        """Take the lease and start renewing it; LeaseHeld (with who holds it and until
        when) while another process has it."""
        now = self._services.clock.now()
        async with self._services.sessions.begin() as session:
            other = await processes.acquire_lease(session, self._name, self._holder, now, self._ttl)
        if other is not None and crashed_here(other.holder):
            log.warning("%s was held by %s, which is gone: taking over", self._name, other.holder)
            async with self._services.sessions.begin() as session:
                other = await processes.acquire_lease(
                    session, self._name, self._holder, now, self._ttl, dead=other.holder
                )
        if other is not None:
            raise LeaseHeld(
                f"another process ({other.holder}) is already running {self._name}, last "
                f"seen {other.renewed_at:%Y-%m-%d %H:%M:%S} UTC; only one may run. If that "
                f"process is gone, this one can start after {other.expires_at:%H:%M:%S} UTC."
            )
        self._task = asyncio.create_task(self._renew(), name=f"lease-{self._name}")

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat)
            now = self._services.clock.now()
            try:
                async with self._services.sessions.begin() as session:
                    kept = await processes.renew_lease(
                        session, self._name, self._holder, now, self._ttl
                    )
            except (DatabaseError, OSError):
                log.warning("could not renew the %s lease (database unreachable)", self._name)
                continue
            if not kept:
                log.error("lost the %s lease to another process; stopping", self._name)
                self._on_lost()
                return

    async def release(self) -> None:
        """Stop renewing and give the lease up, so a successor need not wait."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            async with self._services.sessions.begin() as session:
                await processes.release_lease(session, self._name, self._holder)
        except (DatabaseError, OSError):
            log.warning("could not release the %s lease; it runs out by itself", self._name)
