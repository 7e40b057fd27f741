"""What an admin types to search the decisions of all groups: words plus optional filters
``art:empfehlung`` (kind), ``an:Strategiekreis`` (addressee), ``von:01.01.2021`` and
``bis:31.12.2021`` (meeting date); English ``kind:``, ``to:``, ``from:``, ``until:``.
Pure: "now" and the zone are arguments, errors carry a code the handler translates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.core.dates import DateParseError, parse_date
from bot.core.enums import DecisionKind

MAX_WORDS = 10

KINDS = {
    "empfehlung": DecisionKind.RECOMMENDATION,
    "recommendation": DecisionKind.RECOMMENDATION,
    "auftrag": DecisionKind.ASSIGNMENT,
    "assignment": DecisionKind.ASSIGNMENT,
    "beschluss": DecisionKind.DECISION,
    "decision": DecisionKind.DECISION,
    "info": DecisionKind.INFORMATION,
    "information": DecisionKind.INFORMATION,
}
_FIELDS = {
    "art": "kind",
    "kind": "kind",
    "an": "to",
    "to": "to",
    "von": "since",
    "from": "since",
    "since": "since",
    "bis": "until",
    "until": "until",
}


class QueryError(ValueError):
    def __init__(self, code: str, value: str) -> None:
        super().__init__(code)
        self.code, self.value = code, value


@dataclass(frozen=True)
class SearchQuery:
    words: tuple[str, ...] = ()
    kind: DecisionKind | None = None
    addressee: str | None = None
    since: date | None = None
    until: date | None = None


def parse_query(text: str, *, now: datetime, tz: ZoneInfo) -> SearchQuery:
    words: list[str] = []
    found: dict[str, object] = {}
    for token in text.split():
        field, colon, value = token.partition(":")
        name = _FIELDS.get(field.casefold()) if colon and value else None
        if name is None:
            if word := token.strip('"'):
                words.append(word)
            continue
        if name == "kind":
            if (kind := KINDS.get(value.casefold())) is None:
                raise QueryError("kind", value)
            found["kind"] = kind
        elif name == "to":
            found["addressee"] = value.strip('"')
        else:
            try:
                found[name] = parse_date(value, now=now, tz=tz, prefer_future=False)
            except DateParseError as error:
                raise QueryError("date", value) from error
    if len(words) > MAX_WORDS:
        raise QueryError("words", str(MAX_WORDS))
    return SearchQuery(tuple(words), **found)  # type: ignore[arg-type]
