"""Helpers for the personal link page tests: the link a mail or a private message carried."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.app import Core
from storage.outbox import decode_message
from tests.harness import outbox_rows

LINK = re.compile(r"https?://\S+/(?:poll|rsvp)/[A-Za-z0-9_-]+(?:/(?:yes|maybe|no))?")


async def sent_links(core: Core) -> list[str]:
    """The paths of every personal link queued so far (mails and private messages), in order."""
    found: list[str] = []
    for row in await outbox_rows(core, "personal_link"):
        found += [urlsplit(url).path for url in LINK.findall(decode_message(row.payload).text)]
    return found


async def last_link(core: Core, kind: str = "poll") -> str:
    return [path for path in await sent_links(core) if path.startswith(f"/{kind}/")][-1]


def csrf_of(body: str) -> str:
    return body.split('name="csrf" value="')[1].split('"')[0]
