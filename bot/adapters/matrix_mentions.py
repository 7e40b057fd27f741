"""Matrix mention pills as the accounts they point to.

A client shows a mention as a "pill": the `body` carries only the display name ("Clara
Conrad: Bögen senden"), the HTML `formatted_body` links it to the account
(`<a href="https://matrix.to/#/@clara:example.org">Clara Conrad</a>`) and `m.mentions`
lists the user IDs. Handlers read plain text, so each pill's name is replaced by the Matrix
ID it stands for: the one resolver (handlers/meetings/lookup.find_member) then finds the
member by account, never by a name two people may share.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

_PILL = re.compile(
    r"""<a\s[^>]*?href\s*=\s*["']https://matrix\.to/#/(?P<target>[^"'?]+)[^"']*["'][^>]*>"""
    r"(?P<label>.*?)</a>",
    re.IGNORECASE | re.DOTALL,
)
_TAG = re.compile(r"<[^>]+>")


def pills(formatted_body: str) -> list[tuple[str, str]]:
    """(Matrix user ID, shown name) of each user pill in an HTML body, in order."""
    found = []
    for match in _PILL.finditer(formatted_body):
        target = unquote(match.group("target"))
        if not target.startswith("@"):
            continue  # a link to a room or an event, not to a person
        label = html.unescape(_TAG.sub("", match.group("label"))).strip()
        found.append((target, label))
    return found


def with_mentions_resolved(
    content: Mapping[str, Any],
    body: str,
    *,
    own_user_id: str | None,
    display_name: Callable[[str], str | None],
) -> str:
    """`body` with each mentioned person's shown name replaced by their Matrix ID: from the
    HTML pills first, then from `m.mentions` by the name the room shows for them. The bot's
    own mention is left alone (it is how commands are addressed to it)."""
    named: list[tuple[str, str]] = []
    if content.get("format") == "org.matrix.custom.html":
        named += pills(str(content.get("formatted_body") or ""))
    mentioned = content.get("m.mentions", {})
    user_ids = mentioned.get("user_ids", []) if isinstance(mentioned, Mapping) else []
    for user_id in user_ids:
        if isinstance(user_id, str) and all(user_id != known for known, _ in named):
            named.append((user_id, display_name(user_id) or ""))
    for user_id, label in named:
        if user_id != own_user_id and label and label != user_id:
            body = body.replace(label, user_id, 1)
    return body
