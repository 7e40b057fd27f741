"""Command line: `python -m bot` (or `ag-assistant`) runs the bot; subcommands for admins."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Iterator

import click

from bot.settings import Settings, SettingsError, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("httpx", "httpcore", "aiosqlite", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


@click.group(invoke_without_command=True)
@click.pass_context
def main(ctx: click.Context) -> None:
    """AG assistant: a chat bot for working groups. Without a subcommand it runs the bot."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(run)


@main.command()
@click.option(
    "--console",
    "force_console",
    is_flag=True,
    help="Use the terminal chat even if TELEGRAM_TOKEN is set.",
)
def run(force_console: bool) -> None:
    """Run the bot on Telegram and/or Matrix as configured, otherwise the console chat."""
    settings = _settings()
    console = force_console or not (settings.telegram_token or settings.matrix_enabled)
    # The console owns the terminal: keep log lines out of the conversation.
    _configure_logging(
        "WARNING" if console and settings.log_level == "INFO" else settings.log_level
    )
    with contextlib.suppress(KeyboardInterrupt), _startup_errors_explained(settings):
        asyncio.run(_run(settings, console))


@contextlib.contextmanager
def _startup_errors_explained(settings: Settings) -> Iterator[None]:
    """An unusable database or token at start is the admin's to fix: say so in one line."""
    from sqlalchemy.exc import DBAPIError, OperationalError
    from telegram.error import InvalidToken

    from bot.feed_server import FeedServerError
    from storage.db import DatabaseUrlError

    where = _redacted(settings.database_url)
    try:
        yield
    except (DatabaseUrlError, FeedServerError) as exc:
        raise click.ClickException(str(exc)) from None
    except (OSError, OperationalError, DBAPIError) as exc:
        raise click.ClickException(f"cannot use the database at {where}: {exc}") from None
    except InvalidToken:
        raise click.ClickException(
            "Telegram refused TELEGRAM_TOKEN; check it with @BotFather."
        ) from None


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "DATABASE_URL"


async def _run(settings: Settings, console: bool) -> None:
    from bot.app import Adapter, Core, run_adapters

    core = await Core.create(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    adapters: list[Adapter] = []
    if console:
        from bot.adapters.console import ConsoleAdapter

        adapters.append(ConsoleAdapter(core.dispatcher, on_quit=stop.set))
    else:
        if settings.telegram_token:
            from bot.adapters.telegram import TelegramAdapter

            adapters.append(TelegramAdapter(settings, core.dispatcher, core.services.router))
        if settings.matrix_enabled:
            from bot.adapters.matrix import MatrixAdapter

            adapters.append(MatrixAdapter(settings, core.dispatcher, core.services))
    await run_adapters(core, adapters, stop, feeds=settings.http_server_enabled(console))


@main.command()
def migrate() -> None:
    """Bring the database schema up to date (the bot also does this at every start)."""
    settings = _settings()
    _configure_logging(settings.log_level)

    async def go() -> str | None:
        from storage.db import create_engine
        from storage.migrate import current_revision, upgrade_to_head

        engine = create_engine(settings.database_url)
        try:
            await upgrade_to_head(engine)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    click.echo(f"database is at revision {asyncio.run(go())}")


@main.command()
def outbox() -> None:
    """Show how many queued messages are in which state."""
    settings = _settings()

    async def go() -> dict[str, int]:
        from storage.db import create_engine, session_factory
        from storage.migrate import upgrade_to_head
        from storage.outbox import counts_by_status

        engine = create_engine(settings.database_url)
        try:
            await upgrade_to_head(engine)
            async with session_factory(engine)() as session:
                return await counts_by_status(session)
        finally:
            await engine.dispose()

    counts = asyncio.run(go())
    if not counts:
        click.echo("the outbox is empty")
    for status, count in sorted(counts.items()):
        click.echo(f"{status:16} {count}")
    if counts.get("uncertain"):
        click.echo(
            "uncertain: the bot stopped while sending these; the platform may or may not have "
            "delivered them, so they were not sent again."
        )
