"""Pure parser and formatter for the dates and times people type into the chat.

The bot serves German working groups, so German notation (``15.6.``, ``9-10 Uhr``,
``Di, 15. Juni``) comes first, with ISO and common English forms alongside. Nothing here
reads the clock or does I/O: "today" is derived from the injected ``now``, which keeps the
behaviour reproducible in tests and independent of the server's time zone.

Choices where the input is underspecified (kept here so callers and help texts agree):

* Year-less dates (``15.6.``): this year; with ``prefer_future`` a date strictly before
  today moves to next year (today itself stays). The year is inferred before any weekday
  check, so ``Mo 15.6.`` is checked against the inferred year.
* Two-digit years mean 20xx (``15.6.21`` is 2021).
* A bare weekday (``Do 14 Uhr``) is the next such day strictly after today. It is today
  only if the weekday is today and either ``prefer_future`` is off or a start time was
  given that is still ahead of ``now``.
* A time without a date means today; with ``prefer_future`` it is tomorrow once the start
  time is not ahead of ``now`` any more.
* ``24`` is accepted only as a range end (``22-24 Uhr``) and stored as ``23:59`` because
  :class:`datetime.time` cannot express 24:00. A range must end strictly after its start;
  ranges across midnight (``22-2 Uhr``) are ``end_before_start``.
* A bare number counts as a time only with a marker: ``:MM``, ``Uhr``, am/pm, or a dot
  inside a range (``9.30-12``). ``9.30`` alone needs ``Uhr``. :func:`parse_time_range`
  is lenient (``9`` is 9:00) because its caller already knows that a time is meant.
* English ranges share am/pm: ``9-10am``; ``11-1pm`` is 11:00-13:00 (the start falls back
  to am when pm would put it after the end).
* ``01/02/2021`` is rejected as ``ambiguous`` (DE reads 1 Feb, US reads 2 Jan).
* DST handling: see :meth:`ParsedWhen.start_at`.
* Formatting: a ``lang`` whose primary subtag is ``de`` gives German output, anything else
  the neutral ISO/English output.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "ERROR_CODES",
    "HORIZON_YEARS",
    "DateParseError",
    "ParsedWhen",
    "check_horizon",
    "find_whens",
    "format_date",
    "format_when",
    "parse_date",
    "parse_time_range",
    "parse_when",
]

ERROR_CODES = frozenset({
    "empty", "unknown_format", "invalid_date", "invalid_time",
    "end_before_start", "weekday_mismatch", "ambiguous", "too_far",
})

# How far ahead a meeting, series or poll slot may lie. Far enough for any real planning
# (tests book "a date far ahead" on the real clock), and calendar arithmetic (reminders,
# .ics time zones) overflows near 9999.
HORIZON_YEARS = 20


class DateParseError(ValueError):
    """Parse failure with a machine-readable ``code`` and ``params``.

    The parser stays language-free; the caller maps ``code`` to a translated message and
    interpolates ``params`` (``text`` = offending input, ``given``/``actual`` for weekday
    mismatches, ``hint`` for ambiguous input, ``date``/``years`` for ``too_far``).
    """

    code: str
    params: dict[str, str]

    def __init__(self, code: str, params: dict[str, str] | None = None) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown DateParseError code: {code!r}")
        self.code = code
        self.params = dict(params or {})
        super().__init__(f"{code}: {self.params}" if self.params else code)


# --- vocabulary ------------------------------------------------------------------------
# All keys are lower case; input is lower-cased (length-preserving, see _fold) before
# matching, so no re.IGNORECASE is needed and a matched word is always a valid key.

_MONTHS: dict[str, int] = {
    "januar": 1, "jänner": 1, "jaenner": 1, "january": 1, "jan": 1, "jän": 1,
    "februar": 2, "february": 2, "feb": 2,
    "märz": 3, "maerz": 3, "march": 3, "mär": 3, "mrz": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mai": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7,
    "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nov": 11,
    "dezember": 12, "december": 12, "dez": 12, "dec": 12,
}

# weekday token -> (Monday=0 index, language of the token; used to answer in kind)
_WEEKDAYS: dict[str, tuple[int, str]] = {
    "montag": (0, "de"), "mo": (0, "de"), "monday": (0, "en"), "mon": (0, "en"),
    "dienstag": (1, "de"), "di": (1, "de"),
    "tuesday": (1, "en"), "tues": (1, "en"), "tue": (1, "en"),
    "mittwoch": (2, "de"), "mi": (2, "de"), "wednesday": (2, "en"), "wed": (2, "en"),
    "donnerstag": (3, "de"), "do": (3, "de"),
    "thursday": (3, "en"), "thurs": (3, "en"), "thur": (3, "en"), "thu": (3, "en"),
    "freitag": (4, "de"), "fr": (4, "de"), "friday": (4, "en"), "fri": (4, "en"),
    "samstag": (5, "de"), "sonnabend": (5, "de"), "sa": (5, "de"),
    "saturday": (5, "en"), "sat": (5, "en"),
    "sonntag": (6, "de"), "so": (6, "de"), "sunday": (6, "en"), "sun": (6, "en"),
}

# German-only month words are not accepted before the day: nobody writes "Juni 15", and in
# prose "im Mai 3 Leute" must not become a date.
_GERMAN_ONLY_MONTHS = frozenset({
    "januar", "jänner", "jaenner", "jän", "februar", "märz", "maerz", "mär", "mrz",
    "mai", "juni", "juli", "oktober", "okt", "dezember", "dez",
})

_WEEKDAY_SHORT: dict[str, tuple[str, ...]] = {
    "de": ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}

_RELATIVE_DAYS: dict[str, int] = {
    "heute": 0, "today": 0, "morgen": 1, "tomorrow": 1, "übermorgen": 2, "uebermorgen": 2,
}

# time() cannot hold 24:00; a range ending at midnight is stored as the last minute.
_END_OF_DAY = time(23, 59)


def _alternation(words: Iterable[str]) -> str:
    """Regex alternation, longest first so ``juni`` wins over ``jun``."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# --- patterns ---------------------------------------------------------------------------
