"""Shared fixtures: databases on SQLite and a real PostgreSQL, a fixed clock, the core, the
registered working group in the dialogue harness, an HTTP client; the bot on the fake Telegram
(tests/telegram_bot.py) and on a real Synapse (tests/matrix_bot.py)."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Page

from bot.app import Core
from bot.core.clock import FixedClock
from bot.feed_server import FeedServer
from tests.browser import chromium_page
from tests.harness import GROUP, Conversation, person, registered_ag_transfer
from tests.postgres import PostgresCluster, find_pg_bin

pytest_plugins = ["tests.telegram_bot", "tests.matrix_bot"]

_db_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries are missing in CI; .ci/run must install them")
        pytest.skip(
            "PostgreSQL is not installed here (apt-get install postgresql); CI runs these tests"
        )
    cluster = PostgresCluster.start(bin_dir)
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return cluster.create_database(f"t{next(_db_counter)}")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2021, 6, 10, 8, 0, tzinfo=UTC))


@pytest.fixture
async def core(database_url: str, clock: FixedClock) -> AsyncIterator[Core]:
    from bot.core.settings import load_settings

    core = await Core.create(load_settings(database_url=database_url, _env_file=None), clock)
    yield core
    await core.close()


def pytest_configure(config: pytest.Config) -> None:
    """The `unregistered` marker is ours: declared, so pytest does not warn about it."""
    config.addinivalue_line(
        "markers", "unregistered: `chat` starts with nothing registered (see the `chat` fixture)"
    )


@pytest.fixture
async def chat(core: Core, request: pytest.FixtureRequest) -> Conversation:
    """AG Transfer registered in GROUP by Anna, its chat admin, who so chairs it. A test module
    that needs more of a scene extends this with a `chat(chat)` fixture of its own. In a module
    marked `unregistered` (registration, roles, the dispatcher) Anna is GROUP's chat admin and
    nothing is registered yet: its tests register in English (`harness.registered`)."""
    if request.node.get_closest_marker("unregistered"):
        return Conversation(core, admins=[(GROUP, person("anna"))])
    return await registered_ag_transfer(core)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client for the servers the bot runs (calendar feeds, web pages)."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def web_server(core: Core) -> AsyncIterator[FeedServer]:
    """The bot's HTTP server (feeds and web pages) on 127.0.0.1, over the core's services."""
    server = FeedServer(core.services)
    await server.start("127.0.0.1", 0)
    yield server
    await server.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Page]:
    """A page in Debian's headless Chromium (tests/browser.py); never skipped."""
    async with chromium_page() as page:
        yield page


# --- Matrix: a real Synapse homeserver (tests/matrix_server.py) ------------------------------
# Synchronous session fixtures (subprocess + blocking urllib), so they work from any test
# whatever its event loop. Synapse lives in .venv-synapse/ (scripts/ensure_synapse.sh) or in
# the venv of $SYNAPSE_PYTHON; a missing one skips these tests locally and fails them in CI.

from tests.matrix_server import Synapse, find_synapse_python  # noqa: E402


def _started_synapse(*, strict_rate_limits: bool) -> Synapse:
    if find_synapse_python() is None:
        if os.environ.get("CI"):
            pytest.fail("Synapse is missing in CI; make test must run scripts/ensure_synapse.sh")
        pytest.skip("Synapse is not installed: run scripts/ensure_synapse.sh")
    return Synapse(strict_rate_limits=strict_rate_limits).start()


@pytest.fixture(scope="session")
def synapse() -> Iterator[Synapse]:
    """One homeserver for the whole session, rate limits lifted. Use unique localparts."""
    server = _started_synapse(strict_rate_limits=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def synapse_strict() -> Iterator[Synapse]:
    """A second homeserver with Synapse's default rate limits, started only when asked for."""
    server = _started_synapse(strict_rate_limits=True)
    yield server
    server.stop()


# --- E-mail: a real Dovecot IMAP server (tests/dovecot.py) -----------------------------------
# Installed by `make test` (scripts/ensure_dovecot.sh). Never skipped: without Dovecot the
# inbound e-mail tests fail, locally as in CI.

from tests.dovecot import Dovecot, DovecotError, Mailbox  # noqa: E402


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """One IMAP server for the session; each test takes its own `mailbox`."""
    try:
        server = Dovecot().start()
    except DovecotError as exc:
        pytest.fail(str(exc))
    yield server
    server.remove()


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Mailbox:
    """A fresh, empty IMAP account on the session's Dovecot."""
    return dovecot.new_mailbox()


@pytest.fixture(scope="session")
def dovecot_without_idle() -> Iterator[Dovecot]:
    """A second IMAP server that offers no IDLE (push), started only when asked for."""
    try:
        server = Dovecot("imap_capability = IMAP4rev1 LITERAL+ UIDPLUS\n").start()
    except DovecotError as exc:
        pytest.fail(str(exc))
    yield server
    server.remove()


# --- E-mail: a real SMTP server (tests/smtp_server.py) ----------------------------------------

from tests.smtp_server import SmtpServer  # noqa: E402


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """aiosmtpd on 127.0.0.1, keeping what it receives; `set_mode` makes it refuse (451 or
    550 to RCPT TO) or drop the connection at DATA."""
    server = SmtpServer().start()
    yield server
    server.stop()
