"""The public advisor list: what one entry shows, filtering, and the JSON and CSV forms.

Pure. An entry is built only from the fields its advisor agreed to publish, and filters and
filter choices work on entries only, so nothing unconsented can be found by filtering either.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from handlers.advisors.consent import PublicField, consented
from handlers.advisors.csv_cells import escape_cell

# Consulting fields are typed as "Digitalisierung, Finanzierung" or "Digitalisierung; …".
FIELD_SEPARATORS = re.compile(r"\s*[;,]\s*")
CSV_COLUMNS = ("name", "fields", "region", "institution", "contact")
MAX_QUERY = 100  # characters of a search or filter value that are looked at


@dataclass(frozen=True, slots=True)
class PublicEntry:
    """One advisor as the public sees them; None/empty: not published."""

    name: str | None
    fields: tuple[str, ...]
    region: str | None
    institution: str | None
    contact: str | None

    def as_json(self) -> dict[str, object]:
        """Only the published parts; an unpublished one is absent, not null."""
        data: dict[str, object] = {}
        if self.name:
            data["name"] = self.name
        if self.fields:
            data["fields"] = list(self.fields)
        if self.region:
            data["region"] = self.region
        if self.institution:
            data["institution"] = self.institution
        if self.contact:
            data["contact"] = self.contact
        return data


def split_fields(text: str) -> tuple[str, ...]:
    """The consulting fields of an entry, each once, in the order written."""
    seen: dict[str, str] = {}
    for part in FIELD_SEPARATORS.split(text.strip()):
        if part and fold(part) not in seen:
            seen[fold(part)] = part
    return tuple(seen.values())


def public_entry(
    *, name: str, fields: str, region: str, institution: str, email: str | None, published: str
) -> PublicEntry | None:
    """The entry the consent `published` allows; None when it would show nothing."""
    allowed = consented(published)

    def shown(field: PublicField, value: str | None) -> str | None:
        return value.strip() or None if field in allowed and value else None

    entry = PublicEntry(
        name=shown(PublicField.NAME, name),
        fields=split_fields(fields) if PublicField.FIELDS in allowed else (),
        region=shown(PublicField.REGION, region),
        institution=shown(PublicField.INSTITUTION, institution),
        contact=shown(PublicField.CONTACT, email),
    )
    return entry if entry.as_json() else None


def fold(text: str) -> str:
    """For comparing and sorting: case and accents ignored ("müller" finds "Müller" and
    "Muller"), ß as ss, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())


@dataclass(frozen=True, slots=True)
class Filters:
    """What a visitor asked for: a name search and the chosen field, region, institution
    (empty: any). Read from the query string; overlong values are cut."""

    query: str = ""
    field: str = ""
    region: str = ""
    institution: str = ""

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> Filters:
        def value(key: str) -> str:
            return " ".join(params.get(key, "").split())[:MAX_QUERY].strip()

        return cls(value("q"), value("field"), value("region"), value("institution"))

    @property
    def active(self) -> bool:
        return any((self.query, self.field, self.region, self.institution))

    def matches(self, entry: PublicEntry) -> bool:
        if self.query and (entry.name is None or fold(self.query) not in fold(entry.name)):
            return False
        if self.field and fold(self.field) not in {fold(f) for f in entry.fields}:
            return False
        if self.region and fold(self.region) != fold(entry.region or ""):
            return False
        return not self.institution or fold(self.institution) == fold(entry.institution or "")


@dataclass(frozen=True, slots=True)
class Choices:
    """The values a visitor can filter by: those of the published entries, sorted."""

    fields: tuple[str, ...]
    regions: tuple[str, ...]
    institutions: tuple[str, ...]


def _distinct(values: Iterable[str]) -> tuple[str, ...]:
    found: dict[str, str] = {}
    for value in values:
        found.setdefault(fold(value), value)
    return tuple(found[key] for key in sorted(found))


def choices(entries: Sequence[PublicEntry]) -> Choices:
    return Choices(
        fields=_distinct(f for e in entries for f in e.fields),
        regions=_distinct(e.region for e in entries if e.region),
        institutions=_distinct(e.institution for e in entries if e.institution),
    )


def sort_key(entry: PublicEntry) -> tuple[bool, str, str, str]:
    """By name (entries without a published name last), then region and institution."""
    return (
        entry.name is None,
        fold(entry.name or ""),
        fold(entry.region or ""),
        fold(entry.institution or ""),
    )


@dataclass(frozen=True, slots=True)
class PublicListing:
    """The entries matching the filters, how many are published in all, and the choices."""

    entries: tuple[PublicEntry, ...]
    total: int
    choices: Choices
    filters: Filters


def listing(all_entries: Iterable[PublicEntry], filters: Filters) -> PublicListing:
    ordered = sorted(all_entries, key=sort_key)
    return PublicListing(
        entries=tuple(e for e in ordered if filters.matches(e)),
        total=len(ordered),
        choices=choices(ordered),
        filters=filters,
    )


def as_json(result: PublicListing) -> str:
    """`{"count": 2, "advisors": [{"name": …, "fields": […]}, …]}`, UTF-8 as is."""
    return json.dumps(
        {"count": len(result.entries), "advisors": [e.as_json() for e in result.entries]},
        ensure_ascii=False,
        indent=1,
    )


def as_csv(result: PublicListing) -> str:
    """One row per entry, unpublished cells empty, consulting fields joined by "; ", every
    cell safe to open in a spreadsheet; a BOM so Excel reads the umlauts as UTF-8."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in result.entries:
        cells = (
            entry.name or "",
            "; ".join(entry.fields),
            entry.region or "",
            entry.institution or "",
            entry.contact or "",
        )
        writer.writerow(escape_cell(cell) for cell in cells)
    return out.getvalue()
