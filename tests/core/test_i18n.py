"""The gettext catalogs match the code: every marked string is translated into German.

A failure here usually means: run `scripts/update_messages.sh`, then translate the new
(empty) entries in bot/locale/de/LC_MESSAGES/messages.po.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot.core.i18n import LOCALE_DIR, Translator

ROOT = Path(__file__).resolve().parents[2]
DE_PO = LOCALE_DIR / "de" / "LC_MESSAGES" / "messages.po"
UPDATE_HINT = (
    "Run scripts/update_messages.sh, then translate the new entries in "
    "bot/locale/de/LC_MESSAGES/messages.po."
)
# Same keywords as scripts/update_messages.sh (which passes --no-default-keywords).
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}


@pytest.fixture(scope="module")
def source_messages() -> dict[str, tuple[str, ...]]:
    """msgid (singular) -> all ids of that message, freshly extracted from the source."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    found: dict[str, tuple[str, ...]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        ids = (message,) if isinstance(message, str) else tuple(message)
        found.setdefault(ids[0], ids)
        assert found[ids[0]] == ids, f"{filename}:{lineno}: {ids[0]!r} used with other plurals"
    return found


@pytest.fixture(scope="module")
def de_catalog() -> Catalog:
    with DE_PO.open("rb") as handle:
        return read_po(handle, locale="de")


def _entries(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


def _ids(message: Message) -> tuple[str, ...]:
    return (message.id,) if isinstance(message.id, str) else tuple(message.id)


def _strings(message: Message) -> tuple[str, ...]:
    return (message.string,) if isinstance(message.string, str) else tuple(message.string)


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def test_extraction_finds_messages(source_messages: dict[str, tuple[str, ...]]) -> None:
    """Guards the extraction set-up itself: N_(), ctx._() and ctx.ngettext() are all seen."""
    assert len(source_messages) > 50
    assert any(len(ids) == 2 for ids in source_messages.values())


def test_every_source_message_is_in_the_german_catalog(
    source_messages: dict[str, tuple[str, ...]], de_catalog: Catalog
) -> None:
    missing = sorted(msgid for msgid in source_messages if de_catalog.get(msgid) is None)
    changed = sorted(
        msgid
        for msgid, ids in source_messages.items()
        if (entry := de_catalog.get(msgid)) is not None and _ids(entry) != ids
    )
    problems = [f"missing: {msgid!r}" for msgid in missing]
    problems += [f"plural form changed: {msgid!r}" for msgid in changed]
    assert not problems, f"{UPDATE_HINT}\n" + "\n".join(problems)


def test_german_catalog_is_fully_translated(de_catalog: Catalog) -> None:
    assert de_catalog.plural_forms == "nplurals=2; plural=(n != 1);"
    problems = []
    for message in _entries(de_catalog):
        strings = _strings(message)
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        if not all(s.strip() for s in strings) or (message.pluralizable and len(strings) != 2):
            problems.append(f"untranslated: {message.id!r}")
    assert not problems, "bot/locale/de/LC_MESSAGES/messages.po:\n" + "\n".join(problems)


def test_translations_keep_placeholders(de_catalog: Catalog) -> None:
    problems = []
    for message in _entries(de_catalog):
        ids = _ids(message)
        for index, text in enumerate(_strings(message)):
            msgid = ids[min(index, len(ids) - 1)]
            try:
                expected, actual = _placeholders(msgid), _placeholders(text)
            except ValueError as error:
                problems.append(f"{msgid!r}: malformed braces ({error})")
                continue
            if text and expected != actual:
                problems.append(f"{msgid!r}: expected {sorted(expected)}, got {sorted(actual)}")
    assert not problems, "placeholders differ:\n" + "\n".join(problems)


def test_translator_speaks_german_and_english() -> None:
    german, english = Translator("de"), Translator("en")
    assert german.gettext("Yes, delete") == "Ja, löschen"
    assert german.gettext("Your time zone is now {zone}.", zone="Europe/Berlin") == (
        "Ihre Zeitzone ist jetzt Europe/Berlin."
    )
    singular, plural = "“{group}” has {n} member:", "“{group}” has {n} members:"
    assert german.ngettext(singular, plural, 1, group="AG Transfer") == (
        "„AG Transfer“ hat 1 Mitglied:"
    )
    assert german.ngettext(singular, plural, 58, group="AG Transfer") == (
        "„AG Transfer“ hat 58 Mitglieder:"
    )
    assert english.gettext("Yes, delete") == "Yes, delete"
    assert english.ngettext(singular, plural, 2, group="AG Transfer") == (
        "“AG Transfer” has 2 members:"
    )


def test_unknown_language_falls_back_to_german() -> None:
    translator = Translator("fr")
    assert translator.language == "de"
    assert translator.gettext("Yes, delete") == "Ja, löschen"


@pytest.mark.parametrize(
    "catalog_file",
    [
        DE_PO,
        DE_PO.parents[2] / "en" / "LC_MESSAGES" / "messages.po",
        DE_PO.parents[2] / "messages.pot",
    ],
    ids=["de", "en", "pot"],
)
def test_every_catalog_is_well_formed(catalog_file: Path) -> None:
    """Hand-appended entries must parse strictly: a msgid without msgstr is silently lost
    by the lenient reader the bot uses, and breaks gettext's own tools."""
    with catalog_file.open("rb") as handle:
        read_po(handle, abort_invalid=True)
