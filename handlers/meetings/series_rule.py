"""Pure parser for meeting series phrases, to RFC 5545 RRULEs, and their expansion.

Accepted (German and English, case-insensitive), always the rule first, then the time,
then optional "ab"/"bis" clauses, then the title:

* weekly: ``wöchentlich montags``, ``jeden Montag``, ``montags``, ``every Monday``,
  ``weekly on Mondays``; several days: ``montags und donnerstags``
* every k weeks: ``alle 2 Wochen dienstags``, ``zweiwöchentlich am Dienstag``,
  ``14-täglich``, ``every 2 weeks on Tuesday``, ``every other Tuesday``, ``biweekly``
* monthly on the n-th weekday: ``jeden 2. Donnerstag im Monat``, ``am letzten Freitag im
  Monat``, ``every 2nd Thursday``, ``the last Friday of the month``. An ordinal with a
  weekday always means the month ("every 2nd Thursday" = second Thursday of each month);
  every other week is written ``alle 2 Wochen``/``every other``. The bot shows the next
  dates, so a misunderstanding is visible at once.
* time: ``9-10 Uhr``, ``9:30–11``, ``14 Uhr``; start ``ab 01.07.2027``/``from 2027-07-01``;
  end ``bis 31.12.2027``/``until 2027-12-31`` (inclusive, local day).

Expansion happens in local wall time and is converted to UTC per occurrence, so a series
at 9:00 Europe/Berlin stays at 9:00 local across the clock changes (08:00 UTC in winter,
07:00 UTC in summer). The stored RRULE carries UNTIL in UTC as RFC 5545 requires when
DTSTART has a zone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from bot.core.dates import check_horizon, parse_date, parse_time_range

ERROR_CODES = frozenset({"no_rule", "no_weekday", "no_time", "bad_interval", "until_before"})


class SeriesParseError(ValueError):
    """Language-free failure; the caller translates ``code``."""

    def __init__(self, code: str, **params: str) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown SeriesParseError code: {code!r}")
        super().__init__(code)
        self.code = code
        self.params = params


_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_WEEKDAY_WORDS: dict[str, int] = {
    "montag": 0, "monday": 0, "mon": 0, "mo": 0,
    "dienstag": 1, "tuesday": 1, "tue": 1, "tues": 1, "di": 1,
    "mittwoch": 2, "wednesday": 2, "wed": 2, "mi": 2,
    "donnerstag": 3, "thursday": 3, "thu": 3, "thurs": 3, "do": 3,
    "freitag": 4, "friday": 4, "fri": 4, "fr": 4,
    "samstag": 5, "sonnabend": 5, "saturday": 5, "sat": 5, "sa": 5,
    "sonntag": 6, "sunday": 6, "sun": 6, "so": 6,
}  # fmt: skip
_ORDINALS: dict[str, int] = {
    "1.": 1, "erste": 1, "ersten": 1, "1st": 1, "first": 1,
    "2.": 2, "zweite": 2, "zweiten": 2, "2nd": 2, "second": 2,
    "3.": 3, "dritte": 3, "dritten": 3, "3rd": 3, "third": 3,
    "4.": 4, "vierte": 4, "vierten": 4, "4th": 4, "fourth": 4,
    "5.": 5, "fünfte": 5, "fünften": 5, "5th": 5, "fifth": 5,
    "letzte": -1, "letzten": -1, "last": -1,
}  # fmt: skip
_NUMBERS = {"zwei": 2, "drei": 3, "vier": 4, "two": 2, "three": 3, "four": 4, "other": 2}


def _alt(words: Iterable[str]) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


_WD = rf"(?:{_alt(_WEEKDAY_WORDS)})(?:s\b|\.|\b)"
_WD_LIST = rf"(?P<days>{_WD}(?:\s*(?:,|und|and|&)\s*{_WD})*)"
_ON = r"(?:\s+(?:am|an|on|on\s+the)\b)?\s*"
_MONTH_TAIL = (
    r"(?:\s+(?:im|des|jedes|eines|jeden|of|in)\s+(?:the\s+|each\s+|every\s+|a\s+)?"
    r"(?:monats?|month)\b)?"
)

_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "monthly",
        re.compile(
            rf"(?:(?:monatlich|monthly)\s+)?(?:jeden|jede|jedem|an\s+jedem|am|every|each|on\s+the"
            rf"|the)\s+(?P<nth>{_alt(_ORDINALS)})\s*(?P<days>{_WD}){_MONTH_TAIL}"
        ),
    ),
    (
        "interval",
        re.compile(
            rf"(?:alle|every)\s+(?P<k>\d{{1,2}}|{_alt(_NUMBERS)})\s+(?:wochen|weeks?)\b"
            rf"(?:{_ON}{_WD_LIST})?"
        ),
    ),
    ("interval", re.compile(rf"(?:every|each)\s+(?P<k>other)\s+{_WD_LIST}")),
    (
        "interval",
        re.compile(
            r"(?:zweiwöchentlich|zweiwöchig|14-?tägig|14-?täglich|vierzehntägig|vierzehntäglich"
            rf"|biweekly|fortnightly|jede\s+zweite\s+woche)(?P<k>)(?:{_ON}{_WD_LIST})?"
        ),
    ),
    (
        "weekly",
        re.compile(rf"(?:wöchentlich|weekly|jede\s+woche|every\s+week)(?:{_ON}{_WD_LIST})?"),
    ),
    ("weekly", re.compile(rf"(?:jeden|jede|every|each)\s+{_WD_LIST}")),
    ("weekly", re.compile(rf"(?P<days>{_WD}(?:\s*(?:,|und|and|&)\s*{_WD})*)(?<=s)\b")),
)

_SEP = re.compile(r"[\s,;]*(?:(?:um|at|von|from)\s+(?=\d))?")
_CLOCK = r"\d{1,2}(?:[:.]\d{2})?(?!\.?\d)(?:\s*[ap]\.?m\b\.?)?"
_TIME = re.compile(
    rf"(?P<time>{_CLOCK}(?:\s*uhr\b)?(?:\s*(?:[-–—]|bis\b)\s*{_CLOCK})?(?:\s*uhr\b)?)"
)
_DATE = r"(?P<date>\d{4}-\d{2}-\d{2}|\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2})?)"
_FROM = re.compile(rf"(?:ab|from|starting|beginning|beginnend)\s+(?:dem\s+|am\s+|on\s+)?{_DATE}")
_UNTIL = re.compile(
    rf"(?:bis|until|till|through)\s+(?:zum\s+|einschließlich\s+|including\s+)?{_DATE}"
)


@dataclass(frozen=True)
class SeriesSpec:
    """What a series phrase says: the rule, the local times, and where the title starts."""

    freq: str  # "WEEKLY" or "MONTHLY"
    interval: int
    weekdays: tuple[int, ...]  # Monday = 0
    nth: int | None  # monthly: 1…5 or -1 (last)
    start: time
    end: time | None
    first_day: date | None  # "ab …"; None = from today
    until: date | None  # inclusive, local
    rest: str  # the remaining text: the title (and "| place")

    def rrule(self, tz: ZoneInfo) -> str:
        """The RFC 5545 RRULE value (without "RRULE:"); UNTIL as UTC end of that local day."""
        parts = [f"FREQ={self.freq}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.nth is not None:
            parts.append(f"BYDAY={self.nth}{_DAYS[self.weekdays[0]]}")
        else:
            parts.append("BYDAY=" + ",".join(_DAYS[d] for d in self.weekdays))
        if self.until is not None:
            last = datetime.combine(self.until, time(23, 59, 59), tzinfo=tz).astimezone(UTC)
            parts.append("UNTIL=" + last.strftime("%Y%m%dT%H%M%SZ"))
        return ";".join(parts)


def _weekdays(text: str) -> tuple[int, ...]:
    found = []
    for word in re.findall(r"[a-zäöü]+", text):
        stem = word[:-1] if word.endswith("s") and word[:-1] in _WEEKDAY_WORDS else word
        if stem in _WEEKDAY_WORDS and _WEEKDAY_WORDS[stem] not in found:
            found.append(_WEEKDAY_WORDS[stem])
    return tuple(found)


def parse_series(text: str, *, now: datetime, tz: ZoneInfo) -> SeriesSpec:
    """Read a series phrase at the start of `text`; raises SeriesParseError or the date
    parser's DateParseError (bad time or date) with a precise reason."""
    original = text.strip()
    folded = original.lower()
    found = next(
        ((kind, m) for kind, pattern in _RULES if (m := pattern.match(folded)) is not None),
        None,
    )
    if found is None:
        raise SeriesParseError("no_rule", text=original.split(" ", 1)[0] if original else "")
    kind, match = found
    groups = match.groupdict()
    days = _weekdays(groups.get("days") or "")
    nth = _ORDINALS[groups["nth"]] if kind == "monthly" else None
    interval = 1
    if kind == "interval":
        raw = groups.get("k") or "2"
        interval = int(raw) if raw.isdigit() else _NUMBERS[raw]
        if not 1 <= interval <= 52:
            raise SeriesParseError("bad_interval", text=raw)
    pos = match.end()
    start: time | None = None
    end: time | None = None
    first_day: date | None = None
    until: date | None = None
    while True:
        sep = _SEP.match(folded, pos)
        at = sep.end() if sep else pos
        if start is None and (m := _TIME.match(folded, at)):
            start, end = parse_time_range(original[m.start() : m.end()])
        elif first_day is None and (m := _FROM.match(folded, at)):
            first_day = check_horizon(parse_date(m.group("date"), now=now, tz=tz), now=now, tz=tz)
        elif until is None and (m := _UNTIL.match(folded, at)):
            until = check_horizon(parse_date(m.group("date"), now=now, tz=tz), now=now, tz=tz)
        else:
            break
        pos = m.end()
    if start is None:
        raise SeriesParseError("no_time")
    if not days:
        if first_day is None:
            raise SeriesParseError("no_weekday")
        days = (first_day.weekday(),)  # "wöchentlich ab 01.07.2027": that weekday
    if until is not None and until < (first_day or now.astimezone(tz).date()):
        raise SeriesParseError("until_before")
    return SeriesSpec(
        freq="MONTHLY" if kind == "monthly" else "WEEKLY",
        interval=interval,
        weekdays=days[:1] if nth is not None else days,
        nth=nth,
        start=start,
        end=end,
        first_day=first_day,
        until=until,
        rest=original[pos:].strip(" ,;:-–"),
    )


