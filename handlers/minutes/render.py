"""Pure renderer for the minutes (Protokoll): plain values in, Markdown and HTML out.

The layout follows the groups' real minutes: header, agenda table, per TOP the discussion
notes, decisions with their outcome and the action items, then "Nächste Termine" and the
minute-takers. User text is escaped for Markdown, and the HTML comes from markdown-it-py
with raw HTML switched off, so nothing a member types can become markup or script.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.core.dates import ParsedWhen, format_date, format_when
from bot.core.enums import (
    ActionItemStatus,
    AgendaItemKind,
    DecisionKind,
    DecisionOutcome,
    MinutesStatus,
)
from bot.core.i18n import Translator
from bot.core.messages import Document
from bot.core.rich_text import to_html
from bot.core.text import file_name_part, is_video_link, strip_bidi
from handlers.minutes.data import (
    MinutesAction,
    MinutesAddendum,
    MinutesData,
    MinutesDecision,
    MinutesTop,
)

_WHITESPACE = re.compile(r"\s+")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_LINE_START = re.compile(r"^(\s*)(?:([#>+=-])|(\d+)([.)]))", re.MULTILINE)


def _escape_line_start(match: re.Match[str]) -> str:
    if match.group(2):  # "# x", "- x", "> x": heading, list, quote
        return f"{match.group(1)}\\{match.group(2)}"
    return f"{match.group(1)}{match.group(3)}\\{match.group(4)}"  # "1. x": ordered list


def inline(text: str) -> str:
    """User text as literal inline Markdown, on one line: no emphasis, links or table cells
    sneak in."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _WHITESPACE.sub(" ", text))


def escape(text: str) -> str:
    """Like `inline`, for text that starts a line: no heading, list or quote either."""
    return _LINE_START.sub(_escape_line_start, inline(text))


def note_lines(text: str) -> str:
    """A note as typed, one line per line (spaces inside a line and empty lines merged):
    people list things line by line, and the minutes keep that in every format."""
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def _md_text(text: str, *, starts_line: bool) -> str:
    """User text as literal Markdown; its line breaks (only notes keep any) become hard
    breaks, each line escaped like a line start, indented to stay in a list item."""
    first, *more = text.split("\n")
    lines = [escape(first) if starts_line else inline(first), *(escape(line) for line in more)]
    return "  \n  ".join(lines)


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


def place_text(t: Translator, location: str) -> str:
    """ "Videokonferenz – https://…" for a link, as the groups' minutes say; else the place."""
    if is_video_link(location):
        return t.gettext("Video conference") + f" – {location.strip()}"
    return location


def outcome_suffix(t: Translator, decision: MinutesDecision) -> str:
    """ " (einstimmig)" after the kind, or nothing: an information takes no vote, and a
    decision typed without an outcome claims none (the groups write just "Beschluss: …")."""
    if decision.kind == DecisionKind.INFORMATION.value:
        return ""
    if decision.outcome == DecisionOutcome.NOT_GIVEN.value:
        return ""
    return f" ({outcome_text(t, decision)})"


def kind_text(t: Translator, kind: str, addressee: str | None) -> str:
    if kind == DecisionKind.RECOMMENDATION.value:
        return t.gettext("Recommendation to {body}", body=addressee or "?")
    if kind == DecisionKind.ASSIGNMENT.value:
        return t.gettext("Assignment to {body}", body=addressee or "?")
    if kind == DecisionKind.INFORMATION.value:
        return t.gettext("Information")
    return t.gettext("Decision")


def top_text(t: Translator, top: tuple[int, str] | None) -> str:
    """The TOP an entry was recorded under, from its (number, title), or "no TOP"."""
    if top is None:
        return t.gettext("no TOP")
    return t.gettext("TOP {number} {title}", number=top[0], title=top[1])


def status_text(t: Translator, status: str) -> str:
    return {
        ActionItemStatus.OPEN.value: t.gettext("open"),
        ActionItemStatus.DONE.value: t.gettext("done"),
        ActionItemStatus.DROPPED.value: t.gettext("dropped"),
    }.get(status, status)


