"""Which registered group a decision's addressee names: pure matching, no I/O.

Minutes name bodies loosely: "an den Strategiekreis", "Auftrag an AG QS", "der AG
Qualitätssicherung". A name matches a group when, after dropping articles, case and a body
word such as "AG", it equals the group's name or one of its aliases; failing that, when it is
the start of exactly such a name ("AG Qualität" for "AG Qualitätssicherung"). Several groups
on the best level is ambiguous: the caller asks which one is meant.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

MAX_ALIAS = 60
MIN_PREFIX = 4  # shorter beginnings ("AG Q") name too many groups to be meant

_ARTICLES = {"an", "den", "dem", "die", "der", "das", "to", "the", "for", "für"}
_BODY_WORDS = {"ag", "arbeitsgruppe", "fachgruppe", "fg", "working", "group", "wg"}
_SPLIT = re.compile(r"[\s\-–—_/.,;:„“\"'()]+")
_ALIAS_OK = re.compile(r"^[\w][\w .&+-]*$")


@dataclass(frozen=True)
class Candidate:
    """A registered group as matching sees it: its id, its name, its aliases."""

    group_id: int
    name: str
    aliases: tuple[str, ...] = ()


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return [w for w in _SPLIT.split(folded) if w]


def key(text: str) -> str:
    """The comparable form of a name: case, punctuation and leading articles dropped.
    Aliases are stored under this key, so "QS" and "qs" are one alias."""
    words = _words(text)
    while words and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


def core(text: str) -> str:
    """`key` without the body words ("AG", "Fachgruppe"): "AG QS" and "QS" are one name."""
    return " ".join(w for w in key(text).split() if w not in _BODY_WORDS)


def valid_alias(alias: str) -> bool:
    """A short name of letters, digits, spaces and . & + -; not empty after normalising."""
    alias = alias.strip()
    return 0 < len(alias) <= MAX_ALIAS and bool(_ALIAS_OK.match(alias)) and bool(core(alias))


def match(addressee: str, candidates: Sequence[Candidate]) -> list[Candidate]:
    """The groups `addressee` names, best level first: exact name or alias, then the same
    without body words, then a unique beginning. Empty when none; several when ambiguous."""
    wanted_key, wanted_core = key(addressee), core(addressee)
    if not wanted_key:
        return []
    levels: list[list[Candidate]] = [[], [], []]
    for candidate in candidates:
        names = (candidate.name, *candidate.aliases)
        if any(key(name) == wanted_key for name in names):
            levels[0].append(candidate)
        elif wanted_core and any(core(name) == wanted_core for name in names):
            levels[1].append(candidate)
        elif len(wanted_core) >= MIN_PREFIX and any(
            core(name).startswith(wanted_core) for name in names
        ):
            levels[2].append(candidate)
    for level in levels:
        if level:
            return level
    return []
