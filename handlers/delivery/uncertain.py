"""Messages that may not have arrived: the sweep that tells admins about them.

When the bot is killed while a request is on its way, Telegram cannot be asked whether the
message arrived, so the outbox marks it `uncertain` instead of risking a second copy (see
storage/outbox.py). Such a message must not vanish from sight: this sweep tells the admins
which messages they are, and `/nachsenden N` (`handlers.delivery.commands`) queues one again
once they know it is missing (e.g. after asking the recipient).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.dates import format_date
from bot.core.i18n import Translator
from handlers.admins.directory import admin_destinations, tell_admins
from handlers.context import Services
from storage import outbox
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

PURPOSE = "outbox_uncertain"
BATCH = 50  # rows per report: one readable message


async def report_uncertain(services: Services, now: datetime) -> int:
    """Tell admins about uncertain messages not reported yet; returns how many."""
    settings = services.settings
    async with services.sessions.begin() as session:
        # No reports about reports.
        rows = await outbox.unreported_uncertain(session, limit=BATCH, skip_purpose=PURPOSE)
        if not rows:
            return 0
        recipients = {
            row.id: await outbox.recipient_name(session, row) or f"{row.platform}:{row.chat_id}"
            for row in rows
        }
        if not await admin_destinations(session, settings):
            log.warning(
                "%d messages may not have arrived (the bot stopped while sending them): "
                "`python -m bot outbox` lists them; set ADMIN_CHATS or ADMIN_USERS to be "
                "told in chat",
                len(rows),
            )
        tz = ZoneInfo(settings.bot_timezone)
        resend_command = services.router.get("resend")

        def command(language: str) -> str:
            return "/" + (resend_command.display_name(language) if resend_command else "resend")

        await tell_admins(
            session,
            settings,
            dedupe_key=f"{PURPOSE}:{rows[0].id}:{rows[-1].id}",
            purpose=PURPOSE,
            text=lambda t: uncertain_report(t, rows, recipients, tz, command),
            now=now,
        )
        await outbox.mark_uncertain_reported(session, [row.id for row in rows], now)
    return len(rows)


def uncertain_report(
    t: Translator,
    rows: list[OutboxMessage],
    recipients: dict[int, str],
    tz: ZoneInfo,
    command: Callable[[str], str],
) -> str:
    if all(row.last_error in (None, outbox.INTERRUPTED) for row in rows):
        intro = t.ngettext(
            "I was stopped while sending {n} message. The platform cannot tell me whether it "
            "arrived, so I did not send it again:",
            "I was stopped while sending {n} messages. The platform cannot tell me whether "
            "they arrived, so I did not send them again:",
            len(rows),
        )
    else:  # some lost the platform's answer (too slow, connection cut): said as it was
        intro = t.ngettext(
            "The platform did not confirm {n} message (its answer did not come in time, the "
            "connection broke, or I was stopped while sending). It may have arrived, so I did "
            "not send it again:",
            "The platform did not confirm {n} messages (its answer did not come in time, the "
            "connection broke, or I was stopped while sending). They may have arrived, so I "
            "did not send them again:",
            len(rows),
        )
    lines = [intro]
    for row in rows:
        text = " ".join(str(row.payload.get("text", "")).split())
        short = text if len(text) <= 60 else text[:59] + "…"
        attempted = (row.attempted_at or row.created_at).astimezone(tz)
        moment = f"{format_date(attempted.date(), t.language)} {attempted:%H:%M}"
        lines.append(f"• #{row.id} {moment} → {recipients[row.id]}: „{short}“")
    lines.append(
        t.gettext(
            "Most of them did arrive. If one is missing (ask the recipient), {command} sends "
            "it again.",
            command=f"{command(t.language)} {rows[0].id}",
        )
    )
    return "\n".join(lines)
