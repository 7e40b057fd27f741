"""Markdown replies (the minutes, and other long formatted text) as each platform shows them.

One parser, markdown-it-py (CommonMark with tables, raw HTML off), renders all of it: the
minutes' HTML file, Matrix's `formatted_body` (real HTML: headings, tables, lists), a readable
plain `body`, and Telegram's HTML parse mode, which knows only inline tags (headings become
bold, tables become lists). Long text is split only between sections, never between a heading
and what follows it. Pure: no I/O.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

from bot.core.text import split_text

# `breaks`: a line break typed inside a note stays a line break (CommonMark would merge it).
MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable(
    "table"
)
TEXT_FORMAT = "text_format"  # OutgoingMessage.extra key; its value MARKDOWN_FORMAT
MARKDOWN_FORMAT = "markdown"


def to_html(markdown: str) -> str:
    """Full HTML (the minutes' file, Matrix's formatted_body)."""
    return MARKDOWN.render(markdown)


@dataclass(frozen=True)
class _Style:
    """How one target writes inline markup; empty tags: plain text."""

    escape: Callable[[str], str]
    bold: tuple[str, str] = ("", "")
    italic: tuple[str, str] = ("", "")
    code: tuple[str, str] = ("", "")
    pre: tuple[str, str] = ("", "")
    strike: tuple[str, str] = ("", "")
    links: bool = False


_PLAIN = _Style(escape=lambda text: text)
_TELEGRAM = _Style(
    escape=lambda text: html.escape(text, quote=False),
    bold=("<b>", "</b>"),
    italic=("<i>", "</i>"),
    code=("<code>", "</code>"),
    pre=("<pre>", "</pre>"),
    strike=("<s>", "</s>"),
    links=True,
)


def to_plain(markdown: str) -> str:
    """Readable text without markup: what a Matrix client without HTML shows (`body`)."""
    return _render(MARKDOWN.parse(markdown), _PLAIN)


def to_telegram_html(markdown: str) -> str:
    """Telegram's HTML parse mode: only its inline tags, balanced and escaped."""
    return _render(MARKDOWN.parse(markdown), _TELEGRAM)


