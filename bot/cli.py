"""Command line: `python -m bot` (or `ag-assistant`) runs the bot; subcommands for admins."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from bot.core.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from handlers.context import Services

T = TypeVar("T")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


# Libraries that log request URLs, parameters and message bodies at DEBUG (PTB logs every
# sendMessage with its text, its webhook server every update, nio every event).
CHATTY_LIBRARIES = ("telegram", "aiohttp", "nio", "tornado")
# aioimaplib logs whole mails at DEBUG and every ignored server line at INFO.
QUIET_LIBRARIES = ("httpx", "httpcore", "aiosqlite", "apscheduler", "aioimaplib")


def configure_logging(settings: Settings, level: str | None = None) -> None:
    """Log to standard error at `level` (LOG_LEVEL by default), never showing a secret.

    Every secret of the settings is registered for redaction and the root handlers get the
    redacting filter. Message text stays out of the log unless LOG_MESSAGE_TEXT is true: the
    chatty libraries are then kept at INFO or above even when LOG_LEVEL=DEBUG.
    """
    from bot.core.redact import install_log_redaction, register_secret

    level = level or settings.log_level
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for secret in (
        settings.telegram_token,
        settings.telegram_webhook_secret,
        settings.matrix_password,
        settings.matrix_access_token,
        settings.imap_password,
        settings.smtp_password,
    ):
        register_secret(secret)
    install_log_redaction()
    numeric = logging.getLevelName(level)
    floor = numeric if settings.log_message_text else max(logging.INFO, numeric)
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(floor)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, numeric))


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
    configure_logging(
        settings, "WARNING" if console and settings.log_level == "INFO" else settings.log_level
    )
    with contextlib.suppress(KeyboardInterrupt), _startup_errors_explained(settings):
        asyncio.run(_run(settings, console))


@contextlib.contextmanager
def _startup_errors_explained(settings: Settings) -> Iterator[None]:
    """An unusable database or token at start is the admin's to fix: say so in one line."""
    from bot.adapters import AdapterStartError
    from bot.feed_server import FeedServerError
    from storage.db import DatabaseError, DatabaseUrlError, redacted_url

    where = redacted_url(settings.database_url)
    try:
        yield
    except (DatabaseUrlError, FeedServerError, AdapterStartError) as exc:
        raise click.ClickException(str(exc)) from None
    except (OSError, DatabaseError) as exc:
        raise click.ClickException(f"cannot use the database at {where}: {exc}") from None


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
    configure_logging(settings)

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

    async def go() -> tuple[
        dict[str, int], list[tuple[int, str, str, str, str]], list[tuple[str, str, str]]
    ]:
        from storage.db import create_engine, session_factory
        from storage.migrate import upgrade_to_head
        from storage.outbox import counts_by_status, platform_notices, uncertain_rows

        engine = create_engine(settings.database_url)
        try:
            await upgrade_to_head(engine)
            async with session_factory(engine)() as session:
                rows = [
                    (
                        row.id,
                        (row.attempted_at or row.created_at).isoformat(timespec="seconds"),
                        f"{row.platform}:{row.chat_id or 'user ' + str(row.user_id)}",
                        row.purpose,
                        "reported" if row.reported_at else "not reported yet",
                    )
                    for row in await uncertain_rows(session)
                ]
                notices = [
                    (row.created_at.isoformat(timespec="seconds"), row.purpose, text)
                    for row, text in await platform_notices(session, PLATFORM_NOTICE_PURPOSES)
                ]
                return await counts_by_status(session), rows, notices
        finally:
            await engine.dispose()

    counts, uncertain, notices = asyncio.run(go())
    if not counts:
        click.echo("the outbox is empty")
    for status, count in sorted(counts.items()):
        click.echo(f"{status:16} {count}")
    if uncertain:
        click.echo(
            "\nuncertain: the bot stopped while sending these; the platform may or may not have "
            "delivered them, so they were not sent again. Admins are told in chat and may "
            "send one again with /resend NUMBER (/nachsenden):"
        )
        for number, attempted, chat, purpose, reported in uncertain:
            click.echo(f"  #{number}  {attempted}  {chat}  {purpose}  ({reported})")
    if notices:
        click.echo("\nplatform outages (the notices admins got, newest first):")
        for created, purpose, text in notices:
            click.echo(f"  {created}  {purpose}: {text}")


# What `bot outbox` lists as outage notices (handlers/delivery/outage.py writes them).
PLATFORM_NOTICE_PURPOSES = ("platform_unreachable", "platform_recovered")


@main.group()
def advisors() -> None:
    """The advisor registry: CSV import and export, preview of the daily reminder run."""


def _with_database(settings: Settings, work: Callable[[Services], Awaitable[T]]) -> T:
    """Run `work(services)` against the migrated database, then close it."""

    async def go() -> T:
        from bot.app import Core

        core = await Core.create(settings)
        try:
            return await work(core.services)
        finally:
            await core.close()

    with _startup_errors_explained(settings):
        return asyncio.run(go())


