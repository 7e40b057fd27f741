"""Mail the worker gave up on goes to the admins' attention; a refused mailbox (SMTP 5xx to
RCPT TO) also marks the address unreachable wherever it is known — a member's own address,
so nothing more is sent there until its owner confirms it again (`/email <address>`), and
an advisor's registry address, so no letter goes there until an admin changes it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from bot.core.i18n import Translator
from bot.core.mail import MAILBOX_REFUSED
from handlers.admins.directory import tell_admins
from handlers.context import Services
from handlers.email.unreachable import Owners, describe_owners, owners
from storage import mail as mail_store
from storage.email_addresses import mark_unreachable
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

PURPOSE = "mail_failed"
BATCH = 50


async def report_failed_mail(services: Services, now: datetime) -> int:
    """Mark refused addresses unreachable and tell admins about failed mail; returns how
    many rows were handled. Once per row (`reported_at`), so a second sweep does nothing."""
    async with services.sessions.begin() as session:
        rows = await mail_store.unreported_failures(session, limit=BATCH)
        if not rows:
            return 0
        marked: dict[int, Owners] = {}
        for row in rows:
            if (row.last_error or "").startswith(MAILBOX_REFUSED) and row.chat_id:
                found = await mark_unreachable(session, row.chat_id, row.last_error or "", now)
                if found.marked:
                    marked[row.id] = await owners(session, found)
        log.warning("%d e-mails could not be delivered", len(rows))
        await tell_admins(
            session,
            services.settings,
            dedupe_key=f"{PURPOSE}:{rows[0].id}:{rows[-1].id}",
            purpose=PURPOSE,
            text=lambda t: failure_report(t, rows, marked),
            now=now,
        )
        await mail_store.mark_reported(session, [row.id for row in rows], now)
    return len(rows)


def failure_report(
    t: Translator, rows: list[OutboxMessage], marked: Mapping[int, Owners] | None = None
) -> str:
    """One line per failed row; a refused address that was marked unreachable says so and
    whose it was (an address of nobody the bot knows is only reported)."""
    marked = marked or {}
    lines = [
        t.ngettext(
            "{n} e-mail could not be delivered:",
            "{n} e-mails could not be delivered:",
            len(rows),
        )
    ]
    for row in rows:
        error = " ".join((row.last_error or "").split())[:160]
        found = marked.get(row.id)
        note = ""
        if found is not None:
            note = t.gettext(" (address marked unreachable)")
            note += " – " + describe_owners(t, found)
        lines.append(f"• #{row.id} → {row.chat_id} ({row.purpose}): {error}{note}")
    return "\n".join(lines)
