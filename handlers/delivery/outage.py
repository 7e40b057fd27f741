"""Admins hear of a platform outage: once when it has lasted longer than
OUTBOX_OUTAGE_NOTICE_SECONDS, once when it is over and its backlog is sent, with counts.

The delivery worker decides when (bot/core/platform_outage.py); this writes the notices to the
admins through the outbox like every other note to them. A notice to an admin on the platform
that is down waits in the queue with the rest and arrives when it is back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.dates import format_date
from bot.core.i18n import Translator
from bot.core.platform_outage import NoticeKind, PlatformNotice
from handlers.admins.directory import tell_admins
from handlers.context import Services

PURPOSES = {
    NoticeKind.UNREACHABLE: "platform_unreachable",
    NoticeKind.RECOVERED: "platform_recovered",
}


def notifier(services: Services) -> Callable[[PlatformNotice], Awaitable[None]]:
    """The worker's `notify`: queue the notice for the admins in their languages."""

    async def notify(notice: PlatformNotice) -> None:
        tz = ZoneInfo(services.settings.bot_timezone)
        async with services.sessions.begin() as session:
            await tell_admins(
                session,
                services.settings,
                dedupe_key=f"{PURPOSES[notice.kind]}:{notice.platform}:{notice.since.isoformat()}",
                purpose=PURPOSES[notice.kind],
                text=lambda t: notice_text(t, notice, tz),
                now=services.clock.now(),
            )

    return notify


def _moment(t: Translator, at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return f"{format_date(local.date(), t.language)} {local:%H:%M}"


def notice_text(t: Translator, notice: PlatformNotice, tz: ZoneInfo) -> str:
    platform = notice.platform.capitalize()
    if notice.kind is NoticeKind.UNREACHABLE:
        return t.gettext(
            "{platform} has not answered since {since}. Messages to it wait in the queue and "
            "go out in order when it answers again; nothing is sent twice.",
            platform=platform,
            since=_moment(t, notice.since, tz),
        )
    return t.gettext(
        "{platform} answers again (unreachable from {since} to {until}). Waiting then: "
        "{queued}; delivered late: {late}; expired unsent: {expired}; uncertain: {uncertain}.",
        platform=platform,
        since=_moment(t, notice.since, tz),
        until=_moment(t, notice.until or notice.since, tz),
        queued=notice.queued,
        late=notice.delivered_late,
        expired=notice.expired,
        uncertain=notice.uncertain,
    )
