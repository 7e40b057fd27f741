"""How people are named in commands: `@anna` (Telegram), `@bernd:example.org` (a full Matrix
ID, whose colon is part of the name), or a display name. Pure text rules, shared by every
command that takes people, so a Matrix ID is read the same way everywhere.

Whether a name belongs to a member is decided by one resolver, handlers/meetings/lookup.py
(`find_member`).
"""

from __future__ import annotations

import re

# A Matrix user ID: @localpart:server, the server a host name with a dot or "localhost",
# maybe with a port. Requiring that keeps "@anna:Bericht schreiben" (no space after the
# colon) an @anna followed by text.
_MXID = r"@[A-Za-z0-9._=\-/+]+:(?:localhost|[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)(?::\d+)?"
MENTION = re.compile(rf"(?<!\S)(?:{_MXID}(?![^\s,;:])|@[^\s,;:]+)")


def mentions_in(text: str) -> list[str]:
    """The @mentions in `text`, in order (a Matrix ID whole, colon and server included)."""
    return MENTION.findall(text)


def without_mentions(text: str) -> str:
    """`text` with its @mentions taken out, for what is left to read as names."""
    return MENTION.sub(" ", text)


def is_mention(text: str) -> bool:
    """Whether `text` is exactly one @mention."""
    return MENTION.fullmatch(text.strip()) is not None


def split_who(text: str) -> tuple[str, str] | None:
    """``Wer: Was`` at its first colon that is not inside a Matrix ID; None without one."""
    position = 0
    while (colon := text.find(":", position)) != -1:
        inside = next(
            (m for m in MENTION.finditer(text) if m.start() < colon < m.end()),
            None,
        )
        if inside is None:
            return text[:colon], text[colon + 1 :]
        position = inside.end()
    return None