def _split_until(rule: str) -> tuple[str, datetime | None]:
    kept, until = [], None
    for part in rule.split(";"):
        key, _, value = part.partition("=")
        if key.upper() == "UNTIL":
            until = datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        else:
            kept.append(part)
    return ";".join(kept), until


def _localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """Local wall time to UTC; a time in the spring-forward gap moves forward (fold=0)."""
    return naive.replace(tzinfo=tz).astimezone(UTC)


def occurrences(
    rule: str,
    dtstart: datetime,
    tz: ZoneInfo,
    *,
    after: datetime,
    before: datetime,
    limit: int = 500,
) -> list[datetime]:
    """Starts (UTC) of the occurrences with after <= start < before.

    `dtstart` (aware) is the first occurrence; expansion runs on its local wall time, so
    every occurrence keeps the local clock time whatever the UTC offset is that day.
    """
    body, until = _split_until(rule)
    local_start = dtstart.astimezone(tz).replace(tzinfo=None)
    recurrence = rrulestr(body, dtstart=local_start)
    if until is not None:
        recurrence = recurrence.replace(until=until.astimezone(tz).replace(tzinfo=None))
    window_from = after.astimezone(tz).replace(tzinfo=None) - timedelta(days=1)
    window_to = before.astimezone(tz).replace(tzinfo=None) + timedelta(days=1)
    found = []
    for naive in recurrence.xafter(max(window_from, local_start), inc=True):
        if naive > window_to or len(found) >= limit:
            break
        start = _localize(naive, tz)
        if after <= start < before:
            found.append(start)
    return found