@advisors.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def advisors_import(file: Path) -> None:
    """Import advisors from FILE.csv (columns: id, name, email, institution, fields, language,
    authorized_on, status). Every row is checked first; nothing is written unless all rows
    are valid. Rows match existing advisors by id, else by e-mail: re-importing is safe."""
    from zoneinfo import ZoneInfo

    from handlers.advisors.escalation import advisor_policy
    from handlers.advisors.registry_csv import (
        ImportResult,
        RowError,
        apply_rows,
        check_against_database,
        parse_rows,
    )

    settings = _settings()
    text = file.read_text(encoding="utf-8-sig")

    async def work(services: Services) -> tuple[ImportResult | None, list[RowError]]:
        now = services.clock.now()
        tz = ZoneInfo(settings.bot_timezone)
        rows, errors = parse_rows(
            text, today=now.astimezone(tz).date(), tz=tz, default_language=settings.bot_language
        )
        if not errors:
            async with services.sessions() as session:
                errors = await check_against_database(session, rows)
        if errors:
            return None, errors
        with click.progressbar(length=len(rows), label="importing", file=sys.stderr) as bar:
            async with services.sessions.begin() as session:
                result = await apply_rows(
                    session, rows, policy=advisor_policy(settings), now=now, progress=bar.update
                )
        return result, []

    result, errors = _with_database(settings, work)
    if errors:
        for error in errors:
            click.echo(str(error), err=True)
        raise click.ClickException(f"{len(errors)} problem(s) in {file.name}; nothing was imported")
    click.echo(
        f"created {result.created}, updated {result.updated} "
        f"(renewed {result.renewed}), unchanged {result.unchanged}"
    )


@advisors.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--with-link-codes",
    is_flag=True,
    help="A new one-time link code for every advisor without a linked chat account "
    "(columns link_code, link_code_valid_until), to hand them out all at once.",
)
def advisors_export(file: Path, with_link_codes: bool) -> None:
    """Write the registry to FILE.csv (importing it again changes nothing)."""
    from datetime import timedelta

    from handlers.advisors.registry_csv import LinkCodes, export_csv

    settings = _settings()

    async def work(services: Services) -> str:
        if not with_link_codes:
            async with services.sessions() as session:
                return await export_csv(session)
        codes = LinkCodes(services.clock.now(), timedelta(days=settings.advisor_link_code_days))
        async with services.sessions.begin() as session:
            return await export_csv(session, codes)

    content = _with_database(settings, work)
    file.write_text(content, encoding="utf-8")
    click.echo(f"wrote {content.count(chr(10)) - 1} advisors to {file}")


@advisors.command("preview")
@click.option("--as-of", "as_of", required=False, help="Date to preview, e.g. 2023-05-01.")
@click.option("--limit", default=200, show_default=True, help="Most advisors to list.")
def advisors_preview(as_of: str | None, limit: int) -> None:
    """Show what the daily run would send on a date, without sending anything."""
    from datetime import date

    from bot.core.i18n import Translator
    from handlers.advisors.escalation import advisor_policy, preview
    from handlers.advisors.letters import preview_text
    from handlers.context import local_today

    settings = _settings()
    policy = advisor_policy(settings)
    if policy is None:
        raise click.ClickException("ADVISOR_POLICY_START is not set: no policy to preview")
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise click.BadParameter(f"{as_of!r} is not a date like 2023-05-01") from None

    async def work(services: Services) -> str:
        target = day or local_today(services, services.clock.now())
        async with services.sessions() as session:
            lines, total = await preview(session, policy, target, limit=limit, settings=settings)
        return preview_text(Translator(settings.bot_language), lines, total, target)

    click.echo(_with_database(settings, work))


@advisors.command("run")
@click.option("--date", "day_text", required=True, help="The day to run, e.g. 2023-05-01.")
@click.option(
    "--send",
    is_flag=True,
    help="Really run it: record the steps, queue the letters and reports. Without: dry run.",
)
@click.option("--limit", default=200, show_default=True, help="Most advisors to list.")
def advisors_run(day_text: str, send: bool, limit: int) -> None:
    """The daily reminder run for a date: without --send it only shows what would happen
    (a rehearsal); with --send it does it (e.g. to re-trigger a missed day). A real run
    refuses dates in the future. Steps already handled are never repeated."""
    from datetime import date

    from bot.core.i18n import Translator
    from handlers.advisors.escalation import (
        advisor_policy,
        preview,
        run_advisor_escalation,
    )
    from handlers.advisors.letters import preview_text, run_summary
    from handlers.context import local_today

    settings = _settings()
    policy = advisor_policy(settings)
    if policy is None:
        raise click.ClickException("ADVISOR_POLICY_START is not set: no advisor reminders")
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        raise click.BadParameter(f"{day_text!r} is not a date like 2023-05-01") from None
    t = Translator(settings.bot_language)

    async def work(services: Services) -> str:
        today = local_today(services, services.clock.now())
        async with services.sessions() as session:
            lines, total = await preview(session, policy, day, limit=limit, settings=settings)
        shown = preview_text(t, lines, total, day)
        if not send:
            return shown + "\n\n(dry run: nothing was sent; add --send to run it)"
        if day > today:
            raise click.ClickException(
                f"{day.isoformat()} lies in the future (today is {today.isoformat()}): "
                "a real run only for today or earlier; without --send it is a dry run"
            )
        report = await run_advisor_escalation(services, day)
        return shown + "\n\n" + run_summary(t, report)

    click.echo(_with_database(settings, work))
