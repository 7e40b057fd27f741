"""Which parts of an advisor's entry the public advisor list may show: the advisor's consent.

Nothing is published until consent is recorded (by an admin in the chat or by the CSV
import); the stored form is a comma-separated list of `PublicField` values. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from bot.core.i18n import N_, Translator


class PublicField(StrEnum):
    """A part of an entry the advisor may agree to publish, in the order the list shows it."""

    NAME = "name"
    FIELDS = "fields"  # Beratungsfelder
    REGION = "region"
    INSTITUTION = "institution"
    CONTACT = "contact"  # the registry's e-mail address


FIELD_NAMES = {
    PublicField.NAME: N_("name"),
    PublicField.FIELDS: N_("consulting fields"),
    PublicField.REGION: N_("region"),
    PublicField.INSTITUTION: N_("institution"),
    PublicField.CONTACT: N_("contact (e-mail)"),
}
# The words an admin may write for each field, German and English; "alle" and "nichts" too.
WORDS = {
    "name": PublicField.NAME,
    "fields": PublicField.FIELDS,
    "felder": PublicField.FIELDS,
    "beratungsfelder": PublicField.FIELDS,
    "region": PublicField.REGION,
    "institution": PublicField.INSTITUTION,
    "institut": PublicField.INSTITUTION,
    "contact": PublicField.CONTACT,
    "kontakt": PublicField.CONTACT,
    "email": PublicField.CONTACT,
    "e-mail": PublicField.CONTACT,
    "mail": PublicField.CONTACT,
}
ALL_WORDS = {"all", "alle", "alles"}
NONE_WORDS = {"none", "nothing", "nichts", "keine", "aus", "off", "-"}
SEPARATORS = re.compile(r"[\s,;+]+")


class ConsentError(ValueError):
    """A word that names no public field; `word` is shown to the admin."""

    def __init__(self, word: str) -> None:
        super().__init__(word)
        self.word = word


def parse_consent(text: str) -> frozenset[PublicField]:
    """`name, felder, region` → those fields; `alle` → every field; `nichts` or an empty
    text → none. Raises ConsentError for an unknown word."""
    words = [w for w in SEPARATORS.split(text.strip().lower()) if w]
    if not words or all(w in NONE_WORDS for w in words):
        return frozenset()
    if all(w in ALL_WORDS for w in words):
        return frozenset(PublicField)
    chosen = set()
    for word in words:
        if word not in WORDS:
            raise ConsentError(word)
        chosen.add(WORDS[word])
    return frozenset(chosen)


def stored(fields: Iterable[PublicField]) -> str:
    """The column value: the fields in list order, so equal consents compare equal."""
    chosen = set(fields)
    return ",".join(f.value for f in PublicField if f in chosen)


def consented(value: str | None) -> frozenset[PublicField]:
    """The fields a stored value allows; unknown keys (a newer version's) publish nothing."""
    known = {f.value: f for f in PublicField}
    return frozenset(known[k] for k in (value or "").split(",") if k in known)


def describe(t: Translator, fields: Iterable[PublicField]) -> str:
    """`name, consulting fields` in the reader's language, in list order."""
    chosen = set(fields)
    return ", ".join(t.gettext(FIELD_NAMES[f]) for f in PublicField if f in chosen)
