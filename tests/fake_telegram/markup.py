"""Telegram's text formatting: HTML, MarkdownV2 and legacy Markdown (or explicit entities)
turned into the plain text and the entities a client shows, with Telegram's error texts."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fake_telegram.protocol import JSON, as_json, bad_request, utf16_len


def _byte_offset(text: str, index: int) -> int:
    """Telegram reports parse errors at UTF-8 byte offsets."""
    return len(text[:index].encode("utf-8", "surrogatepass"))


class _ParseError(Exception):
    """Text after "Bad Request: can't parse entities: "."""


@dataclass
class _Ent:
    type: str
    start: int  # str index into the plain text
    end: int
    extra: JSON = field(default_factory=dict)


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]+);")
_HTML_ATTR_RE = re.compile(r"""\s*([a-zA-Z_][\w-]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")


def _html_unescape(text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        body = match.group(1)
        if body.startswith(("#x", "#X")):
            return chr(int(body[2:], 16))
        if body.startswith("#"):
            return chr(int(body[1:]))
        return _HTML_NAMED.get(body.lower(), match.group(0))

    return _HTML_ENTITY_RE.sub(repl, text)


def _parse_html(src: str) -> tuple[str, list[_Ent]]:
    """Telegram's HTML subset; rejects unknown/unclosed/misnested tags like the real API."""
    out: list[str] = []
    length = 0
    ents: list[_Ent] = []
    stack: list[tuple[str, int, JSON | None]] = []  # (tag, plain start, entity extra or None)
    i, n = 0, len(src)
    while i < n:
        char = src[i]
        if char == "&":
            match = _HTML_ENTITY_RE.match(src, i)
            if match:
                decoded = _html_unescape(match.group(0))
                out.append(decoded)
                length += len(decoded)
                i = match.end()
                continue
        elif char == "<":
            if src.startswith("</", i):
                close = src.find(">", i)
                if close == -1:
                    raise _ParseError(f"Unclosed end tag at byte offset {_byte_offset(src, i)}")
                name = src[i + 2 : close].strip().lower()
                if not stack:
                    raise _ParseError(f"Unexpected end tag at byte offset {_byte_offset(src, i)}")
                tag, start, extra = stack.pop()
                if name != tag:
                    raise _ParseError(f'Can\'t find end tag corresponding to start tag "{tag}"')
                if extra is not None and length > start:
                    kind = extra.pop("_type")
                    ents.append(_Ent(kind, start, length, extra))
                i = close + 1
                continue
            name_match = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*").match(src, i + 1)
            name = name_match.group(0).lower() if name_match else ""
            if name not in _HTML_TAGS:
                raise _ParseError(
                    f'Unsupported start tag "{name}" at byte offset {_byte_offset(src, i)}'
                )
            pos = i + 1 + len(name)
            attrs: dict[str, str] = {}
            while True:
                while pos < n and src[pos].isspace():
                    pos += 1
                if pos >= n:
                    raise _ParseError(f"Unclosed start tag at byte offset {_byte_offset(src, i)}")
                if src[pos] == ">":
                    break
                if src.startswith("/>", pos):
                    raise _ParseError(
                        f'Unsupported start tag "{name}/" at byte offset {_byte_offset(src, i)}'
                    )
                attr = _HTML_ATTR_RE.match(src, pos)
                if not attr or attr.end() == pos:
                    raise _ParseError(
                        f'Empty attribute name in the tag "{name}" at byte offset '
                        f"{_byte_offset(src, pos)}"
                    )
                raw_value = attr.group(2) or ""
                if raw_value[:1] in {'"', "'"}:
                    raw_value = raw_value[1:-1]
                attrs[attr.group(1).lower()] = _html_unescape(raw_value)
                pos = attr.end()
            extra: JSON | None = {"_type": _HTML_TAGS[name]}
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise _ParseError('Tag "span" must have class "tg-spoiler"')
            if name == "a":
                extra = {"_type": "text_link", "url": attrs["href"]} if attrs.get("href") else None
            elif name == "tg-emoji":
                if not attrs.get("emoji-id"):
                    raise _ParseError('Tag "tg-emoji" must have attribute "emoji-id"')
                extra["custom_emoji_id"] = attrs["emoji-id"]
            elif name == "blockquote" and "expandable" in attrs:
                extra["_type"] = "expandable_blockquote"
            elif name == "code" and stack and stack[-1][0] == "pre":
                # <pre><code class="language-x"> is one pre entity with a language
                pre_extra = stack[-1][2]
                language = attrs.get("class", "")
                if pre_extra is not None and language.startswith("language-"):
                    pre_extra["language"] = language.removeprefix("language-")
                extra = None
            stack.append((name, length, extra))
            i = pos + 1
            continue
        out.append(char)
        length += 1
        i += 1
    if stack:
        raise _ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), ents


_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}
_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")