# --- layout: the minutes as plain blocks, written out as Markdown or DOCX ------------------


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False
    italic: bool = False


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Fields:
    """``Label: value`` lines; a row without value is a bold remark."""

    rows: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class Para:
    runs: tuple[Run, ...]


@dataclass(frozen=True)
class Bullets:
    items: tuple[tuple[Run, ...], ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Rule:
    pass


Block = Heading | Fields | Para | Bullets | Table | Rule


def decision_runs(t: Translator, decision: MinutesDecision) -> tuple[Run, ...]:
    """**B-2021-07** Empfehlung an Strategiekreis (einstimmig): Text"""
    rest = f" {kind_text(t, decision.kind, decision.addressee)}{outcome_suffix(t, decision)}"
    rest += f": {decision.text}"
    if decision.amends_label:
        rest += " " + t.gettext("(amends {label})", label=decision.amends_label)
    return (Run(decision.label, bold=True), Run(rest))


def _names(names: tuple[str, ...]) -> str:
    """Names typed or stored by people, without bidi controls that would reorder the line."""
    return ", ".join(strip_bidi(name) for name in names)


def _action_table(t: Translator, actions: tuple[MinutesAction, ...], language: str) -> Table:
    rows = []
    for action in actions:
        what = " ".join(action.text.split())
        if action.decision_label:
            what += " " + t.gettext("(re {label})", label=action.decision_label)
        if action.status != ActionItemStatus.OPEN.value:
            what += f" – {status_text(t, action.status)}"
        due = format_date(action.due, language) if action.due else "–"
        rows.append((action.label, _names(action.assignees), what, due))
    header = (t.gettext("No."), t.gettext("Who"), t.gettext("What"), t.gettext("Due"))
    return Table(header, tuple(rows))


def _bold(text: str) -> Para:
    return Para((Run(text, bold=True),))


def _em(text: str) -> Para:
    return Para((Run(text, italic=True),))


def _top_section(t: Translator, top: MinutesTop, language: str) -> list[Block]:
    if top.kind == AgendaItemKind.BREAK.value:
        blocks: list[Block] = [Heading(2, top.title)]
    elif top.number is None:
        blocks = [Heading(2, t.gettext("Further items"))]
    else:
        blocks = [Heading(2, t.gettext("TOP {number}", number=top.number) + f": {top.title}")]
    if top.presenter:
        blocks.append(_em(t.gettext("Presented by") + f": {strip_bidi(top.presenter)}"))
    if top.notes:
        blocks.append(_bold(t.gettext("From the discussion")))
        blocks.append(Bullets(tuple((Run(note_lines(note)),) for note in top.notes)))
    if top.decisions:
        blocks.append(_bold(t.gettext("Decisions")))
        blocks.append(Bullets(tuple(decision_runs(t, d) for d in top.decisions)))
    if top.actions:
        blocks.append(_bold(t.gettext("Action items")))
        blocks.append(_action_table(t, top.actions, language))
    if top.continue_next_time:
        blocks.append(_em(t.gettext("To be continued at the next meeting.")))
    empty = not (top.notes or top.decisions or top.actions or top.continue_next_time)
    if empty and top.kind == AgendaItemKind.TOPIC.value:
        blocks.append(_em(t.gettext("Nothing recorded.")))
    return blocks


def _addendum_runs(t: Translator, addendum: MinutesAddendum, language: str) -> tuple[Run, ...]:
    """**Added on 30.11.2026 by Anna:** text"""
    day = format_date(addendum.created_at.date(), language)
    head = (
        t.gettext("Added on {date} by {name}:", date=day, name=addendum.author)
        if addendum.author
        else t.gettext("Added on {date}:", date=day)
    )
    return (Run(head, bold=True), Run(" " + " ".join(addendum.text.split())))


def _participants(t: Translator, data: MinutesData) -> list[tuple[str, str | None]]:
    """Everyone present adds up: the count is members, people named and guests (or the
    head count when that is higher); "Name, Organisation" entries are separated by ";"."""
    rows: list[tuple[str, str | None]] = []
    everyone = len(data.participants) + len(data.guests)
    count = max(everyone, data.attendance_count or 0)
    if data.participants:
        separator = "; " if any(", " in name for name in data.participants) else ", "
        names = separator.join(strip_bidi(name) for name in data.participants)
        rows.append((t.gettext("Participants ({n})", n=count), names))
    elif count:
        rows.append((t.gettext("Participants"), str(count)))
    if data.guests:
        rows.append((t.gettext("Guests"), _names(data.guests)))
    return rows


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


def layout(data: MinutesData, t: Translator) -> list[Block]:
    """The minutes as blocks of plain text, in the order of the groups' real minutes."""
    language = t.language
    blocks: list[Block] = [
        Heading(1, t.gettext("Minutes: {title}", title=data.title) + f" (#{data.meeting_number})")
    ]
    header: list[tuple[str, str | None]] = [
        (t.gettext("Group"), data.group_name),
        (t.gettext("Date"), _when(data.starts_at, data.ends_at, language)),
    ]
    if data.location:
        header.append((t.gettext("Place"), place_text(t, data.location)))
    header += _participants(t, data)
    status = _status_line(t, data, language)
    if status:
        header.append((t.gettext("Status"), status))
    if data.cancelled:
        header.append((t.gettext("The meeting was cancelled."), None))
    blocks += [Fields(tuple(header)), Heading(2, t.gettext("Agenda"))]
    if data.tops:
        header_row = (
            t.gettext("TOP"),
            t.gettext("Topic"),
            t.gettext("Presented by"),
            t.gettext("Time"),
        )
        rows = tuple(
            (
                str(top.number) if top.number is not None else "",
                top.title,
                strip_bidi(top.presenter or ""),
                _clock(top.planned_start, language) if top.planned_start else "",
            )
            for top in data.tops
        )
        blocks.append(Table(header_row, rows))
    else:
        blocks.append(_em(t.gettext("No agenda was recorded.")))
    for top in data.tops:
        quiet = not (top.notes or top.decisions or top.actions or top.continue_next_time)
        if quiet and top.kind != AgendaItemKind.TOPIC.value:
            continue  # a break or "Verschiedenes" where nothing was recorded
        blocks += _top_section(t, top, language)
    if data.unassigned is not None:
        blocks += _top_section(t, data.unassigned, language)
    blocks.append(Heading(2, t.gettext("Next meetings")))
    if data.next_meetings:
        blocks.append(
            Bullets(
                tuple(
                    (Run(f"{_when(m.starts_at, m.ends_at, language)} – {m.title}"),)
                    for m in data.next_meetings
                )
            )
        )
    else:
        blocks.append(_em(t.gettext("None scheduled yet.")))
    writers = _names(data.minute_takers) or "–"
    blocks += [Rule(), Para((Run(t.gettext("Minutes taken by: {names}", names=writers)),))]
    if data.addenda:
        # After the signature: what was approved stays as it was, later changes are apart.
        blocks.append(Heading(2, t.gettext("Addenda (after approval)")))
        blocks.append(Bullets(tuple(_addendum_runs(t, a, language) for a in data.addenda)))
    return blocks


# --- Markdown ----------------------------------------------------------------------------------


def _md_runs(runs: tuple[Run, ...]) -> str:
    out = []
    for index, run in enumerate(runs):
        text = _md_text(run.text, starts_line=index == 0)
        if run.bold:
            text = f"**{text}**"
        if run.italic:
            text = f"*{text}*"
        out.append(text)
    return "".join(out)


def _md_block(block: Block) -> str:
    if isinstance(block, Heading):
        return "#" * block.level + " " + inline(block.text)
    if isinstance(block, Fields):
        lines = [
            f"**{inline(label)}:** {inline(value)}" if value is not None else f"**{inline(label)}**"
            for label, value in block.rows
        ]
        # Two trailing spaces: a Markdown line break, so the header stays one block.
        return "  \n".join(lines)
    if isinstance(block, Para):
        return _md_runs(block.runs)
    if isinstance(block, Bullets):
        return "\n".join(f"- {_md_runs(item)}" for item in block.items)
    if isinstance(block, Table):
        lines = ["| " + " | ".join(inline(cell) for cell in block.header) + " |"]
        lines.append("|" + "---|" * len(block.header))
        lines += ["| " + " | ".join(inline(cell) for cell in row) + " |" for row in block.rows]
        return "\n".join(lines)
    return "---"


def render_markdown(data: MinutesData, t: Translator) -> str:
    """The whole minutes as Markdown (what the chat shows and the .md file holds)."""
    return "\n\n".join(_md_block(block) for block in layout(data, t)) + "\n"


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
    body = to_html(render_markdown(data, t))  # the same renderer as the chat's formatting
    title = t.gettext("Minutes: {title}", title=data.title)
    return _HTML_PAGE.format(lang=t.language, title=html.escape(title), body=body)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str) -> str:
    """Word files are XML: control characters someone pasted cannot go in."""
    return _NOT_XML.sub("", text)


