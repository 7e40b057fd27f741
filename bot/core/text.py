"""Text helpers shared by adapters."""

from __future__ import annotations


def split_text(text: str, limit: int) -> list[str]:
    """Split a long text into chunks of at most `limit` characters.

    Prefers paragraph breaks, then line breaks, then spaces, so minutes and lists stay
    readable when a platform caps message length.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for separator in ("\n\n", "\n", " "):
            cut = window.rfind(separator)
            if cut > limit // 3:
                break
        if cut <= 0:
            cut = limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest or not chunks:
        chunks.append(rest)
    return chunks
