"""Translations from gettext catalogs (Babel).

Message ids are English; `bot/locale/<lang>/LC_MESSAGES/messages.po` holds the translations.
The `.po` files are compiled in memory at first use, so a checkout never runs with stale
`.mo` files and needs no build step.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
LANGUAGES = ("de", "en")
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet (declarative help texts)."""
    return message


@cache
def _catalog(language: str) -> NullTranslations:
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


class Translator:
    """The language of one conversation; handlers get it through their context."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else LANGUAGES[0]
        self._translations = _catalog(self.language)

    def gettext(self, message: str, **params: object) -> str:
        text = self._translations.gettext(message)
        return text.format(**params) if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params: object) -> str:
        text = self._translations.ngettext(singular, plural, n)
        return text.format(n=n, **params)

    _ = gettext


def translator(language: str) -> Translator:
    return Translator(language)