# Digits are spelled [0-9] because \d would also accept e.g. Arabic-Indic digits.

# "Di", "Di.", "Dienstag" - \b stops "do" from matching the start of "dez".
_WEEKDAY_RE = re.compile(rf"(?P<wd>{_alternation(_WEEKDAYS)})\b\.?")

# Glue between weekday, date and time: "Di., 15.6., um 14 Uhr", "June 15 at 9am".
_SEP_RE = re.compile(r"\s*,?\s*(?:(?:um|at)\s+)?")

# Leading filler accepted by parse_when/parse_date only: "am Dienstag", "on June 15".
_LEAD_RE = re.compile(r"(?:am|on)\s+(?=\S)")

_MONTH_ALT = _alternation(_MONTHS)
_MONTH_FIRST_ALT = _alternation(_MONTHS.keys() - _GERMAN_ONLY_MONTHS)

# One date; exactly one of the named alternatives (iso/slash/num/dm/md/rel) matches.
_DATE_RE = re.compile(
    rf"""
    (?P<iso>                                          # 2021-06-15, "T" may glue a time
        (?P<iso_y>[0-9]{{4}})-(?P<iso_m>[0-9]{{1,2}})-(?P<iso_d>[0-9]{{1,2}})(?![0-9])
        (?:t(?=[0-9]))?
    )
    | (?P<slash>[0-9]{{1,2}}/[0-9]{{1,2}}(?:/[0-9]{{2,4}})?)(?![0-9/])   # DE or US order
    | (?P<num>                                        # 15.6. / 15.06.2021 / 15.6.21
        (?P<num_d>[0-9]{{1,2}})\.(?P<num_m>[0-9]{{1,2}})\.
        (?:(?P<num_y>[0-9]{{4}}|[0-9]{{2}})           # year glued to the dot
          |[ ](?P<num_y_sp>[0-9]{{4}}))?              # or "15.06. 2021" (4 digits only)
        (?![0-9])
    )
    | (?P<dm>                                         # 15. Juni 2021 / 15 June / 15th Jun.
        (?P<dm_d>[0-9]{{1,2}})(?:\.|st|nd|rd|th)?\s*
        (?P<dm_m>{_MONTH_ALT})\b\.?
        (?:,?\s*(?P<dm_y>[0-9]{{4}})(?![0-9]))?
    )
    | (?P<md>                                         # June 15, 2021 / Jun 15
        (?P<md_m>{_MONTH_FIRST_ALT})\b\.?\s*
        (?P<md_d>[0-9]{{1,2}})(?:st|nd|rd|th)?(?!\w)
        (?:,?\s*(?P<md_y>[0-9]{{4}})(?![0-9]))?
    )
    | (?P<rel>{_alternation(_RELATIVE_DAYS)})\b       # heute, morgen, tomorrow ...
    """,
    re.VERBOSE,
)