def first_occurrence(spec: SeriesSpec, *, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The first start (UTC) of the series that is not in the past, or None if the series
    ends before it begins (e.g. "bis" a day with no matching weekday left)."""
    local_now = now.astimezone(tz)
    day = spec.first_day or local_now.date()
    # A dtstart on the rule's pattern is needed; the rule without UNTIL finds it.
    anchor = datetime.combine(day, spec.start)
    probe = rrulestr(_split_until(spec.rrule(tz))[0], dtstart=anchor)
    candidate = probe.after(anchor, inc=True)
    while candidate is not None and _localize(candidate, tz) < now:
        candidate = probe.after(candidate)
    if candidate is None or (spec.until is not None and candidate.date() > spec.until):
        return None
    return _localize(candidate, tz)


_DE_DAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
_EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _clock_text(start: time, end: time | None, lang: str) -> str:
    if lang == "de":
        text = f"{start.hour}:{start.minute:02d}"
        return text + (f"–{end.hour}:{end.minute:02d}" if end else "") + " Uhr"
    text = f"{start.hour:02d}:{start.minute:02d}"
    return text + (f"–{end.hour:02d}:{end.minute:02d}" if end else "")


def describe_rule(
    rule: str, start: time, end: time | None, lang: str, until: date | None = None
) -> str:
    """A human reading of the rules this module writes, e.g. "jeden 2. Donnerstag im
    Monat, 9:00–10:00 Uhr" / "the 2nd Thursday of every month, 09:00–10:00"."""
    fields = dict(p.partition("=")[::2] for p in _split_until(rule)[0].split(";"))
    interval = int(fields.get("INTERVAL", "1"))
    byday = fields.get("BYDAY", "")
    de = lang == "de"
    names = _DE_DAYS if de else _EN_DAYS
    if fields.get("FREQ") == "MONTHLY":
        m = re.fullmatch(r"(-?\d)([A-Z]{2})", byday)
        nth, day = (int(m.group(1)), _DAYS.index(m.group(2))) if m else (1, 0)
        if de:
            which = "letzten" if nth == -1 else f"{nth}."
            text = f"jeden {which} {names[day]} im Monat"
        else:
            which = "last" if nth == -1 else f"{nth}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(nth, 'th') }"
            text = f"the {which} {names[day]} of every month"
    else:
        days = [names[_DAYS.index(d)] for d in byday.split(",") if d in _DAYS]
        joined = (" und " if de else " and ").join(days)
        if interval == 1:
            text = f"jeden {joined}" if de else f"every {joined}"
        else:
            text = (
                f"alle {interval} Wochen am {joined}"
                if de
                else (f"every {interval} weeks on {joined}")
            )
    text += ", " + _clock_text(start, end, lang)
    if until is not None:
        if de:
            text += f", bis {until.day:02d}.{until.month:02d}.{until.year}"
        else:
            text += f", until {until.isoformat()}"
    return text
