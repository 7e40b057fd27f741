"""The public advisor list read from the registry: the web page, its JSON and CSV and the
letters all use this, over the same storage the chat's registry commands write."""

from __future__ import annotations

from bot.core.settings import HttpServerMode, Settings
from handlers.advisors.public_list import Filters, PublicEntry, PublicListing, listing, public_entry
from storage import advisors as advisor_store
from storage.db import Session

PAGE_PATH = "/berater"  # the HTML page; PAGE_PATH + ".json" and ".csv" are its data


async def public_entries(session: Session) -> list[PublicEntry]:
    """Every listed advisor's entry as far as they agreed to publish it."""
    entries = (
        public_entry(
            name=advisor.name,
            fields=advisor.fields,
            region=advisor.region,
            institution=advisor.institution,
            email=advisor.email,
            published=advisor.published,
        )
        for advisor in await advisor_store.published_advisors(session)
    )
    return [entry for entry in entries if entry is not None]


async def public_listing(session: Session, filters: Filters) -> PublicListing:
    return listing(await public_entries(session), filters)


def public_list_url(settings: Settings) -> str | None:
    """Where people outside find the list (letters link to it); None without
    PUBLIC_BASE_URL (the bot's own listen address means nothing to them) or without the
    HTTP server."""
    if not settings.public_base_url or settings.http_server is HttpServerMode.OFF:
        return None
    return f"{settings.public_base_url}{PAGE_PATH}"
