"""Translated explanations for date parser errors (the parser itself stays language-free)."""

from __future__ import annotations

from datetime import date

from babel import dates as babel_dates

from bot.core.dates import DateParseError, format_date
from bot.core.i18n import N_, Translator

EXAMPLES = N_("For example: 15.06., 15.06.2021 9:00, Di 15.6. 14:00, 9-10 Uhr, 2021-06-15 09:00")

DATE_ERRORS = {
    "empty": N_("Please give a date."),
    "unknown_format": N_("I could not read “{text}” as a date."),
    "invalid_date": N_("“{text}” is not a date in the calendar."),
    "invalid_time": N_("“{text}” is not a valid time of day."),
    "end_before_start": N_("The end time is before the start time."),
    "weekday_mismatch": N_("{date} is a {actual}, not a {given}."),
    "ambiguous": N_("“{text}” is ambiguous. Please write day.month.year, e.g. 01.02.2021."),
    "too_far": N_("{date} is more than {years} years ahead. Please choose an earlier date."),
}


def date_error_text(error: DateParseError, t: Translator) -> str:
    template = DATE_ERRORS.get(error.code, DATE_ERRORS["unknown_format"])
    params = {"text": "", "given": "", "actual": "", "date": "", "years": ""}
    params.update({key: str(value) for key, value in error.params.items()})
    if error.code == "weekday_mismatch" and params["date"]:
        day = date.fromisoformat(params["date"])
        params["date"] = format_date(day, t.language)
        params["actual"] = babel_dates.format_date(day, "EEEE", locale=t.language)
        return t.gettext(template, **params)  # the date was read fine; no examples needed
    if error.code == "too_far":
        params["date"] = format_date(date.fromisoformat(params["date"]), t.language)
        return t.gettext(template, **params)
    return t.gettext(template, **params) + "\n" + t.gettext(EXAMPLES)
