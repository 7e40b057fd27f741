"""Text helpers shared by adapters and handlers."""

from __future__ import annotations

# Unicode bidirectional formatting characters: embeddings and overrides (U+202A–U+202E),
# isolates (U+2066–U+2069) and marks (U+200E, U+200F, U+061C). In a name they reorder the
# text around it, e.g. "Eve\u202Eredaolnwod" shows as "Evedownloader".
_BIDI_CONTROLS = dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C]
)


def strip_bidi(text: str) -> str:
    """`text` without bidi controls, so a name cannot reorder the line it is shown in.

    Applied where names enter the bot (platform profiles) and where names typed by people are
    shown in lists and minutes; letters of right-to-left scripts stay as they are.
    """
    return text.translate(_BIDI_CONTROLS)


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


_GERMAN_ASCII = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss", "ẞ": "SS"}
)


def file_name_part(text: str) -> str:
    """`text` as a safe ASCII file-name part, umlauts written out as German readers do
    ("AG Qualitätssicherung" → "AG-Qualitaetssicherung", not "AG-Qualit-tssicherung")."""
    import re
    import unicodedata

    spelled = unicodedata.normalize("NFKD", text.translate(_GERMAN_ASCII))
    ascii_only = spelled.encode("ascii", "ignore").decode()
    return re.sub(r"[^\w-]+", "-", ascii_only, flags=re.ASCII).strip("-")


def is_video_link(location: str | None) -> bool:
    """A place that is a web link is a video conference ("Videokonferenz" in the minutes)."""
    return location is not None and location.strip().lower().startswith(("https://", "http://"))
