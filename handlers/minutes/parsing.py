"""Pure parsers for what a minute-taker types: decisions, action items, their numbers.

Nothing here reads the clock, the database or a translation catalog; errors carry a `code`
that the handlers translate. The syntax follows how German minutes are written:

* Decision: ``[#Sitzung] [Ergebnis] [Art:] Text``
  - Ergebnis: ``einstimmig``, ``12:0:1`` (dafür:dagegen:Enthaltung), ``dafür 12 dagegen 0
    Enthaltung 1``, ``ohne Abstimmung``; English ``unanimous``, ``for 12 against 0
    abstain 1``, ``no vote``. Missing: no vote.
  - Art: ``Empfehlung an Strategiekreis:``, ``Auftrag an AG Qualitätssicherung:``,
    ``Info:``; or in the prose itself: "Die AG empfiehlt dem Strategiekreis …",
    "… Auftrag an die AG Qualitätssicherung …". Missing: a decision.
* Action item: ``Wer[, wer …]: Was [bis Datum] [zu B-2021-07]`` – `wer` is an @mention or
  a free-text name/organisation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.core.dates import DateParseError, parse_date
from bot.core.enums import DecisionKind, DecisionOutcome
from bot.core.mentions import is_mention, split_who
from bot.core.numbers import small_number

MAX_VOTES = 100_000  # more voters than any working group has; keeps integers small
MAX_NAME = 200
MAX_TEXT = 3000


class InputError(ValueError):
    """Input a handler should answer with a translated hint; `code` selects the text."""

    def __init__(self, code: str, **params: str) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


# --- numbers --------------------------------------------------------------------------------

_DECISION_REF = re.compile(r"^(?:b-?)?(\d{4})[-/.](\d{1,4})$", re.IGNORECASE)
_DECISION_IN_TEXT = re.compile(r"(?<![\w-])B-?(\d{4})-(\d{1,4})(?![\w-])", re.IGNORECASE)
_ACTION_REF = re.compile(r"^(?:a-?)?#?(\d+)$", re.IGNORECASE)


def parse_decision_ref(text: str) -> tuple[int, int] | None:
    """(year, number) from ``B-2021-07``, ``b-2021-7`` or ``2021-07``; None if it is none."""
    match = _DECISION_REF.match(text.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def parse_action_ref(text: str) -> int | None:
    """12 from ``A-12``, ``a12``, ``#12`` or ``12``; None if it is no small, plain number."""
    match = _ACTION_REF.match(text.strip())
    return small_number(match.group(1)) if match else None


# --- decisions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    outcome: DecisionOutcome
    votes_for: int | None = None
    votes_against: int | None = None
    abstentions: int | None = None


@dataclass(frozen=True)
class ParsedDecision:
    text: str
    kind: DecisionKind
    addressee: str | None
    outcome: Outcome


_SEP = r"\s*(?:[:,;–—-]\s*|\s)"
_UNANIMOUS = re.compile(
    r"^(?:einstimmig|unanimous(?:ly)?)(?:\s+(?:beschlossen|angenommen|adopted|agreed))?" + _SEP,
    re.IGNORECASE,
)
_NO_VOTE = re.compile(
    r"^(?:ohne\s+abstimmung|keine\s+abstimmung|no\s+vote|without\s+(?:a\s+)?vote)" + _SEP,
    re.IGNORECASE,
)
_COUNTS = re.compile(r"^(\d+)\s*[:/]\s*(\d+)(?:\s*[:/]\s*(\d+))?" + _SEP)
_WORDS = re.compile(
    r"^(?:dafür|ja|for|yes|pro)\s*:?\s*(\d+)\s*[,;]?\s*"
    r"(?:dagegen|nein|against|no|contra)\s*:?\s*(\d+)"
    r"(?:\s*[,;]?\s*(?:enthaltungen|enthaltung|enthalten|abstentions|abstention|abstained|"
    r"abstain)\s*:?\s*(\d+))?" + _SEP,
    re.IGNORECASE,
)
_KIND_PREFIX = re.compile(
    r"^(?:(?P<rec>empfehlung|recommendation)\s+(?:an|to)\s+(?P<rec_to>[^:\n]{1,200}?)"
    r"|(?P<asg>auftrag|assignment|task)\s+(?:an|to|for)\s+(?P<asg_to>[^:\n]{1,200}?)"
    r"|(?P<info>info|information|zur\s+kenntnis|for\s+information)"
    r"|(?P<dec>beschluss|decision))\s*:\s*",
    re.IGNORECASE,
)
_BODY = r"(?P<to>(?:AG|Fachgruppe|Arbeitsgruppe)\s+[\w-]+|[A-ZÄÖÜ][\w-]*(?:\s+[A-ZÄÖÜ][\w-]*)*)"
_RECOMMENDS = re.compile(r"\bempfiehlt\s+(?:dem|der|den)\s+" + _BODY)
_RECOMMENDS_EN = re.compile(r"\brecommends\s+(?:to\s+)?(?:the\s+)?" + _BODY)
_ASSIGNS = re.compile(r"\b(?:Auftrag|beauftragt)\s+(?:an\s+)?(?:die\s+|den\s+|das\s+)?" + _BODY)


def _votes(*raw: str | None) -> tuple[int, ...]:
    values = tuple(int(value) if value is not None else 0 for value in raw)
    if any(value > MAX_VOTES for value in values):
        raise InputError("too_many_votes", limit=str(MAX_VOTES))
    return values


