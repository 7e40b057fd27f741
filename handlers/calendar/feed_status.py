"""The admins hear when calendar subscriptions are down: the feed server could not listen
(its port taken), while the chat side of the bot runs on."""

from __future__ import annotations

from bot.core.i18n import Translator
from handlers.admins.directory import tell_admins
from handlers.context import Services

PURPOSE = "feed_server_down"


async def tell_admins_feeds_down(services: Services, error: str, retry_seconds: float) -> int:
    """One note per failed start to the admin chats and listed admins; how many queued."""
    now = services.clock.now()

    def text(t: Translator) -> str:
        return t.gettext(
            "The calendar feed server could not start: {error}. Calendar subscriptions "
            "(/kalender links) do not work until it runs; everything else does. I try again "
            "every {seconds} seconds.",
            error=error,
            seconds=f"{retry_seconds:g}",
        )

    async with services.sessions.begin() as session:
        queued = await tell_admins(
            session,
            services.settings,
            dedupe_key=f"{PURPOSE}:{now.isoformat()}",
            purpose=PURPOSE,
            text=text,
            now=now,
        )
    services.wake_outbox()
    return queued
