"""Pure poll logic: reading a chair's one-line poll, tallying answers, picking the best slot.

No I/O and no translations here: errors carry a code the handler translates, so the rules
are unit-tested directly (tests/polls/test_poll_logic.py).

Syntax (German or English words, any order after the title):
    /terminabfrage "Juni-Sitzung" 15.06. 9-12 Uhr; 17.06. 14-16 Uhr; 22.06. 10 Uhr bis 20.06.
    /umfrage "Welche Themen?" Digitalisierung; Nachfolge; Fachkräfte mehrfach anonym
- the title comes first, in quotes; unquoted, a date poll's title is the text before the
  first date and a survey's question ends with "?" or ":".
- `bis|bis zum|Frist|until|deadline <date [time]>` sets the deadline (a day alone means the
  end of that day); `notfalls`/`ifneedbe` allows "if need be", `anonym`/`anonymous` hides
  names, `mehrfach`/`multiple` allows several choices in a survey.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.dates import ParsedWhen, check_horizon, find_whens, parse_when
from bot.core.numbers import small_number
from bot.core.quotes import UnmatchedQuote, leading_quoted

MAX_OPTIONS = 10
MAX_OPTION_CHARS = 100
MAX_TITLE_CHARS = 200

FLAG_WORDS = {
    "anonym": "anonymous",
    "anonymous": "anonymous",
    "notfalls": "maybe",
    "wenn-nötig": "maybe",
    "ifneedbe": "maybe",
    "if-need-be": "maybe",
    "mehrfach": "multiple",
    "mehrfachauswahl": "multiple",
    "multiple": "multiple",
}
_FLAG_RE = re.compile(
    r"(?<!\S)(" + "|".join(re.escape(w) for w in FLAG_WORDS) + r")(?=$|[\s;,])", re.IGNORECASE
)
_DEADLINE_RE = re.compile(r"(?<!\S)(?:bis(?:\s+zum)?|frist|until|deadline)\s*:?\s+", re.IGNORECASE)
_SEPARATORS = re.compile(r"^(?:[\s;,/|+&]|\b(?:und|and|oder|or)\b)*$", re.IGNORECASE)
_END_OF_DAY = time(23, 59)


class PollInputError(ValueError):
    """Bad poll input; `code` picks the translated message, `params` fill it."""

    def __init__(self, code: str, **params: str) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class PollSpec:
    title: str
    slots: tuple[ParsedWhen, ...] = ()  # date polls
    labels: tuple[str, ...] = ()  # surveys
    deadline: datetime | None = None
    allow_maybe: bool = False
    anonymous: bool = False
    multiple: bool = False


def parse_date_poll(text: str, *, now: datetime, tz: ZoneInfo) -> PollSpec:
    title, rest = _quoted_title(text)
    flags, rest = _flags(rest, allowed={"anonymous", "maybe"})
    deadline, rest = _deadline(rest, now=now, tz=tz)
    found = find_whens(rest, now=now, tz=tz)
    if not found:
        if title is None:  # explain from the first word that looks like a date on
            first = re.search(r"\S*\d", rest)
            rest = rest[first.start() :] if first else ""
        _explain(rest, now=now, tz=tz)
        raise PollInputError("no_slots")
    head = rest[: found[0][1]]
    if title is None:
        title = head.strip(" \t\n:;,-–")
    elif not _SEPARATORS.match(head):
        _explain(head, now=now, tz=tz)
    gaps = [rest[a[2] : b[1]] for a, b in itertools.pairwise(found)]
    for gap in [*gaps, rest[found[-1][2] :]]:
        if not _SEPARATORS.match(gap):
            _explain(gap, now=now, tz=tz)
    slots = tuple(when for when, _, _ in found)
    for when in slots:
        if when.start is None:
            raise PollInputError("slot_needs_time", date=when.day.isoformat())
        check_horizon(when.day, now=now, tz=tz)
        start = when.start_at()
        assert start is not None
        if start <= now:
            raise PollInputError("slot_past", date=when.day.isoformat())
    if len(set(slots)) != len(slots):
        raise PollInputError("duplicate")
    _check_counts(len(slots), minimum=1)
    if deadline is not None and deadline >= max(_start(s) for s in slots):
        raise PollInputError("deadline_after_slot")
    return PollSpec(
        title=_check_title(title),
        slots=slots,
        deadline=deadline,
        allow_maybe="maybe" in flags,
        anonymous="anonymous" in flags,
    )


def parse_survey(text: str, *, now: datetime, tz: ZoneInfo) -> PollSpec:
    title, rest = _quoted_title(text)
    if title is None:
        match = re.match(r"\s*([^?:]+\?|[^?:]+:)", rest)
        if match is None:
            raise PollInputError("survey_title")
        title, rest = match.group(1).rstrip(":"), rest[match.end() :]
    flags, rest = _flags(rest, allowed={"anonymous", "multiple"})
    splitter = r"[;\n]" if re.search(r"[;\n]", rest) else ","
    deadline, rest = _deadline(rest, now=now, tz=tz, gap="," if splitter == "," else ";")
    labels = tuple(
        label for part in re.split(splitter, rest) if (label := part.strip().strip('"').strip(" ,"))
    )
    _check_counts(len(labels), minimum=2)
    for label in labels:
        if len(label) > MAX_OPTION_CHARS:
            raise PollInputError("option_too_long", limit=str(MAX_OPTION_CHARS))
    if len({label.casefold() for label in labels}) != len(labels):
        raise PollInputError("duplicate")
    return PollSpec(
        title=_check_title(title),
        labels=labels,
        deadline=deadline,
        anonymous="anonymous" in flags,
        multiple="multiple" in flags,
    )


def _start(when: ParsedWhen) -> datetime:
    start = when.start_at()
    assert start is not None
    return start


def _quoted_title(text: str) -> tuple[str | None, str]:
    """The title in quotes ("…", „…“, “…”), quotes inside it kept as typed."""
    text = text.strip()
    try:
        found = leading_quoted(text)
    except UnmatchedQuote:
        raise PollInputError("quotes") from None
    if found is None:
        return None, text
    return found[0].strip(), found[1]


def _check_title(title: str) -> str:
    title = title.strip().strip('"').strip()
    if not title:
        raise PollInputError("no_title")
    if len(title) > MAX_TITLE_CHARS:
        raise PollInputError("title_too_long", limit=str(MAX_TITLE_CHARS))
    return title


def _check_counts(count: int, *, minimum: int) -> None:
    if count < minimum:
        raise PollInputError("few_options", minimum=str(minimum))
    if count > MAX_OPTIONS:
        raise PollInputError("many_options", limit=str(MAX_OPTIONS))


def _flags(text: str, *, allowed: set[str]) -> tuple[set[str], str]:
    flags: set[str] = set()

    def take(match: re.Match[str]) -> str:
        flag = FLAG_WORDS[match.group(1).lower()]
        if flag not in allowed:
            return match.group(0)  # left in the text, so it is reported as unreadable
        flags.add(flag)
        return " "

    return flags, _FLAG_RE.sub(take, text)


def _deadline(
    text: str, *, now: datetime, tz: ZoneInfo, gap: str = ";"
) -> tuple[datetime | None, str]:
    """`bis 20.06.` / `Frist 20.06. 18 Uhr`; "9 bis 12 Uhr" is a time range, not a deadline,
    because no date follows its `bis`. The deadline is cut out of the text."""
    for keyword in _DEADLINE_RE.finditer(text):
        after = text[keyword.end() :]
        found = find_whens(after, now=now, tz=tz)
        if not found or found[0][1] != 0:
            continue
        when, _, end = found[0]
        check_horizon(when.day, now=now, tz=tz)
        moment = when.start_at() or ParsedWhen(when.day, _END_OF_DAY, None, tz).start_at()
        assert moment is not None
        if moment <= now:
            raise PollInputError("deadline_past")
        return moment, f"{text[: keyword.start()]} {gap} {after[end:]}"
    return None, text


def _explain(piece: str, *, now: datetime, tz: ZoneInfo) -> None:
    """Leftover text that is no date: the date parser's precise reason when it looks like a
    date ("31.02." is no day), else the words themselves."""
    words = piece.strip(" \t\n;,")
    if not words:
        return
    if any(char.isdigit() for char in words):
        parse_when(words, now=now, tz=tz)  # raises DateParseError with the reason
    raise PollInputError("unreadable", text=words[:80])


# --- answers ------------------------------------------------------------------------------

ANSWER_WORDS = {
    "ja": "yes",
    "yes": "yes",
    "j": "yes",
    "y": "yes",
    "notfalls": "maybe",
    "vielleicht": "maybe",
    "maybe": "maybe",
    "ifneedbe": "maybe",
    "nein": "no",
    "no": "no",
    "n": "no",
    "toggle": "toggle",
}


@dataclass(frozen=True)
class VoteCommand:
    """`/abstimmen [#poll] 1 3 ja 2 nein` read into positions and answers."""

    poll_number: int | None
    answers: dict[int, str] = field(default_factory=dict)  # position -> answer
    bare: tuple[int, ...] = ()  # positions without an answer word (survey choices)


def parse_vote(text: str) -> VoteCommand:
    tokens = [t for t in re.split(r"[\s,;]+", text.strip()) if t]
    number = None
    if tokens and tokens[0].startswith("#"):
        number = small_number(tokens.pop(0))
        if number is None:
            raise PollInputError("vote_syntax")
    answers: dict[int, str] = {}
    pending: list[int] = []
    for token in tokens:
        word = token.lower().rstrip(".)")
        if (position := small_number(word)) is not None:
            pending.append(position)
        elif word in ANSWER_WORDS and pending:
            answers.update(dict.fromkeys(pending, ANSWER_WORDS[word]))
            pending = []
        else:
            raise PollInputError("vote_syntax")
    if not answers and not pending:
        raise PollInputError("vote_syntax")
    return VoteCommand(number, answers, tuple(dict.fromkeys(pending)))


# --- tallies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vote:
    user_id: int
    name: str
    position: int
    answer: str


@dataclass
class OptionTally:
    position: int
    names: dict[str, list[str]] = field(default_factory=lambda: {"yes": [], "maybe": [], "no": []})

    def count(self, answer: str) -> int:
        return len(self.names[answer])

    @property
    def score(self) -> tuple[int, int]:
        """Who can come at all, then who can come without trouble."""
        return (self.count("yes") + self.count("maybe"), self.count("yes"))


@dataclass(frozen=True)
class Tally:
    options: dict[int, OptionTally]
    respondents: int

    @property
    def best(self) -> int | None:
        return self.best_of(None)

    def best_of(self, positions: Collection[int] | None) -> int | None:
        """The slot (or choice) most people can make, among `positions` (all when None);
        ties go to the earlier one. None while nobody said yes or if need be."""
        ranked = sorted(
            (o for o in self.options.values() if positions is None or o.position in positions),
            key=lambda o: (-o.score[0], -o.score[1], o.position),
        )
        if not ranked or ranked[0].score[0] == 0:
            return None
        return ranked[0].position

    def percent(self, position: int) -> int:
        """Share of respondents who chose this option (a survey's percentage)."""
        if not self.respondents:
            return 0
        return round(100 * self.options[position].count("yes") / self.respondents)


def tally(positions: Sequence[int], votes: Iterable[Vote]) -> Tally:
    options = {position: OptionTally(position) for position in positions}
    people: set[int] = set()
    for vote in votes:
        if vote.position in options and vote.answer in ("yes", "maybe", "no"):
            options[vote.position].names[vote.answer].append(vote.name)
            people.add(vote.user_id)
    return Tally(options, len(people))


def reminder_due(created_at: datetime, deadline: datetime, lead: timedelta) -> datetime:
    """When non-voters get their reminder: `lead` before the deadline, but never in the first
    half of a short poll's life (a poll open for six hours is not reminded of right away)."""
    return max(deadline - lead, created_at + (deadline - created_at) / 2)