def _outcome(text: str) -> tuple[Outcome, str]:
    """The vote at the start of `text` (if any) and the rest."""
    padded = text + " "
    if match := _UNANIMOUS.match(padded):
        return Outcome(DecisionOutcome.UNANIMOUS), padded[match.end() :].strip()
    if match := _NO_VOTE.match(padded):
        return Outcome(DecisionOutcome.NO_VOTE), padded[match.end() :].strip()
    for pattern in (_COUNTS, _WORDS):
        if match := pattern.match(padded):
            for_, against, abstain = _votes(*match.groups())
            counted = Outcome(DecisionOutcome.COUNTED, for_, against, abstain)
            return counted, padded[match.end() :].strip()
    return Outcome(DecisionOutcome.NOT_GIVEN), text.strip()


def parse_decision(text: str) -> ParsedDecision:
    """Read ``[Ergebnis] [Art an X:] Text`` (see the module docstring)."""
    outcome, rest = _outcome(text.strip())
    kind, addressee = DecisionKind.DECISION, None
    if match := _KIND_PREFIX.match(rest):
        rest = rest[match.end() :].strip()
        if match.group("rec"):
            kind, addressee = DecisionKind.RECOMMENDATION, match.group("rec_to").strip()
        elif match.group("asg"):
            kind, addressee = DecisionKind.ASSIGNMENT, match.group("asg_to").strip()
        elif match.group("info"):
            kind = DecisionKind.INFORMATION
    elif match := (_RECOMMENDS.search(rest) or _RECOMMENDS_EN.search(rest)):
        kind, addressee = DecisionKind.RECOMMENDATION, match.group("to")
    elif match := _ASSIGNS.search(rest):
        kind, addressee = DecisionKind.ASSIGNMENT, match.group("to")
    if not rest:
        raise InputError("decision_text_missing")
    if len(rest) > MAX_TEXT:
        raise InputError("too_long", limit=str(MAX_TEXT))
    if addressee is not None and not addressee:
        raise InputError("addressee_missing")
    if addressee is not None and len(addressee) > MAX_NAME:
        raise InputError("name_too_long", limit=str(MAX_NAME))
    return ParsedDecision(rest, kind, addressee, outcome)


# --- action items ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Assignee:
    """A member named by @mention (`mention` without the @) or a free-text name."""

    mention: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class ParsedAction:
    text: str
    assignees: tuple[Assignee, ...]
    due: date | None
    decision_ref: tuple[int, int] | None


_WHO_SPLIT = re.compile(r"\s*(?:,|;|&|\+|\s+und\s+|\s+and\s+)\s*", re.IGNORECASE)
_REF_TAIL = re.compile(
    r"[\s,]*(?:\(\s*)?(?:zu|zum|für|for|re|siehe|see)?\s*B-?\d{4}-\d{1,4}\s*\)?\s*[.!]?\s*$",
    re.IGNORECASE,
)
_DUE = re.compile(
    r"[\s,]+(?:bis|until|by|due|fällig)\s+(?:zum\s+|spätestens\s+|am\s+|on\s+)?"
    r"(?P<date>[^\s,;]+(?:\s+\d{4})?)\s*[.!]?\s*$",
    re.IGNORECASE,
)


def parse_assignees(text: str) -> tuple[Assignee, ...]:
    people: list[Assignee] = []
    for part in _WHO_SPLIT.split(text.strip()):
        part = part.strip()
        if not part:
            continue
        if len(part) > MAX_NAME:
            raise InputError("name_too_long", limit=str(MAX_NAME))
        if is_mention(part):
            people.append(Assignee(mention=part[1:]))
        else:
            people.append(Assignee(name=part))
    if not people:
        raise InputError("assignee_missing")
    return tuple(dict.fromkeys(people))


def parse_action(text: str, *, now: datetime, tz: ZoneInfo) -> ParsedAction:
    """Read ``Wer: Was [bis Datum]``. A due date that is no date raises DateParseError."""
    parts = split_who(text)  # the colon of a Matrix ID (@bernd:example.org) is no separator
    if parts is None or not parts[0].strip():
        raise InputError("assignee_missing")
    who, what = parts
    assignees = parse_assignees(who)
    what = what.strip()
    decision_ref = None
    if ref := _DECISION_IN_TEXT.search(what):
        decision_ref = (int(ref.group(1)), int(ref.group(2)))
        if tail := _REF_TAIL.search(what):  # "… zu B-2021-07" is a link, not part of the task
            what = what[: tail.start()].strip()
    due = None
    if match := _DUE.search(what):
        due = _due_date(match.group("date").rstrip("!"), now=now, tz=tz)
        if due is not None:
            what = what[: match.start()].strip()
    if not what:
        raise InputError("action_text_missing")
    if len(what) > MAX_TEXT:
        raise InputError("too_long", limit=str(MAX_TEXT))
    return ParsedAction(what, assignees, due, decision_ref)


def _due_date(raw: str, *, now: datetime, tz: ZoneInfo) -> date | None:
    """The date after "bis"; None when the words are no date ("bis Ende Juli" stays text)."""
    for candidate in dict.fromkeys((raw, raw.rstrip("."))):
        try:
            return parse_date(candidate, now=now, tz=tz)
        except DateParseError as error:
            failure = error
    if any(char.isdigit() for char in raw):
        raise failure  # clearly meant as a date: tell the user what is wrong with it
    return None
