"""The digest's Markdown (shown formatted in chats through bot/core/rich_text, and as the
HTML part of the mail): what the groups decided, what is coming, what waits between groups,
and the advisor registry's figures. Pure: everything it shows is passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.core.dates import format_date
from bot.core.i18n import Translator
from bot.core.numbers import decision_label
from handlers.minutes.render import escape, inline, kind_text
from handlers.organisation.numbers import item_label


@dataclass(frozen=True)
class DecisionEntry:
    group: str
    year: int
    number: int
    held_on: date  # the meeting's day
    kind: str
    addressee: str | None
    text: str


@dataclass(frozen=True)
class MeetingEntry:
    group: str
    starts_at: datetime
    title: str


@dataclass(frozen=True)
class WaitingEntry:
    """An inbox item between groups: open since `since`, or a task from it due `due`."""

    receiver: str
    sender: str
    item_number: int
    decision_year: int
    decision_number: int
    since: date
    due: date | None = None


@dataclass(frozen=True)
class Figures:
    listed_now: int
    newly_listed: int
    reminded: int
    delisted: int
    relisted: int


@dataclass(frozen=True)
class DigestContent:
    since: date
    until: date  # the last day covered
    decisions: list[DecisionEntry]
    meetings: list[MeetingEntry]
    open_items: list[WaitingEntry]
    overdue_items: list[WaitingEntry]
    figures: Figures


def _when(at: datetime, tz: ZoneInfo, language: str) -> str:
    local = at.astimezone(tz)
    clock = f"{local.hour}:{local.minute:02d}" + (" Uhr" if language == "de" else "")
    return f"{format_date(local.date(), language)}, {clock}"


def render_digest(t: Translator, content: DigestContent, tz: ZoneInfo) -> str:
    lang = t.language
    lines = [
        "# "
        + inline(
            t.gettext(
                "Infodienst {since} – {until}",
                since=format_date(content.since, lang),
                until=format_date(content.until, lang),
            )
        ),
        "",
        "## " + inline(t.gettext("New decisions of the groups")),
        "",
    ]
    if not content.decisions:
        lines.append(escape(t.gettext("No minutes were approved in this period.")))
    for d in content.decisions:
        label = decision_label(d.year, d.number)
        day = format_date(d.held_on, lang)
        kind = kind_text(t, d.kind, d.addressee)
        lines.append(f"- **{inline(d.group)}** {label} ({day}), {inline(kind)}: {inline(d.text)}")
    lines += ["", "## " + inline(t.gettext("Upcoming meetings")), ""]
    if not content.meetings:
        lines.append(escape(t.gettext("None announced.")))
    for m in content.meetings:
        lines.append(f"- {_when(m.starts_at, tz, lang)}: **{inline(m.group)}** – {inline(m.title)}")
    lines += ["", "## " + inline(t.gettext("Waiting between groups")), ""]
    waiting = content.open_items or content.overdue_items
    if not waiting:
        lines.append(escape(t.gettext("Nothing is waiting.")))
    for entry in content.open_items:
        lines.append(
            "- "
            + inline(
                t.gettext(
                    "{receiver}, {item}: {label} of {sender} not dealt with yet, since {date}",
                    receiver=entry.receiver,
                    item=item_label(entry.item_number),
                    label=decision_label(entry.decision_year, entry.decision_number),
                    sender=entry.sender,
                    date=format_date(entry.since, lang),
                )
            )
        )
    for entry in content.overdue_items:
        lines.append(
            "- "
            + inline(
                t.gettext(
                    "{receiver}: the task from {label} of {sender} was due on {date}",
                    receiver=entry.receiver,
                    label=decision_label(entry.decision_year, entry.decision_number),
                    sender=entry.sender,
                    date=format_date(entry.due, lang) if entry.due else "?",
                )
            )
        )
    f = content.figures
    lines += [
        "",
        "## " + inline(t.gettext("Advisor registry")),
        "",
        "- " + inline(t.gettext("listed now: {n}", n=f.listed_now)),
        "- " + inline(t.gettext("newly listed: {n}", n=f.newly_listed)),
        "- " + inline(t.gettext("reminded: {n}", n=f.reminded)),
        "- " + inline(t.gettext("delisted: {n}", n=f.delisted)),
        "- " + inline(t.gettext("relisted: {n}", n=f.relisted)),
    ]
    return "\n".join(lines) + "\n"