def _clock(prefix: str) -> str:
    """Pattern for one clock reading: 9 / 9:30 / 9.30, optionally am/pm (a.m./p.m.).

    The lookahead refuses to end right before ``.<digit>`` or a digit, so ``17.05.2021``
    is never read as the time 17:05 followed by junk.
    """
    p = prefix
    return (
        rf"(?P<{p}_h>[0-9]{{1,2}})(?:(?P<{p}_sep>[:.])(?P<{p}_m>[0-9]{{2}}))?(?!\.?[0-9])"
        rf"(?:\s*(?P<{p}_ap>[ap])\.?m\b\.?)?"
    )


# A time or a time range; validity (hour <= 23 ...) is checked later so that "25:00"
# reports invalid_time instead of unknown_format.
_TIME_RE = re.compile(
    rf"""
    {_clock("s")}                                # start
    (?:\s*(?P<s_uhr>uhr)\b)?                     # "9 Uhr - 10 Uhr"
    (?:\s*(?:[-–—]|bis\b)\s*{_clock("e")})?      # optional range end: "-", en/em dash, "bis"
    (?:\s*(?P<uhr>uhr)\b)?                       # "9-10 Uhr"
    """,
    re.VERBOSE,
)

# Where find_whens may start a match: a word start not glued to a number ("1.15.6.").
_CANDIDATE_RE = re.compile(r"(?<![\w.:/\-–—])\w")


# --- result type -------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedWhen:
    """A calendar day with an optional start (and, for ranges, end) wall-clock time."""

    day: date
    start: time | None  # None = whole day / no time given
    end: time | None  # only for ranges; 24:00 is stored as 23:59
    tz: ZoneInfo

    def __post_init__(self) -> None:
        if self.end is not None and (self.start is None or self.end <= self.start):
            raise ValueError("ParsedWhen.end needs a start and must be after it")

    def start_at(self) -> datetime | None:
        """Aware start datetime in ``tz``, normalised through UTC.

        Nonexistent local times (spring-forward gap) are read with the offset valid before
        the gap (``fold=0``) and then normalised, i.e. shifted forward by the gap:
        Berlin 2021-03-28 02:30 becomes 03:30 CEST (01:30 UTC). Ambiguous times
        (fall-back) take the first, i.e. summer-time, occurrence: Berlin 2021-10-31 02:30
        is 02:30 CEST (00:30 UTC).
        """
        return None if self.start is None else _localize(self.day, self.start, self.tz)

    def end_at(self) -> datetime | None:
        """Aware end datetime in ``tz``; same DST rules as :meth:`start_at`."""
        return None if self.end is None else _localize(self.day, self.end, self.tz)


