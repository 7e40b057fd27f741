"""Admins hear of a platform outage: one notice when it began, one when it is over with
counts; `bot outbox` lists them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.app import Core
from bot.cli import main
from bot.core.clock import FixedClock
from bot.core.platform_outage import NoticeKind, PlatformNotice
from bot.core.settings import load_settings
from handlers.delivery.outage import notifier
from tests.harness import outbox_rows

ADMIN_CHAT = "-100500"
SINCE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


async def notify_twice_each(database_url: str) -> list[tuple[str, str, str]]:
    settings = load_settings(
        _env_file=None, database_url=database_url, admin_chats=f"telegram:{ADMIN_CHAT}"
    )
    core = await Core.create(settings, FixedClock(SINCE + timedelta(minutes=5)))
    try:
        notify = notifier(core.services)
        down = PlatformNotice(NoticeKind.UNREACHABLE, "telegram", SINCE)
        back = PlatformNotice(
            NoticeKind.RECOVERED,
            "telegram",
            SINCE,
            SINCE + timedelta(minutes=12),
            queued=140,
            delivered_late=130,
            expired=8,
            uncertain=2,
        )
        for notice in (down, down, back, back):  # a repeat queues nothing
            await notify(notice)
        rows = await outbox_rows(core)
        return [(r.purpose, r.chat_id or "", r.payload["text"]) for r in rows]
    finally:
        await core.close()


def test_one_notice_of_an_outage_and_one_of_its_end_with_counts(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rows = asyncio.run(notify_twice_each(database_url))
    assert [(purpose, chat) for purpose, chat, _ in rows] == [
        ("platform_unreachable", ADMIN_CHAT),
        ("platform_recovered", ADMIN_CHAT),
    ]
    down, back = rows[0][2], rows[1][2]
    assert down.startswith("Telegram antwortet seit 02.03.2026 09:00 nicht")  # Berlin time
    assert "09:00 bis 02.03.2026 09:12" in back
    for figure in ("wartend: 140", "verspätet zugestellt: 130", "abgelaufen: 8", "ungewiss: 2"):
        assert figure in back

    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["outbox"])
    assert result.exit_code == 0, result.output
    listed = result.output.split("platform outages", 1)[1].splitlines()[1:]
    assert [line.split()[1] for line in listed] == [
        "platform_recovered:",
        "platform_unreachable:",
    ]  # newest first, one line each
