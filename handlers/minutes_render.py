"""Pure renderer for the minutes (Protokoll): plain values in, Markdown and HTML out.

The layout follows the groups' real minutes: header, agenda table, per TOP the discussion
notes, decisions with their outcome and the action items, then "Nächste Termine" and the
minute-takers. User text is escaped for Markdown, and the HTML comes from markdown-it-py
with raw HTML switched off, so nothing a member types can become markup or script.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from markdown_it import MarkdownIt

from bot.core.i18n import Translator
from bot.core.messages import Document
from handlers.dates import ParsedWhen, format_date, format_when
from storage.minutes_data import MinutesAction, MinutesData, MinutesDecision, MinutesTop
from storage.models import (
    ActionItemStatus,
    AgendaItemKind,
    DecisionKind,
    DecisionOutcome,
    MinutesStatus,
)

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_LINE_START = re.compile(r"^(\s*)(?:([#>+=-])|(\d+)([.)]))", re.MULTILINE)


def _escape_line_start(match: re.Match[str]) -> str:
    if match.group(2):  # "# x", "- x", "> x": heading, list, quote
        return f"{match.group(1)}\\{match.group(2)}"
    return f"{match.group(1)}{match.group(3)}\\{match.group(4)}"  # "1. x": ordered list


def escape(text: str) -> str:
    """User text as literal Markdown: no emphasis, links, tables or headings sneak in."""
    return _LINE_START.sub(_escape_line_start, _MARKDOWN_SPECIAL.sub(r"\\\1", text))


def _bold(text: str) -> str:
    return f"**{text}**"


def _em(text: str) -> str:
    return f"*{text}*"


def _field(label: str, value: str) -> str:
    return f"**{label}:** {value}"


def _cell(text: str) -> str:
    """Table cells are one line."""
    return escape(" ".join(text.split()))


def _when(start: datetime, end: datetime | None, language: str) -> str:
    same_day = end is not None and end.date() == start.date() and end.time() > start.time()
    end_time = end.time() if same_day and end is not None else None
    tz = start.tzinfo
    assert isinstance(tz, ZoneInfo), "minutes carry times in the group's zone"
    return format_when(ParsedWhen(start.date(), start.time(), end_time, tz), language)


def _clock(moment: datetime, language: str) -> str:
    if language == "de":
        return f"{moment.hour}:{moment.minute:02d}"
    return f"{moment.hour:02d}:{moment.minute:02d}"


def outcome_text(t: Translator, decision: MinutesDecision) -> str:
    if decision.outcome == DecisionOutcome.UNANIMOUS.value:
        return t.gettext("unanimous")
    if decision.outcome == DecisionOutcome.COUNTED.value:
        return t.ngettext(
            "{yes} for, {no} against, {n} abstention",
            "{yes} for, {no} against, {n} abstentions",
            decision.abstentions or 0,
            yes=decision.votes_for or 0,
            no=decision.votes_against or 0,
        )
    return t.gettext("no vote")


def kind_text(t: Translator, kind: str, addressee: str | None) -> str:
    if kind == DecisionKind.RECOMMENDATION.value:
        return t.gettext("Recommendation to {body}", body=addressee or "?")
    if kind == DecisionKind.ASSIGNMENT.value:
        return t.gettext("Assignment to {body}", body=addressee or "?")
    if kind == DecisionKind.INFORMATION.value:
        return t.gettext("Information")
    return t.gettext("Decision")


def status_text(t: Translator, status: str) -> str:
    return {
        ActionItemStatus.OPEN.value: t.gettext("open"),
        ActionItemStatus.DONE.value: t.gettext("done"),
        ActionItemStatus.DROPPED.value: t.gettext("dropped"),
    }.get(status, status)


def decision_line(t: Translator, decision: MinutesDecision) -> str:
    """``**B-2021-07** Empfehlung an Strategiekreis (einstimmig): Text``"""
    line = f"**{decision.label}** {escape(kind_text(t, decision.kind, decision.addressee))}"
    if decision.kind != DecisionKind.INFORMATION.value:
        line += f" ({outcome_text(t, decision)})"
    line += f": {escape(decision.text)}"
    if decision.amends_label:
        line += " " + t.gettext("(amends {label})", label=decision.amends_label)
    return line


def _action_rows(t: Translator, actions: tuple[MinutesAction, ...], language: str) -> list[str]:
    rows = [
        "| "
        + " | ".join((t.gettext("No."), t.gettext("Who"), t.gettext("What"), t.gettext("Due")))
        + " |",
        "|---|---|---|---|",
    ]
    for action in actions:
        what = _cell(action.text)
        if action.decision_label:
            what += " " + t.gettext("(re {label})", label=action.decision_label)
        if action.status != ActionItemStatus.OPEN.value:
            what += f" – {status_text(t, action.status)}"
        due = format_date(action.due, language) if action.due else "–"
        rows.append(f"| {action.label} | {_cell(', '.join(action.assignees))} | {what} | {due} |")
    return rows


def _top_section(t: Translator, top: MinutesTop, language: str) -> list[str]:
    if top.number is None:
        lines = ["## " + t.gettext("Further items")]
    else:
        lines = ["## " + t.gettext("TOP {number}", number=top.number) + f": {escape(top.title)}"]
    if top.presenter:
        lines += ["", "*" + t.gettext("Presented by") + f": {escape(top.presenter)}*"]
    if top.notes:
        lines += ["", _bold(t.gettext("From the discussion")), ""]
        lines += [f"- {escape(' '.join(note.split()))}" for note in top.notes]
    if top.decisions:
        lines += ["", _bold(t.gettext("Decisions")), ""]
        lines += [f"- {decision_line(t, d)}" for d in top.decisions]
    if top.actions:
        lines += ["", _bold(t.gettext("Action items")), ""]
        lines += _action_rows(t, top.actions, language)
    if top.continue_next_time:
        lines += ["", _em(t.gettext("To be continued at the next meeting."))]
    empty = not (top.notes or top.decisions or top.actions or top.continue_next_time)
    if empty and top.kind == AgendaItemKind.TOPIC.value:
        lines += ["", _em(t.gettext("Nothing recorded."))]
    return lines


def _participants(t: Translator, data: MinutesData) -> list[str]:
    lines = []
    if data.participants:
        names = ", ".join(escape(name) for name in data.participants)
        count = max(len(data.participants), data.attendance_count or 0)
        lines.append(_field(t.gettext("Participants ({n})", n=count), names))
    elif data.attendance_count is not None:
        lines.append(
            _field(
                t.gettext("Participants"), t.gettext("{n} participants", n=data.attendance_count)
            )
        )
    if data.guests:
        lines.append(_field(t.gettext("Guests"), ", ".join(escape(g) for g in data.guests)))
    return lines


def _status_line(t: Translator, data: MinutesData, language: str) -> str | None:
    if data.status == MinutesStatus.APPROVED.value and data.approved_at is not None:
        return t.gettext("Approved on {date}.", date=format_date(data.approved_at.date(), language))
    if data.status == MinutesStatus.DRAFT.value and data.objections_until is not None:
        return t.gettext(
            "Draft – objections possible until {when}.",
            when=_when(data.objections_until, None, language),
        )
    if data.status == MinutesStatus.NONE.value:
        return t.gettext("Draft, not yet published.")
    return None


def render_markdown(data: MinutesData, t: Translator) -> str:
    """The whole minutes as Markdown (what the chat shows and the .md file holds)."""
    language = t.language
    lines = [
        "# "
        + t.gettext("Minutes: {title}", title=escape(data.title))
        + f" (#{data.meeting_number})",
        "",
    ]
    header = [
        _field(t.gettext("Group"), escape(data.group_name)),
        _field(t.gettext("Date"), _when(data.starts_at, data.ends_at, language)),
    ]
    if data.location:
        header.append(_field(t.gettext("Place / access"), escape(data.location)))
    header += _participants(t, data)
    status = _status_line(t, data, language)
    if status:
        header.append(_field(t.gettext("Status"), status))
    if data.cancelled:
        header.append(_bold(t.gettext("The meeting was cancelled.")))
    # Two trailing spaces: a Markdown line break, so the header stays one block.
    lines += [line + "  " for line in header[:-1]] + header[-1:]
    lines += ["", "## " + t.gettext("Agenda"), ""]
    if data.tops:
        lines.append(
            "| "
            + " | ".join(
                (t.gettext("TOP"), t.gettext("Topic"), t.gettext("Presented by"), t.gettext("Time"))
            )
            + " |"
        )
        lines.append("|---|---|---|---|")
        for top in data.tops:
            when = _clock(top.planned_start, language) if top.planned_start else ""
            lines.append(
                f"| {top.number} | {_cell(top.title)} | {_cell(top.presenter or '')} | {when} |"
            )
    else:
        lines.append(_em(t.gettext("No agenda was recorded.")))
    for top in data.tops:
        quiet = not (top.notes or top.decisions or top.actions or top.continue_next_time)
        if quiet and top.kind != AgendaItemKind.TOPIC.value:
            continue  # a break or "Verschiedenes" where nothing was recorded
        lines += ["", *_top_section(t, top, language)]
    if data.unassigned is not None:
        lines += ["", *_top_section(t, data.unassigned, language)]
    lines += ["", "## " + t.gettext("Next meetings"), ""]
    if data.next_meetings:
        lines += [
            f"- {_when(m.starts_at, m.ends_at, language)} – {escape(m.title)}"
            for m in data.next_meetings
        ]
    else:
        lines.append(_em(t.gettext("None scheduled yet.")))
    lines += ["", "---", ""]
    writers = ", ".join(escape(name) for name in data.minute_takers) or "–"
    lines.append(t.gettext("Minutes taken by: {names}", names=writers))
    return "\n".join(lines) + "\n"


_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

_HTML_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; max-width: 50em; margin: 2em auto; line-height: 1.4; }}
table {{ border-collapse: collapse; margin: 0.5em 0; }}
th, td {{ border: 1px solid #999; padding: 0.2em 0.6em; text-align: left; }}
</style>
</head>
<body>
{body}</body>
</html>
"""


def render_html(data: MinutesData, t: Translator) -> str:
    """A standalone HTML page of the same minutes, for mail and print."""
    body = _MARKDOWN.render(render_markdown(data, t))
    title = t.gettext("Minutes: {title}", title=data.title)
    return _HTML_PAGE.format(lang=t.language, title=html.escape(title), body=body)


def file_stem(data: MinutesData, t: Translator) -> str:
    """``Protokoll-AG-Transfer-2021-06-15``: safe on every file system."""
    name = re.sub(r"[^\w-]+", "-", data.group_name, flags=re.ASCII).strip("-") or "AG"
    return t.gettext("Minutes") + f"-{name}-{data.starts_at.date().isoformat()}"


def minutes_documents(data: MinutesData, t: Translator) -> tuple[Document, Document]:
    """The minutes as a Markdown and an HTML file."""
    stem = file_stem(data, t)
    return (
        Document(f"{stem}.md", render_markdown(data, t).encode(), "text/markdown"),
        Document(f"{stem}.html", render_html(data, t).encode(), "text/html"),
    )