def _localize(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """Attach ``tz`` with fold=0 and normalise via a UTC round trip (see start_at)."""
    naive = datetime.combine(day, clock, tzinfo=tz)
    try:
        return naive.astimezone(UTC).astimezone(tz)
    except OverflowError:  # only at the edges of year 1 / 9999; nothing to normalise there
        return naive


# --- parsing internals ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Raw:
    """Syntactic result of a scan: which parts matched and where the match ends."""

    start: int
    end: int
    weekday: re.Match[str] | None
    date: re.Match[str] | None
    time: re.Match[str] | None


def _fold(text: str) -> str:
    """Lower-case without changing the length, so match offsets stay valid in ``text``.

    Characters whose lower-case form is longer (e.g. "İ") are kept unchanged.
    """
    return "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)


def _prepare(text: str) -> tuple[str, str]:
    """NFC-normalise and strip; return (original, folded) of equal length."""
    original = unicodedata.normalize("NFC", text).strip()
    if not original:
        raise DateParseError("empty")
    return original, _fold(original)


def _has_time_marker(m: re.Match[str], need_marker: bool) -> bool:
    """Decide whether a _TIME_RE match is really a time (see module docstring)."""
    if not need_marker:
        return True
    seps = {m["s_sep"], m["e_sep"]}
    has_ap = bool(m["s_ap"] or m["e_ap"])
    has_uhr = bool(m["s_uhr"] or m["uhr"])
    is_range = m["e_h"] is not None
    if "." in seps and not (has_uhr or has_ap or is_range):
        return False  # "9.30" alone could be a truncated date
    return ":" in seps or has_uhr or has_ap or (is_range and "." in seps)


def _scan(
    text: str, pos: int, *, with_date: bool = True, with_time: bool = True,
    need_marker: bool = True,
) -> _Raw | None:
    """Match ``[weekday] [date] [time]`` at ``pos`` in folded text; None if nothing.

    Separators are consumed only together with the part that follows them, so a match
    never ends in a dangling comma.
    """
    begin = pos
    weekday_m = date_m = time_m = None
    if with_date:
        weekday_m = _WEEKDAY_RE.match(text, pos)
        if weekday_m:
            pos = weekday_m.end()
        date_m = _DATE_RE.match(text, _SEP_RE.match(text, pos).end() if weekday_m else pos)
        if date_m:
            pos = date_m.end()
    if with_time:
        at = _SEP_RE.match(text, pos).end() if (weekday_m or date_m) else pos
        candidate = _TIME_RE.match(text, at)
        if candidate and _has_time_marker(candidate, need_marker):
            time_m = candidate
            pos = candidate.end()
    if pos == begin:
        return None
    return _Raw(begin, pos, weekday_m, date_m, time_m)


def _to_time(hour_s: str, minute_s: str | None, ap: str | None, *, is_end: bool) -> time | None:
    """Convert clock parts to a time, or None if out of range."""
    hour, minute = int(hour_s), int(minute_s or 0)
    if minute > 59:
        return None
    if ap:
        if not 1 <= hour <= 12:
            return None
        return time(hour % 12 + (12 if ap == "p" else 0), minute)
    if hour == 24 and minute == 0 and is_end:
        return _END_OF_DAY
    return time(hour, minute) if hour <= 23 else None


def _resolve_time(m: re.Match[str], original: str) -> tuple[time, time | None]:
    """Validate a _TIME_RE match; ``original`` supplies the user's spelling for errors."""
    value = {"text": original[m.start():m.end()].strip()}
    s_ap, e_ap = m["s_ap"], m["e_ap"]
    if m["e_h"] is None:
        start = _to_time(m["s_h"], m["s_m"], s_ap, is_end=False)
        if start is None:
            raise DateParseError("invalid_time", value)
        return start, None

    # A single am/pm applies to both ends ("9-10am") when the other hour fits 1-12.
    inherited: str | None = None
    if e_ap and not s_ap and 1 <= int(m["s_h"]) <= 12:
        s_ap, inherited = e_ap, "s"
    elif s_ap and not e_ap and 1 <= int(m["e_h"]) <= 12:
        e_ap, inherited = s_ap, "e"
    start = _to_time(m["s_h"], m["s_m"], s_ap, is_end=False)
    end = _to_time(m["e_h"], m["e_m"], e_ap, is_end=True)
    if start is None or end is None:
        raise DateParseError("invalid_time", value)
    if end <= start and inherited:
        # "11-1pm" means 11am-1pm, "9am-5" means 9am-5pm: flip the inherited half.
        flipped = {"a": "p", "p": "a"}
        if inherited == "s":
            start = _to_time(m["s_h"], m["s_m"], flipped[s_ap or "a"], is_end=False) or start
        else:
            end = _to_time(m["e_h"], m["e_m"], flipped[e_ap or "a"], is_end=True) or end
    if end <= start:
        raise DateParseError(
            "end_before_start", {**value, "start": _hm(start), "end": _hm(end)},
        )
    return start, end


def _shift(day: date, days: int) -> date:
    """``day + days`` reported as invalid_date instead of OverflowError at date.max."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        raise DateParseError("invalid_date", {"text": day.isoformat()}) from None


def _infer_year(day: int, month: int, today: date, prefer_future: bool) -> int:
    """This year, or next year if the date already passed (or does not exist this year)."""
    if not prefer_future:
        return today.year
    try:
        passed = date(today.year, month, day) < today
    except ValueError:
        passed = True  # e.g. 29.02. in a common year: try next year, validated later
    return today.year + 1 if passed else today.year


def _resolve_date(m: re.Match[str], original: str, today: date, prefer_future: bool) -> date:
    """Turn a _DATE_RE match into a date (relative words, year inference, validation)."""
    text = {"text": original[m.start():m.end()].strip()}
    if m["slash"]:
        raise DateParseError("ambiguous", {**text, "hint": "DD.MM.YYYY | YYYY-MM-DD"})
    if m["rel"]:
        return _shift(today, _RELATIVE_DAYS[m["rel"]])
    year_s: str | None
    if m["iso"]:
        day_s, month, year_s = m["iso_d"], int(m["iso_m"]), m["iso_y"]
    elif m["num"]:
        day_s, month, year_s = m["num_d"], int(m["num_m"]), m["num_y"] or m["num_y_sp"]
    elif m["dm"]:
        day_s, month, year_s = m["dm_d"], _MONTHS[m["dm_m"]], m["dm_y"]
    else:
        day_s, month, year_s = m["md_d"], _MONTHS[m["md_m"]], m["md_y"]
    day = int(day_s)
    if year_s is None:
        year = _infer_year(day, month, today, prefer_future)
    else:
        year = int(year_s) + (2000 if len(year_s) == 2 else 0)
    try:
        return date(year, month, day)
    except ValueError:
        raise DateParseError("invalid_date", text) from None


def _next_weekday(
    weekday: int, today: date, now_local: datetime, start: time | None, prefer_future: bool,
) -> date:
    """Next occurrence of ``weekday``; today only under the rule in the module docstring."""
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0:
        today_ok = not prefer_future or (start is not None and start > now_local.time())
        ahead = 0 if today_ok else 7
    return _shift(today, ahead)


def _local_now(now: datetime, tz: ZoneInfo) -> datetime:
    """``now`` in ``tz``; a naive ``now`` is a programming error (it would read local time)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return now.astimezone(tz)


def _resolve(
    raw: _Raw, original: str, *, now: datetime, tz: ZoneInfo, prefer_future: bool,
) -> ParsedWhen:
    """Give a syntactic match its meaning relative to ``now`` (all semantic checks here)."""
    now_local = _local_now(now, tz)
    today = now_local.date()
    day = None
    if raw.date is not None:
        day = _resolve_date(raw.date, original, today, prefer_future)
        if raw.weekday is not None:
            given_idx, lang = _WEEKDAYS[raw.weekday["wd"]]
            if given_idx != day.weekday():
                raise DateParseError("weekday_mismatch", {
                    "given": original[raw.weekday.start("wd"):raw.weekday.end("wd")],
                    "actual": _WEEKDAY_SHORT[lang][day.weekday()],
                    "text": original[raw.start:raw.end],
                    "date": day.isoformat(),
                })
    start, end = _resolve_time(raw.time, original) if raw.time is not None else (None, None)
    if day is None:
        if raw.weekday is not None:
            weekday = _WEEKDAYS[raw.weekday["wd"]][0]
            day = _next_weekday(weekday, today, now_local, start, prefer_future)
        else:  # time only
            passed = start is not None and start <= now_local.time()
            day = _shift(today, 1) if prefer_future and passed else today
    return ParsedWhen(day=day, start=start, end=end, tz=tz)


def _parse_full(
    text: str, *, now: datetime, tz: ZoneInfo, prefer_future: bool, with_time: bool,
) -> ParsedWhen:
    """Shared body of parse_when/parse_date: the whole input must be one expression."""
    original, folded = _prepare(text)
    lead = _LEAD_RE.match(folded)
    raw = _scan(folded, lead.end() if lead else 0, with_time=with_time)
    if raw is None or raw.end != len(folded):
        raise DateParseError("unknown_format", {"text": original})
    return _resolve(raw, original, now=now, tz=tz, prefer_future=prefer_future)


# --- public API ---------------------------------------------------------------------------


def parse_when(
    text: str, *, now: datetime, tz: ZoneInfo, prefer_future: bool = True,
) -> ParsedWhen:
    """Parse one date, optionally with a time or time range, or a time alone.

    Raises DateParseError for anything it cannot read; ``now`` must be aware.
    """
    return _parse_full(text, now=now, tz=tz, prefer_future=prefer_future, with_time=True)


def parse_date(text: str, *, now: datetime, tz: ZoneInfo, prefer_future: bool = True) -> date:
    """Parse a date only; any extra text (including a time) is ``unknown_format``."""
    return _parse_full(text, now=now, tz=tz, prefer_future=prefer_future, with_time=False).day


def parse_time_range(text: str) -> tuple[time, time | None]:
    """Parse ``9``, ``9:30``, ``9-10 Uhr``, ``2:30pm`` ... into (start, end or None).

    Lenient about markers (a bare ``9`` is 9:00) because the caller asked for a time.
    """
    original, folded = _prepare(text)
    m = _TIME_RE.fullmatch(folded)
    if m is None:
        raise DateParseError("unknown_format", {"text": original})
    return _resolve_time(m, original)


def find_whens(text: str, *, now: datetime, tz: ZoneInfo) -> list[tuple[ParsedWhen, int, int]]:
    """Find every date(+time) in free text, with its ``(start, end)`` span in ``text``.

    To avoid false hits in prose, a match needs an explicit date (``15.6.``, ``15. Juni``,
    ISO), or a relative word or capitalised weekday *with* a time (``morgen 9 Uhr``,
    ``Do 14 Uhr``): "Guten Morgen" or "so um 9 Uhr" are not dates. Candidates that fail
    validation (``31.02.2021``, ``01/02``) are skipped, since a scanner has no single
    error to report. Uses prefer_future.
    """
    folded = _fold(text)
    found: list[tuple[ParsedWhen, int, int]] = []
    pos = 0
    while (cand := _CANDIDATE_RE.search(folded, pos)) is not None:
        raw = _scan(folded, cand.start())
        if raw is not None and _is_anchored(raw, text) and not _glued(folded, raw.end):
            try:
                when = _resolve(raw, text, now=now, tz=tz, prefer_future=True)
            except DateParseError:
                pass
            else:
                found.append((when, raw.start, raw.end))
                pos = raw.end
                continue
        pos = cand.start() + 1
    return found


def check_horizon(day: date, *, now: datetime, tz: ZoneInfo) -> date:
    """``day`` unchanged, or ``too_far`` if it lies more than HORIZON_YEARS ahead of today.

    The parser itself reads any calendar day; callers that book something on a day ask
    this so a typo like ``9999`` gets a clear answer instead of an overflow later.
    """
    today = _local_now(now, tz).date()
    year = min(today.year + HORIZON_YEARS, date.max.year)
    limit = date(year, today.month, 28 if (today.month, today.day) == (2, 29) else today.day)
    if day > limit:
        raise DateParseError("too_far", {"date": day.isoformat(), "years": str(HORIZON_YEARS)})
    return day


def _is_anchored(raw: _Raw, original: str) -> bool:
    """True if the match is specific enough to be a date in free text (see find_whens).

    A weekday without a date must be capitalised, so "so um 9 Uhr" ("around 9") is no
    Sunday.
    """
    if raw.date is not None and raw.date["rel"] is None:
        return True
    if raw.time is None:
        return False
    if raw.date is not None:
        return True
    return raw.weekday is not None and original[raw.weekday.start()].isupper()


def _glued(text: str, end: int) -> bool:
    """True if the match runs straight into a word (``15.6.2021x``)."""
    return end < len(text) and (text[end].isalnum() or text[end] == "_")


def _lang_is_de(lang: str) -> bool:
    """``de``, ``de-AT``, ``de_CH`` ... are German; everything else gets ISO/English."""
    return lang.lower().replace("_", "-").split("-")[0] == "de"


def _hm(t: time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def format_date(d: date, lang: str) -> str:
    """``15.06.2021`` for German, ISO ``2021-06-15`` otherwise (unambiguous for everyone)."""
    if _lang_is_de(lang):
        return f"{d.day:02d}.{d.month:02d}.{d.year:04d}"
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def format_when(w: ParsedWhen, lang: str) -> str:
    """``Di, 15.06.2021, 9:00–10:00 Uhr`` / ``Tue 2021-06-15, 09:00–10:00``.

    The output is accepted by :func:`parse_when` again (round trip, tested).
    """
    if _lang_is_de(lang):
        out = f"{_WEEKDAY_SHORT['de'][w.day.weekday()]}, {format_date(w.day, 'de')}"
        if w.start is not None:
            out += f", {w.start.hour}:{w.start.minute:02d}"
            if w.end is not None:
                out += f"–{w.end.hour}:{w.end.minute:02d}"
            out += " Uhr"
        return out
    out = f"{_WEEKDAY_SHORT['en'][w.day.weekday()]} {format_date(w.day, 'en')}"
    if w.start is not None:
        out += f", {_hm(w.start)}"
        if w.end is not None:
            out += f"–{_hm(w.end)}"
    return out