def _reserved(char: str) -> _ParseError:
    return _ParseError(
        f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
    )


def _parse_markdown_v2(src: str) -> tuple[str, list[_Ent]]:
    """MarkdownV2 as documented: reserved characters must be escaped, entities must nest."""
    out: list[str] = []
    ents: list[_Ent] = []
    stack: list[tuple[str, int, int]] = []  # (type, plain start, src index)
    quote: tuple[int, int, bool] | None = None  # (plain start, src index, expandable)
    i, n = 0, len(src)

    def plain_len() -> int:
        return sum(len(part) for part in out)

    def toggle(kind: str, width: int) -> None:
        nonlocal i
        if any(entry[0] == kind for entry in stack):
            if stack[-1][0] != kind:
                top = stack[-1]
                raise _ParseError(
                    f"Can't find end of {_MDV2_NAMES[top[0]]} entity at byte offset "
                    f"{_byte_offset(src, top[2])}"
                )
            _, start, _ = stack.pop()
            if plain_len() > start:
                ents.append(_Ent(kind, start, plain_len()))
        else:
            stack.append((kind, plain_len(), i))
        i += width

    def read_until(closing: str, start: int, what: str) -> tuple[str, int]:
        """Read escaped content up to ``closing``; return (content, index after closing)."""
        buf: list[str] = []
        j = start
        while j < n:
            if src[j] == "\\" and j + 1 < n:
                buf.append(src[j + 1])
                j += 2
                continue
            if src.startswith(closing, j):
                return "".join(buf), j + len(closing)
            buf.append(src[j])
            j += 1
        raise _ParseError(f"Can't find end of {what} entity at byte offset {_byte_offset(src, i)}")

    while i < n:
        at_line_start = i == 0 or src[i - 1] == "\n"
        if at_line_start:
            if src.startswith("**>", i) or src.startswith(">", i):
                expandable = src.startswith("**>", i)
                if quote is None:
                    quote = (plain_len(), i, expandable)
                i += 3 if expandable else 1
                continue
            if quote is not None:
                end = plain_len() - (1 if out and out[-1].endswith("\n") else 0)
                kind = "expandable_blockquote" if quote[2] else "blockquote"
                if end > quote[0]:
                    ents.append(_Ent(kind, quote[0], end))
                quote = None
        char = src[i]
        if char == "\\":
            if i + 1 < n and 0 < ord(src[i + 1]) <= 126:
                out.append(src[i + 1])
                i += 2
                continue
            raise _reserved("\\")
        if char == "`":
            if src.startswith("```", i):
                content, after = read_until("```", i + 3, "Pre")
                language = ""
                first, sep, rest = content.partition("\n")
                if sep and first and " " not in first:
                    language, content = first, rest
                start = plain_len()
                out.append(content)
                if content:
                    extra = {"language": language} if language else {}
                    ents.append(_Ent("pre", start, start + len(content), extra))
                i = after
                continue
            content, after = read_until("`", i + 1, "Code")
            start = plain_len()
            out.append(content)
            if content:
                ents.append(_Ent("code", start, start + len(content)))
            i = after
            continue
        if char == "*":
            toggle("bold", 1)
            continue
        if char == "~":
            toggle("strikethrough", 1)
            continue
        if char == "_":
            top_is_italic = bool(stack) and stack[-1][0] == "italic"
            if src.startswith("__", i) and not top_is_italic:
                toggle("underline", 2)
            else:
                toggle("italic", 1)
            continue
        if char == "|":
            if not src.startswith("||", i):
                raise _reserved("|")
            end_of_line = i + 2 >= n or src[i + 2] == "\n"
            spoiler_open = any(entry[0] == "spoiler" for entry in stack)
            if quote is not None and quote[2] and end_of_line and not spoiler_open:
                i += 2  # end marker of an expandable block quotation
                continue
            toggle("spoiler", 2)
            continue
        if char == "[" or (char == "!" and src.startswith("![", i)):
            kind = "custom_emoji" if char == "!" else "text_link"
            stack.append((kind, plain_len(), i))
            i += 2 if char == "!" else 1
            continue
        if char == "]":
            if not stack or stack[-1][0] not in {"text_link", "custom_emoji"}:
                raise _reserved("]")
            kind, start, src_start = stack.pop()
            if not src.startswith("(", i + 1):
                raise _ParseError(
                    f"Can't find end of a URL at byte offset {_byte_offset(src, src_start)}"
                )
            url, after = read_until(")", i + 2, "URL")
            if plain_len() > start:
                extra = {"url": url} if kind == "text_link" else {}
                if kind == "custom_emoji":
                    extra["custom_emoji_id"] = url.partition("id=")[2]
                ents.append(_Ent(kind, start, plain_len(), extra))
            i = after
            continue
        if char in _MDV2_RESERVED:
            raise _reserved(char)
        out.append(char)
        i += 1
    if quote is not None:
        kind = "expandable_blockquote" if quote[2] else "blockquote"
        if plain_len() > quote[0]:
            ents.append(_Ent(kind, quote[0], plain_len()))
    if stack:
        kind, _, src_start = stack[-1]
        raise _ParseError(
            f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset "
            f"{_byte_offset(src, src_start)}"
        )
    return "".join(out), ents


