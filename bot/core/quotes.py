"""Quoted phrases in what people type: which quotes delimit an argument, which are text.

People write "…", „…“, “…” or ”…” around a title; inside a title they write quotes that
belong to it (Konzept „Digital Mentor“). Only a quote that opens a word and its partner that
ends a word delimit; everything else stays exactly as typed, so the minutes, the chat and the
calendar file show the German quotation marks the group wrote.
"""

from __future__ import annotations

from dataclasses import dataclass

# An opening quote and the quotes that may close it (German „…“, English “…”, Swiss »…«,
# typewriter "…", and ”…” as some keyboards produce it).
CLOSERS: dict[str, str] = {
    '"': '"“”',
    "„": '“”"',
    "“": '”“"',
    "”": '”"',
    "»": "«",
    "«": "»",
}
# What may follow a closing quote in the same word: "„Titel“," or "„Titel“-Programm".
_AFTER_CLOSE = ",.;:!?|)-–"


class UnmatchedQuote(ValueError):
    """A quote opens a phrase that never ends."""


@dataclass(frozen=True, slots=True)
class Phrase:
    value: str  # without its delimiting quotes
    start: int  # offset of its first character (its opening quote) in the text
    end: int  # offset just after it
    quoted: bool


def _closing(text: str, start: int) -> int:
    """Offset of the quote that closes the one at `start`, or -1."""
    closers = CLOSERS[text[start]]
    for index in range(start + 1, len(text)):
        if text[index] in closers:
            following = text[index + 1 : index + 2]
            if not following or following.isspace() or following in _AFTER_CLOSE:
                return index
    return -1


def phrases(text: str) -> list[Phrase]:
    """Words, and quoted phrases as one (without their quotes). A quote that opens a word
    and is never closed raises `UnmatchedQuote`; quotes inside a word are text."""
    found: list[Phrase] = []
    index, length = 0, len(text)
    while index < length:
        if text[index].isspace():
            index += 1
            continue
        if text[index] in CLOSERS:
            end = _closing(text, index)
            if end < 0:
                raise UnmatchedQuote(text[index:])
            found.append(Phrase(text[index + 1 : end], index, end + 1, True))
            index = end + 1
            continue
        start = index
        while index < length and not text[index].isspace():
            index += 1
        found.append(Phrase(text[start:index], start, index, False))
    return found


# Quotes that nest: an opening one and its partner ("Die „Checks“ für KMU" inside „…“).
_NESTING = {"„": ("„", "“"), "“": ("“", "”"), "»": ("»", "«"), "«": ("«", "»")}


def _nests(opening: str, inner: str) -> bool:
    """Whether the quotes of `opening`'s kind inside `inner` open and close in pairs."""
    if opening not in _NESTING:
        return False
    opener, closer = _NESTING[opening]
    depth = 0
    for char in inner:
        if char == opener:
            depth += 1
        elif char == closer:
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def unquote(text: str) -> str:
    """`text` without the pair of quotes around all of it ("„AG-Sitzung“" → "AG-Sitzung",
    "„Die „Checks“ für KMU“" → "Die „Checks“ für KMU"); quotes that do not enclose the whole
    text ("Konzept „Digital Mentor“", "„A“ und „B“") stay."""
    stripped = text.strip()
    if len(stripped) < 2 or stripped[0] not in CLOSERS:
        return stripped
    if stripped[-1] not in CLOSERS[stripped[0]]:
        return stripped
    inner = stripped[1:-1]
    if _closing(stripped, 0) == len(stripped) - 1 or _nests(stripped[0], inner):
        return inner.strip()
    return stripped


def leading_quoted(text: str) -> tuple[str, str] | None:
    """The quoted phrase `text` starts with (without its quotes) and the rest after it; None
    when it starts with no quote. Raises `UnmatchedQuote` when the phrase never ends."""
    if not text or text[0] not in CLOSERS:
        return None
    end = _closing(text, 0)
    if end < 0:
        raise UnmatchedQuote(text)
    return text[1:end], text[end + 1 :]