def render_docx(data: MinutesData, t: Translator) -> bytes:
    """The same minutes as a Word file (python-docx), for offices that file minutes as DOCX.

    Works in memory; only python-docx's own template is read. Imported here: python-docx
    (with lxml) is a third of a second of every start-up, for a file few ask for."""
    import docx

    document = docx.Document()
    properties = document.core_properties
    properties.title = _xml(t.gettext("Minutes: {title}", title=data.title))
    properties.language = t.language
    # Fixed dates (the meeting's), so the file depends only on the minutes, not on the clock.
    properties.created = properties.modified = data.starts_at.astimezone(UTC).replace(tzinfo=None)
    for block in layout(data, t):
        if isinstance(block, Heading):
            document.add_heading(_xml(block.text), level=block.level)
        elif isinstance(block, Fields):
            for label, value in block.rows:
                paragraph = document.add_paragraph()
                paragraph.add_run(_xml(label) + (":" if value is not None else "")).bold = True
                if value is not None:
                    paragraph.add_run(" " + _xml(value))
        elif isinstance(block, Para | Bullets):
            items = block.items if isinstance(block, Bullets) else (block.runs,)
            for runs in items:
                style = "List Bullet" if isinstance(block, Bullets) else None
                paragraph = document.add_paragraph(style=style)
                for run in runs:
                    added = paragraph.add_run(_xml(run.text))
                    added.bold, added.italic = run.bold or None, run.italic or None
        elif isinstance(block, Table):
            table = document.add_table(rows=1, cols=len(block.header))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, block.header, strict=True):
                cell.paragraphs[0].add_run(_xml(text)).bold = True
            for row in block.rows:
                for cell, text in zip(table.add_row().cells, row, strict=True):
                    cell.text = _xml(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return _zip_entries_dated(buffer.getvalue(), data.starts_at.astimezone(UTC))


def _zip_entries_dated(content: bytes, when: datetime) -> bytes:
    """The same zip with every entry dated `when`: python-docx stamps entries with the time of
    saving, so two files of the same minutes differed whenever a save crossed a second."""
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            dated = zipfile.ZipInfo(entry.filename, date_time=stamp)
            dated.compress_type = entry.compress_type
            dated.external_attr = entry.external_attr
            target.writestr(dated, source.read(entry.filename))
    return out.getvalue()


def file_stem(data: MinutesData, t: Translator) -> str:
    """``Protokoll-AG-Qualitaetssicherung-2021-06-15``: safe on every file system."""
    name = file_name_part(data.group_name) or "AG"
    return t.gettext("Minutes") + f"-{name}-{data.starts_at.date().isoformat()}"


DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def minutes_documents(data: MinutesData, t: Translator) -> tuple[Document, Document, Document]:
    """The minutes as Markdown, HTML and Word files."""
    stem = file_stem(data, t)
    return (
        Document(f"{stem}.md", render_markdown(data, t).encode(), "text/markdown"),
        Document(f"{stem}.html", render_html(data, t).encode(), "text/html"),
        Document(f"{stem}.docx", render_docx(data, t), DOCX_MIME),
    )