def _parse_markdown(src: str) -> tuple[str, list[_Ent]]:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    out: list[str] = []
    ents: list[_Ent] = []
    i, n = 0, len(src)

    def unclosed() -> _ParseError:
        return _ParseError(
            f"Can't find end of the entity starting at byte offset {_byte_offset(src, i)}"
        )

    while i < n:
        char = src[i]
        start = sum(len(part) for part in out)
        if char == "\\" and i + 1 < n and src[i + 1] in "_*`[":
            out.append(src[i + 1])
            i += 2
        elif src.startswith("```", i):
            close = src.find("```", i + 3)
            if close == -1:
                raise unclosed()
            content = src[i + 3 : close]
            first, sep, rest = content.partition("\n")
            extra: JSON = {}
            if sep and first and " " not in first:
                extra, content = {"language": first}, rest
            out.append(content)
            if content:
                ents.append(_Ent("pre", start, start + len(content), extra))
            i = close + 3
        elif char in "*_`":
            close = src.find(char, i + 1)
            if close == -1:
                raise unclosed()
            content = src[i + 1 : close]
            out.append(content)
            kind = {"*": "bold", "_": "italic", "`": "code"}[char]
            if content:
                ents.append(_Ent(kind, start, start + len(content)))
            i = close + 1
        elif char == "[":
            close = src.find("]", i + 1)
            if close == -1:
                raise unclosed()
            if src.startswith("(", close + 1) and src.find(")", close + 2) != -1:
                url_end = src.find(")", close + 2)
                content = src[i + 1 : close]
                out.append(content)
                if content:
                    url = src[close + 2 : url_end]
                    ents.append(_Ent("text_link", start, start + len(content), {"url": url}))
                i = url_end + 1
            else:
                out.append(src[i : close + 1])
                i = close + 1
        else:
            out.append(char)
            i += 1
    return "".join(out), ents


def _finish_entities(text: str, ents: list[_Ent]) -> tuple[str, list[JSON]]:
    """Trim surrounding whitespace like Telegram and convert offsets to UTF-16 units."""
    lead = len(text) - len(text.lstrip())
    stripped = text.strip()
    result: list[JSON] = []
    for ent in ents:
        start = min(max(ent.start - lead, 0), len(stripped))
        end = min(max(ent.end - lead, 0), len(stripped))
        if end <= start:
            continue
        offset = utf16_len(stripped[:start])
        entity = {"type": ent.type, "offset": offset, "length": utf16_len(stripped[start:end])}
        entity.update(ent.extra)
        result.append(entity)
    result.sort(key=lambda e: (e["offset"], -e["length"]))
    return stripped, result


_PARSERS: dict[str, Callable[[str], tuple[str, list[_Ent]]]] = {
    "html": _parse_html,
    "markdownv2": _parse_markdown_v2,
    "markdown": _parse_markdown,
}


def format_text(text: str, parse_mode: str | None, entities: Any = None) -> tuple[str, list[JSON]]:
    """Apply parse_mode (or explicit entities) and return Telegram's (text, entities)."""
    mode = (parse_mode or "").strip().lower()
    if mode:
        parser = _PARSERS.get(mode)
        if parser is None:
            raise bad_request("unsupported parse_mode")
        try:
            plain, ents = parser(text)
        except _ParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from exc
        return _finish_entities(plain, ents)
    given = as_json(entities, "can't parse entities JSON object") if entities else []
    if not isinstance(given, list) or not all(isinstance(e, dict) for e in given):
        raise bad_request("can't parse entities JSON object")
    plain_ents: list[_Ent] = []
    units = utf16_len(text)
    for raw in given:
        offset, length = raw.get("offset"), raw.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or "type" not in raw:
            raise bad_request("can't parse entities: entity is invalid")
        if offset < 0 or length <= 0 or offset + length > units:
            continue  # Telegram silently drops out-of-range entities
        # convert UTF-16 offsets back to str indices so trimming can shift them
        start = len(text.encode("utf-16-le")[: offset * 2].decode("utf-16-le", "ignore"))
        end = len(text.encode("utf-16-le")[: (offset + length) * 2].decode("utf-16-le", "ignore"))
        extra = {k: v for k, v in raw.items() if k not in {"type", "offset", "length"}}
        plain_ents.append(_Ent(str(raw["type"]), start, end, extra))
    return _finish_entities(text, plain_ents)