def split_markdown(markdown: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """Markdown cut into parts whose rendering (`measure`) fits `limit`: between sections
    first, then between the blocks of one section (a heading stays with its first block);
    only a single block longer than the limit is cut inside."""
    sections = _sections(markdown)
    parts: list[str] = []
    current = ""
    for section in sections:
        candidate = f"{current}\n\n{section}" if current else section
        if measure(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        if measure(section) <= limit:
            current = section
            continue
        current = ""
        for block in _blocks_of(section):
            candidate = f"{current}\n\n{block}" if current else block
            if measure(candidate) <= limit:
                current = candidate
                continue
            if current:
                parts.append(current)
            current = ""
            if measure(block) <= limit:
                current = block
            else:  # one paragraph or table alone is too long: cut it at lines
                parts += _cut_block(block, limit, measure)
    if current:
        parts.append(current)
    return parts or [""]


def _cut_block(block: str, limit: int, measure: Callable[[str], int]) -> list[str]:
    """One block too long for a message: a table is cut between rows (each part repeats
    its header row), anything else at lines; a heading stays on the first part."""
    heading = ""
    if block.startswith("#"):
        heading, _, block = block.partition("\n")
        block = block.strip("\n")
    lines = block.split("\n")
    if len(lines) > 2 and lines[0].startswith("|") and set(lines[1]) <= set("|-: "):
        header, rows = "\n".join(lines[:2]), lines[2:]
        pieces: list[str] = []
        current = header
        for row in rows:
            first = not pieces and heading
            candidate = f"{current}\n{row}"
            if (
                current != header
                and measure(f"{heading}\n\n{candidate}" if first else candidate) > limit
            ):
                pieces.append(current)
                current = f"{header}\n{row}"
            else:
                current = candidate
        pieces.append(current)
    else:
        pieces = split_text(block, max(1, limit // 2))
    if heading:
        pieces[0] = f"{heading}\n\n{pieces[0]}"
    return pieces


def _top_blocks(markdown: str) -> list[tuple[bool, str]]:
    """(is a heading, source) of each top-level block, a heading joined with the block
    after it."""
    lines = markdown.split("\n")
    blocks: list[tuple[bool, str]] = []
    for token in MARKDOWN.parse(markdown):
        if token.level != 0 or token.map is None or token.nesting == -1:
            continue
        start, end = token.map
        blocks.append((token.type == "heading_open", "\n".join(lines[start:end]).strip("\n")))
    joined: list[tuple[bool, str]] = []
    for heading, source in blocks:
        if joined and joined[-1][0] and not joined[-1][1].count("\n\n"):
            joined[-1] = (True, joined[-1][1] + "\n\n" + source)  # heading + its first block
        else:
            joined.append((heading, source))
    return joined


def _sections(markdown: str) -> list[str]:
    """Each heading with everything up to the next heading (text before the first, too)."""
    sections: list[str] = []
    for heading, source in _top_blocks(markdown):
        if heading or not sections:
            sections.append(source)
        else:
            sections[-1] += "\n\n" + source
    return sections


def _blocks_of(section: str) -> list[str]:
    return [source for _, source in _top_blocks(section)]


# --- rendering ------------------------------------------------------------------------------


def _render(tokens: Sequence[Token], style: _Style) -> str:
    out: list[str] = []
    lists: list[list[int]] = []  # per open list: [next number] (0 for bullets)
    table: list[list[str]] | None = None
    index = 0
    while index < len(tokens):
        token = tokens[index]
        kind = token.type
        if kind == "heading_open":
            inline = _inline(tokens[index + 1], style)
            out.append(f"{style.bold[0]}{inline}{style.bold[1]}\n\n")
            index += 3
            continue
        if kind == "inline":
            if table is not None:
                table[-1].append(_inline(token, style))
            elif lists:  # a line break inside an item stays inside it
                out.append(_inline(token, style).replace("\n", "\n" + "  " * len(lists)))
            else:
                out.append(_inline(token, style))
        elif kind == "paragraph_close":
            if not lists:
                out.append("\n\n")
            elif not token.hidden:
                out.append("\n")
        elif kind in ("bullet_list_open", "ordered_list_open"):
            start = int(str(token.attrGet("start") or 1)) if kind == "ordered_list_open" else 0
            lists.append([start])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            if not lists:
                out.append("\n")
        elif kind == "list_item_open":
            depth = "  " * (len(lists) - 1)
            number = lists[-1][0]
            if number:
                out.append(f"{depth}{number}. ")
                lists[-1][0] += 1
            else:
                out.append(f"{depth}• ")
        elif kind == "list_item_close":
            if not out or not out[-1].endswith("\n"):
                out.append("\n")
        elif kind == "table_open":
            table = []
        elif kind == "tr_open" and table is not None:
            table.append([])
        elif kind == "table_close" and table is not None:
            out.append(_table(table, style))
            table = None
        elif kind in ("fence", "code_block"):
            code = style.escape(token.content.rstrip("\n"))
            out.append(f"{style.pre[0]}{code}{style.pre[1]}\n\n")
        elif kind == "hr":
            out.append("――――――――\n\n")
        index += 1
    return "".join(out).strip("\n") + "\n" if out else ""


def _table(rows: list[list[str]], style: _Style) -> str:
    """A table as a list: the header once (italic), then one line per row with its cells
    joined by dashes – readable on a phone, where aligned columns would wrap."""
    if not rows:
        return ""
    header, *body = rows
    lines = [f"{style.italic[0]}{' – '.join(c for c in header if c)}{style.italic[1]}"]
    lines += ["• " + " – ".join(cell for cell in row if cell) for row in body]
    return "\n".join(lines) + "\n\n"


def _inline(token: Token, style: _Style) -> str:
    out: list[str] = []
    links: list[str] = []
    for child in token.children or []:
        kind = child.type
        if kind == "text":
            out.append(style.escape(child.content))
        elif kind in ("softbreak", "hardbreak"):
            out.append("\n")
        elif kind == "code_inline":
            out.append(f"{style.code[0]}{style.escape(child.content)}{style.code[1]}")
        elif kind in ("strong_open", "strong_close"):
            out.append(style.bold[kind.endswith("close")])
        elif kind in ("em_open", "em_close"):
            out.append(style.italic[kind.endswith("close")])
        elif kind in ("s_open", "s_close"):
            out.append(style.strike[kind.endswith("close")])
        elif kind == "link_open" and style.links:
            href = html.escape(str(child.attrGet("href") or ""), quote=True)
            out.append(f'<a href="{href}">')
        elif kind == "link_close" and style.links:
            out.append("</a>")
        elif kind == "link_open":  # plain text: the address after the words, if it differs
            links.append(str(child.attrGet("href") or ""))
        elif kind == "link_close" and links:
            href = links.pop()
            words = out[-1] if out else ""
            if href and href not in words:
                out.append(f" ({style.escape(href)})")
        elif kind == "image":
            out.append(style.escape(child.content))
    return "".join(out)
