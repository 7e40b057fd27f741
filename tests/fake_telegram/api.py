"""A local fake of the Telegram Bot API, served over real HTTP with aiohttp.

Why: no Telegram server is reachable from CI, and mocking python-telegram-bot (PTB) internals
would hide wire-level mistakes (broken HTML, oversized callback_data, flood limits, webhook
secrets).  This server speaks the same HTTP protocol as ``api.telegram.org``, so the real PTB
``Application`` runs unmodified against it, while tests drive a small simulated world (users,
groups, button presses) and inspect what the bot sent.

All helpers must be called from the event loop that runs the server (the test's loop).
Typical use (stop the bot before the fake, or PTB will log connection errors while retrying)::

    async with FakeTelegram() as fake:
        fake.add_user(1, "Alice", "alice")
        app = ApplicationBuilder().token(fake.token).base_url(fake.base_url) \\
            .base_file_url(fake.base_file_url).build()
        ...  # start app + updater.start_polling(poll_interval=0, timeout=1)
        fake.send_text(1, 1, "/start")
        [reply] = await fake.wait_for_messages(chat_id=1)
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import copy
import itertools
import json
import math
import mimetypes
import re
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, NamedTuple, Self
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

JSON = dict[str, Any]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "reply_parameters",
        "link_preview_options",
    }
)
_REQUEST: contextvars.ContextVar[web.Request] = contextvars.ContextVar("fake_telegram_request")


def _client_gone() -> bool:
    """True when the caller already hung up (e.g. PTB cancelled a long poll on shutdown)."""
    request = _REQUEST.get(None)
    return request is not None and (request.transport is None or request.transport.is_closing())


# --------------------------------------------------------------------------------------------
# Public records
# --------------------------------------------------------------------------------------------


class ApiCall(NamedTuple):
    """One request the bot made. Scalars stay as sent (PTB form-encodes, so ``"42"``);
    JSON-valued fields (reply_markup, entities, ...) are decoded; uploads are summarised."""

    method: str
    params: JSON


class FailedCall(NamedTuple):
    """A request answered with ok=false; kept so timeouts can explain *why* nothing arrived."""

    method: str
    params: JSON
    status: int
    description: str


@dataclass
class SentDocument:
    """A file uploaded by the bot via sendDocument."""

    filename: str
    mime_type: str
    data: bytes
    file_id: str
    file_unique_id: str


@dataclass
class MessageVersion:
    """One state of a bot message; ``SentMessage.history`` keeps all of them (first = as sent)."""

    method: str
    text: str | None
    entities: list[JSON]
    reply_markup: JSON | None
    at: float


@dataclass
class SentMessage:
    """A message the bot sent, kept up to date on edits and deletion.

    ``text`` is what the user sees (text, or caption for documents) *after* parse_mode was
    applied; ``raw_text`` is exactly what the bot sent.
    """

    chat_id: int
    message_id: int
    text: str | None
    parse_mode: str | None
    reply_markup: JSON | None
    reply_to_message_id: int | None
    document: SentDocument | None
    method: str
    at: float
    raw_text: str | None = None
    entities: list[JSON] = field(default_factory=list)
    history: list[MessageVersion] = field(default_factory=list)
    deleted: bool = False
    payload: JSON = field(default_factory=dict, repr=False)

    @property
    def edited(self) -> bool:
        """True once editMessageText/editMessageReplyMarkup changed the message."""
        return len(self.history) > 1

    @property
    def buttons(self) -> list[JSON]:
        """Inline keyboard buttons, row by row flattened (empty without inline keyboard)."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [button for row in rows for button in row]

    @property
    def callback_data(self) -> list[str]:
        """All callback_data values of the inline keyboard, for press_button()."""
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]


@dataclass
class AnsweredCallback:
    """An answerCallbackQuery call that Telegram accepted."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int
    at: float


@dataclass
class RateLimitConfig:
    """Telegram's documented flood limits; OFF by default so ordinary tests stay fast."""

    enabled: bool = False
    global_per_s: int = 30
    per_chat_per_s: int = 1
    per_group_per_min: int = 20


# --------------------------------------------------------------------------------------------
# Errors and small helpers
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """Raised by method handlers; rendered as Telegram's ``{"ok": false, ...}`` body."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def bad_request(reason: str) -> ApiError:
    """400 with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    """403 with Telegram's "Forbidden: " prefix."""
    return ApiError(403, f"Forbidden: {reason}")


class _Ok(NamedTuple):
    """A result plus the optional ``description`` Telegram adds (e.g. "Webhook was set")."""

    result: Any
    description: str


class _Upload(NamedTuple):
    filename: str
    mime_type: str
    data: bytes


class _Signal:
    """Broadcast wake-up usable from sync helpers (asyncio.Condition needs an awaited lock).

    Callers check their condition, then wait; there is no await in between, so no wake-up
    can be lost on the single-threaded loop.
    """

    def __init__(self) -> None:
        self._events: set[asyncio.Event] = set()

    def fire(self) -> None:
        for event in self._events:
            event.set()

    async def wait(self, seconds: float | None) -> None:
        """Wait for the next fire() or until ``seconds`` elapsed (None = forever)."""
        if seconds is not None and seconds <= 0:
            return
        event = asyncio.Event()
        self._events.add(event)
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await event.wait()
        finally:
            self._events.discard(event)


def _utf16_len(text: str) -> int:
    """Telegram measures entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _byte_offset(text: str, index: int) -> int:
    """Telegram reports parse errors at UTF-8 byte offsets."""
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _as_int(value: Any, error: str) -> int:
    if isinstance(value, bool):
        raise bad_request(error)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return int(value.strip())
    raise bad_request(error)


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def _as_json(value: Any, error: str) -> Any:
    """Nested parameters arrive JSON-encoded inside form fields (PTB) or as real JSON."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise bad_request(error) from exc
    return value


def _text_keys(is_document: bool) -> tuple[str, str]:
    """Documents carry caption/caption_entities where text messages carry text/entities."""
    return ("caption", "caption_entities") if is_document else ("text", "entities")


def _present(params: JSON, name: str) -> bool:
    value = params.get(name)
    return value is not None and value != ""


# --------------------------------------------------------------------------------------------
# Formatting: HTML / MarkdownV2 / Markdown -> plain text + entities
# --------------------------------------------------------------------------------------------


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
        offset = _utf16_len(stripped[:start])
        entity = {"type": ent.type, "offset": offset, "length": _utf16_len(stripped[start:end])}
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
    given = _as_json(entities, "can't parse entities JSON object") if entities else []
    if not isinstance(given, list) or not all(isinstance(e, dict) for e in given):
        raise bad_request("can't parse entities JSON object")
    plain_ents: list[_Ent] = []
    units = _utf16_len(text)
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


# --------------------------------------------------------------------------------------------
# Reply markup validation
# --------------------------------------------------------------------------------------------

_BUTTON_KINDS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def parse_reply_markup(raw: Any) -> JSON | None:
    """Validate reply_markup like Telegram (shape, callback_data size, button kinds)."""
    if raw is None or raw == "":
        return None
    markup = _as_json(raw, "can't parse reply keyboard markup JSON object")
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
            )
        for row in rows:
            for button in row:
                _check_inline_button(button)
        return markup
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays'
            )
        for row in rows:
            for button in row:
                if not isinstance(button, str) and not (
                    isinstance(button, dict) and isinstance(button.get("text"), str)
                ):
                    raise bad_request(
                        'can\'t parse keyboard button: Field "text" must be of type String'
                    )
        return markup
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    raise bad_request("object expected as reply markup")


def _check_inline_button(button: Any) -> None:
    prefix = "can't parse inline keyboard button: "
    if not isinstance(button, dict):
        raise bad_request(prefix + "InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str):
        raise bad_request(prefix + 'Field "text" must be of type String')
    if not any(kind in button for kind in _BUTTON_KINDS):
        raise bad_request(prefix + "Text buttons are unallowed in the inline keyboard")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in {"http", "https", "tg"} or not parts.netloc:
            raise bad_request("BUTTON_URL_INVALID")


# --------------------------------------------------------------------------------------------
# Simulated world
# --------------------------------------------------------------------------------------------


@dataclass
class _User:
    id: int
    first_name: str
    username: str | None
    language_code: str | None
    last_name: str | None = None

    def to_dict(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass
class _Group:
    id: int
    title: str
    owner: int | None
    admins: set[int]
    members: set[int]
    bot_is_admin: bool
    bot_kicked: bool = False

    @property
    def type(self) -> str:
        return "supergroup" if self.id <= -1_000_000_000_000 else "group"


@dataclass
class _ChatState:
    next_message_id: int = 1
    messages: dict[int, JSON] = field(default_factory=dict)  # every live message (users + bot)
    bot_messages: dict[int, SentMessage] = field(default_factory=dict)


Handler = Callable[[JSON, dict[str, _Upload]], Awaitable[Any]]


class FakeTelegram:
    """In-process fake Bot API server; see module docstring.

    Start with ``await fake.start()`` (or ``async with FakeTelegram() as fake``) and point PTB
    at ``fake.base_url`` / ``fake.base_file_url``.
    """

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_username: str = "ag_test_bot",
        *,
        bot_first_name: str = "AG Test Bot",
        privacy_mode: bool = False,
        webhook_retry_delay: float = 0.05,
        callback_query_timeout: float | None = None,
    ) -> None:
        """``privacy_mode=True`` drops plain group texts like Telegram's default privacy mode;
        ``callback_query_timeout`` makes queries expire (Telegram: ~15 s) for timeout tests."""
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.privacy_mode = privacy_mode
        self.webhook_retry_delay = webhook_retry_delay
        self.callback_query_timeout = callback_query_timeout
        self.port: int | None = None
        self.base_url = ""
        self.base_file_url = ""

        self.sent: list[SentMessage] = []
        self.calls: list[ApiCall] = []
        self.errors: list[FailedCall] = []
        self.answered_callbacks: list[AnsweredCallback] = []
        self.count_429 = 0
        self.logged_out = False
        self.limits = RateLimitConfig()
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_deliveries = 0
        self.commands: dict[tuple[str, str], list[JSON]] = {}

        self._users: dict[int, _User] = {}
        self._groups: dict[int, _Group] = {}
        self._chats: dict[int, _ChatState] = {}
        self._started: set[int] = set()
        self._blocked: set[int] = set()
        self._updates: deque[JSON] = deque()
        self._update_ids = itertools.count(100_000_001)
        self._query_ids = itertools.count(4_000_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._pending_queries: dict[str, float] = {}
        self._files: dict[str, SentDocument] = {}
        self._allowed_updates: list[str] = []
        self._poll_generation = 0
        self._webhook_error: tuple[int, str] | None = None
        self._webhook_max_connections = 40
        self._fail: dict[str, list[int]] = {}
        self._delays: dict[str, list[float]] = {}
        self._global_window: deque[float] = deque()
        self._chat_windows: dict[int, deque[float]] = {}
        self._group_windows: dict[int, deque[float]] = {}

        self._update_signal = _Signal()
        self._state_signal = _Signal()
        self._stop_event = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None

        self._methods: dict[str, tuple[str, Handler]] = {}
        for name, handler in {
            "getMe": self._api_get_me,
            "getUpdates": self._api_get_updates,
            "setWebhook": self._api_set_webhook,
            "deleteWebhook": self._api_delete_webhook,
            "getWebhookInfo": self._api_get_webhook_info,
            "sendMessage": self._api_send_message,
            "editMessageText": self._api_edit_message_text,
            "editMessageReplyMarkup": self._api_edit_message_reply_markup,
            "deleteMessage": self._api_delete_message,
            "answerCallbackQuery": self._api_answer_callback_query,
            "sendDocument": self._api_send_document,
            "getFile": self._api_get_file,
            "getChat": self._api_get_chat,
            "getChatMember": self._api_get_chat_member,
            "getChatAdministrators": self._api_get_chat_administrators,
            "setMyCommands": self._api_set_my_commands,
            "getMyCommands": self._api_get_my_commands,
            "deleteMyCommands": self._api_delete_my_commands,
            "close": self._api_close,
            "logOut": self._api_log_out,
        }.items():
            self._methods[name.lower()] = (name, handler)

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Bind 127.0.0.1 on a free port and serve ``/bot<token>/<method>``."""
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=2.0
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self._session = aiohttp.ClientSession()
        self._closing = False
        self._stop_event.clear()
        self.base_url = f"http://127.0.0.1:{self.port}/bot"
        self.base_file_url = f"http://127.0.0.1:{self.port}/file/bot"

    async def stop(self) -> None:
        """Release pending long polls at once, stop webhook delivery, close the socket."""
        self._closing = True
        self._stop_event.set()
        self._update_signal.fire()
        self._state_signal.fire()
        await self._stop_webhook_worker()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ---------------------------------------------------------------- world setup (sync)

    def add_user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        language_code: str | None = "de",
        *,
        last_name: str | None = None,
        started: bool = False,
    ) -> JSON:
        """Register a Telegram user; ``started=True`` = user already opened the bot's chat."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        user = _User(user_id, first_name, username, language_code, last_name)
        self._users[user_id] = user
        if started:
            self._started.add(user_id)
        return user.to_dict()

    def add_group(
        self,
        chat_id: int,
        title: str,
        admins: list[int] | None = None,
        members: list[int] | None = None,
        *,
        owner: int | None = None,
        bot_is_admin: bool = False,
    ) -> None:
        """Register a group (ids <= -10**12 become supergroups) the bot is a member of."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        everyone = set(admins or []) | set(members or []) | ({owner} if owner else set())
        for uid in everyone:
            self._require_user(uid)
        self._groups[chat_id] = _Group(
            chat_id, title, owner, set(admins or []), everyone, bot_is_admin
        )

    def block_bot(self, user_id: int) -> None:
        """User blocks the bot: sends to the private chat fail with 403 from now on."""
        self._require_user(user_id)
        self._blocked.add(user_id)

    def unblock_bot(self, user_id: int) -> None:
        """Undo block_bot()."""
        self._blocked.discard(user_id)

    def kick_bot(self, chat_id: int) -> None:
        """Bot removed from a group: sends fail with 403 like Telegram."""
        self._require_group(chat_id).bot_kicked = True

    # ---------------------------------------------------------------- incoming updates (sync)

    def send_text(
        self, chat_id: int, user_id: int, text: str, reply_to_message_id: int | None = None
    ) -> JSON:
        """A user writes ``text``; returns the enqueued Update dict (built like Telegram)."""
        user = self._require_user(user_id)
        if not text:
            raise ValueError("Telegram clients cannot send empty messages")
        if chat_id > 0:
            if chat_id != user_id:
                raise ValueError("in a private chat, chat_id must equal user_id")
            self._started.add(user_id)
            self._blocked.discard(user_id)  # a user has to unblock the bot to write to it
        else:
            self._require_group(chat_id).members.add(user_id)
        chat = self._chat(chat_id)
        message: JSON = {
            "message_id": self._next_message_id(chat_id),
            "from": user.to_dict(),
            "chat": self._chat_obj(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        entities = self._command_entities(text)
        if entities:
            message["entities"] = entities
        replied: JSON | None = None
        if reply_to_message_id is not None:
            replied = chat.messages.get(reply_to_message_id)
            if replied is None:
                raise ValueError(f"message {reply_to_message_id} not found in chat {chat_id}")
            message["reply_to_message"] = self._strip_reply(replied)
        chat.messages[message["message_id"]] = message
        if chat_id < 0 and self.privacy_mode:
            to_bot = text.startswith("/") or f"@{self.bot_username}" in text
            if replied is not None:
                to_bot = to_bot or replied["from"]["id"] == self.bot_id
            if not to_bot:
                return {"message": message}  # Telegram never delivers it to the bot
        return self.send_update({"message": message})

    def press_button(self, chat_id: int, message_id: int, user_id: int, data: str) -> JSON:
        """A user taps an inline button; raises if the bot message has no such callback_data."""
        user = self._require_user(user_id)
        sent = self._chat(chat_id).bot_messages.get(message_id)
        if sent is None or sent.deleted:
            raise ValueError(f"no live bot message {message_id} in chat {chat_id}")
        if data not in sent.callback_data:
            raise ValueError(
                f"message {message_id} has no button with callback_data {data!r}; "
                f"available: {sent.callback_data}"
            )
        query_id = str(next(self._query_ids))
        self._pending_queries[query_id] = time.monotonic()
        update = {
            "callback_query": {
                "id": query_id,
                "from": user.to_dict(),
                "message": copy.deepcopy(sent.payload),
                "chat_instance": str(abs(chat_id) * 7919 + 1234567),
                "data": data,
            }
        }
        return self.send_update(update)

    def send_update(self, update: JSON) -> JSON:
        """Enqueue any raw Update dict (update_id is assigned); for update kinds without helper."""
        update = {"update_id": next(self._update_ids), **update}
        kind = next((k for k in update if k != "update_id"), "")
        allowed = self._allowed_updates
        if (allowed and kind not in allowed) or (not allowed and kind in DEFAULT_EXCLUDED_UPDATES):
            return update  # Telegram does not even create filtered updates
        self._updates.append(update)
        self._update_signal.fire()
        return update

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by getUpdates offset / delivered to the webhook."""
        return list(self._updates)

    # ---------------------------------------------------------------- fault injection (sync)

    def rate_limits(
        self,
        enabled: bool = True,
        global_per_s: int = 30,
        per_chat_per_s: int = 1,
        per_group_per_min: int = 20,
    ) -> None:
        """Enforce flood limits on send methods (per_chat_per_s applies to every chat,
        per_group_per_min additionally to groups); sliding windows restart on each call."""
        self.limits = RateLimitConfig(enabled, global_per_s, per_chat_per_s, per_group_per_min)
        self._global_window.clear()
        self._chat_windows.clear()
        self._group_windows.clear()

    def fail_next(self, method: str, status_code: int = 500, count: int = 1) -> None:
        """The next ``count`` requests of ``method`` get an ok:false ``status_code`` answer."""
        self._fail.setdefault(self._canonical(method), []).extend([status_code] * count)

    def delay(self, method: str, seconds: float, count: int = 1) -> None:
        """The next ``count`` requests of ``method`` are held ``seconds`` before processing."""
        self._delays.setdefault(self._canonical(method), []).extend([seconds] * count)

    # ---------------------------------------------------------------- inspection

    def messages_in(self, chat_id: int) -> list[SentMessage]:
        """Live (not deleted) bot messages in a chat, oldest first."""
        return [m for m in self.sent if m.chat_id == chat_id and not m.deleted]

    def clear_log(self) -> None:
        """Forget recorded calls/errors/messages/answers (e.g. between benchmark phases);
        the simulated world (chats, message ids, buttons) stays intact."""
        self.sent.clear()
        self.calls.clear()
        self.errors.clear()
        self.answered_callbacks.clear()
        self.count_429 = 0

    def calls_of(self, method: str) -> list[JSON]:
        """Params of every recorded call of ``method``."""
        canonical = self._canonical(method)
        return [call.params for call in self.calls if call.method == canonical]

    async def wait_for_messages(
        self,
        chat_id: int | None = None,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - an explicit timeout is the API contract
        predicate: Callable[[SentMessage], bool] | None = None,
        *,
        since: int = 0,
    ) -> list[SentMessage]:
        """Wait until >= ``count`` messages in ``fake.sent[since:]`` match; returns all matches.

        Predicates see the current (edited) state, so waiting for an edit works too. On
        timeout an AssertionError lists everything received plus recent API errors.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            matching = [
                m
                for m in self.sent[since:]
                if (chat_id is None or m.chat_id == chat_id) and (predicate is None or predicate(m))
            ]
            if len(matching) >= count:
                return matching
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                raise AssertionError(self._timeout_report(chat_id, count, timeout, matching))
            await self._state_signal.wait(remaining)

    async def wait_for_call(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - an explicit timeout is the API contract
        *,
        since: int = 0,
    ) -> list[JSON]:
        """Wait until ``method`` was called ``count`` times (in ``fake.calls[since:]``)."""
        canonical = self._canonical(method)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = [c.params for c in self.calls[since:] if c.method == canonical]
            if len(found) >= count:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                seen = sorted({c.method for c in self.calls[since:]})
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {count} {canonical} call(s); "
                    f"got {len(found)}; methods called: {seen}"
                )
            await self._state_signal.wait(remaining)

    async def wait_until(
        self,
        condition: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - an explicit timeout is the API contract
        what: str = "condition",
    ) -> None:
        """Wait until ``condition()`` holds; re-checked on every request, send, edit, answer
        and webhook delivery, so no polling loop is needed in tests."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            await self._state_signal.wait(remaining)

    def _timeout_report(
        self, chat_id: int | None, count: int, timeout: float, matching: list[SentMessage]
    ) -> str:
        where = "any chat" if chat_id is None else f"chat {chat_id}"
        lines = [
            f"timed out after {timeout}s waiting for {count} message(s) in {where}; "
            f"{len(matching)} matched. Recorded bot messages ({len(self.sent)}):"
        ]
        lines += [
            f"  chat={m.chat_id} id={m.message_id} {m.method}"
            f"{' (deleted)' if m.deleted else ''}: {m.text!r} buttons={m.callback_data}"
            for m in self.sent[-20:]
        ] or ["  (none)"]
        if self.errors:
            lines.append("Recent API errors:")
            lines += [f"  {e.method} -> {e.status} {e.description}" for e in self.errors[-10:]]
        return "\n".join(lines)

    # ---------------------------------------------------------------- HTTP plumbing

    def _canonical(self, method: str) -> str:
        entry = self._methods.get(method.lower())
        return entry[0] if entry else method

    @staticmethod
    def _error_body(status: int, description: str, parameters: JSON | None = None) -> JSON:
        body: JSON = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return body

    def _token_error(self, token: str) -> web.Response | None:
        if token == self.token and not self.logged_out:
            return None
        if re.fullmatch(r"\d+:[\w-]+", token):
            return web.json_response(self._error_body(401, "Unauthorized"), status=401)
        return web.json_response(self._error_body(404, "Not Found"), status=404)

    async def _handle(self, request: web.Request) -> web.Response:
        token_error = self._token_error(request.match_info["token"])
        if token_error is not None:
            return token_error
        entry = self._methods.get(request.match_info["method"].lower())
        if entry is None:
            return web.json_response(self._error_body(404, "Not Found"), status=404)
        method, handler = entry
        params: JSON = {}
        _REQUEST.set(request)
        try:
            params, uploads = await self._read_params(request)
            logged = dict(params)
            for name in JSON_FIELDS & logged.keys():
                if isinstance(logged[name], str):
                    with contextlib.suppress(ValueError):
                        logged[name] = json.loads(logged[name])
            for name, upload in uploads.items():
                logged[name] = {
                    "filename": upload.filename,
                    "mime_type": upload.mime_type,
                    "size": len(upload.data),
                }
            self.calls.append(ApiCall(method, logged))
            self._state_signal.fire()
            if self._delays.get(method):
                await self._sleep(self._delays[method].pop(0))
            if self._fail.get(method):
                status = self._fail[method].pop(0)
                try:
                    phrase = HTTPStatus(status).phrase
                except ValueError:
                    phrase = "Error"
                extra = {"retry_after": 1} if status == 429 else None
                if status == 429:
                    phrase = "Too Many Requests: retry after 1"
                raise ApiError(status, phrase, extra)
            result = await handler(params, uploads)
        except ApiError as err:
            if not _client_gone():  # nobody will see it: don't pollute the error log
                if err.status == 429:
                    self.count_429 += 1
                self.errors.append(FailedCall(method, params, err.status, err.description))
                self._state_signal.fire()
            body = self._error_body(err.status, err.description, err.parameters)
            return web.json_response(body, status=err.status)
        if isinstance(result, _Ok):
            return web.json_response(
                {"ok": True, "result": result.result, "description": result.description}
            )
        return web.json_response({"ok": True, "result": result})

    async def _read_params(self, request: web.Request) -> tuple[JSON, dict[str, _Upload]]:
        """Query string + url-encoded form (PTB default) / multipart (uploads) / JSON body."""
        params: JSON = dict(request.query)
        uploads: dict[str, _Upload] = {}
        if not request.can_read_body:
            return params, uploads
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as exc:
                raise bad_request("can't parse JSON encoded request") from exc
            if not isinstance(body, dict):
                raise bad_request("JSON object expected")
            params.update(body)
        elif request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    mime = part.headers.get(aiohttp.hdrs.CONTENT_TYPE) or (
                        mimetypes.guess_type(part.filename)[0] or "application/octet-stream"
                    )
                    uploads[part.name] = _Upload(part.filename, mime, bytes(await part.read()))
                else:
                    params[part.name] = await part.text()
        else:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return params, uploads

    async def _handle_file(self, request: web.Request) -> web.Response:
        token_error = self._token_error(request.match_info["token"])
        if token_error is not None:
            return token_error
        path = request.match_info["path"]
        for doc in self._files.values():
            if self._file_path(doc) == path:
                return web.Response(body=doc.data, content_type=doc.mime_type)
        return web.json_response(self._error_body(404, "Not Found"), status=404)

    async def _sleep(self, seconds: float) -> None:
        """Sleep that stop() interrupts, so injected delays never stall shutdown."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stop_event.wait()

    # ---------------------------------------------------------------- world helpers

    def _require_user(self, user_id: int) -> _User:
        user = self._users.get(user_id)
        if user is None:
            raise ValueError(f"unknown user {user_id}; call add_user() first")
        return user

    def _require_group(self, chat_id: int) -> _Group:
        group = self._groups.get(chat_id)
        if group is None:
            raise ValueError(f"unknown group {chat_id}; call add_group() first")
        return group

    def _chat(self, chat_id: int) -> _ChatState:
        return self._chats.setdefault(chat_id, _ChatState())

    def _next_message_id(self, chat_id: int) -> int:
        chat = self._chat(chat_id)
        message_id = chat.next_message_id
        chat.next_message_id += 1
        return message_id

    def _chat_known(self, chat_id: int) -> bool:
        return chat_id in self._groups if chat_id < 0 else chat_id in self._users

    def _chat_obj(self, chat_id: int) -> JSON:
        if chat_id < 0:
            group = self._groups[chat_id]
            return {"id": chat_id, "type": group.type, "title": group.title}
        user = self._users[chat_id]
        data: JSON = {"id": chat_id, "type": "private", "first_name": user.first_name}
        if user.last_name:
            data["last_name"] = user.last_name
        if user.username:
            data["username"] = user.username
        return data

    def _bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    @staticmethod
    def _strip_reply(message: JSON) -> JSON:
        """Telegram nests reply_to_message only one level deep."""
        return {k: copy.deepcopy(v) for k, v in message.items() if k != "reply_to_message"}

    @staticmethod
    def _command_entities(text: str) -> list[JSON]:
        """bot_command entities for ``/cmd`` and ``/cmd@botname`` tokens, like Telegram."""
        pattern = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z][A-Za-z0-9_]{2,31})?")
        return [
            {
                "offset": _utf16_len(text[: m.start()]),
                "length": _utf16_len(m.group(0)),
                "type": "bot_command",
            }
            for m in pattern.finditer(text)
        ]

    def _chat_id(self, params: JSON) -> int:
        if not _present(params, "chat_id"):
            raise bad_request("chat_id is empty")
        try:
            return _as_int(params["chat_id"], "chat not found")
        except ApiError as exc:
            raise bad_request("chat not found") from exc

    def _check_writable(self, chat_id: int) -> None:
        """Chat existence, blocks, kicks and "never started" like the real API."""
        if chat_id < 0:
            group = self._groups.get(chat_id)
            if group is None:
                raise bad_request("chat not found")
            if group.bot_kicked:
                raise forbidden(f"bot was kicked from the {group.type} chat")
            return
        if chat_id == self.bot_id:
            raise forbidden("bot can't send messages to bots")
        if chat_id not in self._users:
            raise bad_request("chat not found")
        if chat_id in self._blocked:
            raise forbidden("bot was blocked by the user")
        if chat_id not in self._started:
            raise forbidden("bot can't initiate conversation with a user")

    def _check_rate(self, chat_id: int) -> None:
        """Sliding-window flood control; raises 429 without recording anything."""
        limits = self.limits
        if not limits.enabled:
            return
        now = time.monotonic()
        waits: list[float] = []
        windows = [
            (self._global_window, limits.global_per_s, 1.0),
            (self._chat_windows.setdefault(chat_id, deque()), limits.per_chat_per_s, 1.0),
        ]
        if chat_id < 0:
            windows.append(
                (self._group_windows.setdefault(chat_id, deque()), limits.per_group_per_min, 60.0)
            )
        for window, limit, period in windows:
            while window and window[0] <= now - period:
                window.popleft()
            if limit > 0 and len(window) >= limit:
                waits.append(window[len(window) - limit] + period - now)
        if waits:
            retry_after = max(1, math.ceil(max(waits)))
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        for window, _, _ in windows:
            window.append(now)

    def _reply_target(self, chat_id: int, params: JSON) -> int | None:
        """Resolve reply_parameters (PTB >= 21) or legacy reply_to_message_id."""
        message_id: int | None = None
        allow_missing = _as_bool(params.get("allow_sending_without_reply", False))
        if _present(params, "reply_parameters"):
            reply = _as_json(params["reply_parameters"], "can't parse reply parameters JSON")
            if not isinstance(reply, dict) or "message_id" not in reply:
                raise bad_request("can't parse reply parameters JSON")
            message_id = _as_int(reply["message_id"], "message to be replied not found")
            allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
        elif _present(params, "reply_to_message_id"):
            message_id = _as_int(params["reply_to_message_id"], "message to be replied not found")
        if message_id is None:
            return None
        if message_id not in self._chat(chat_id).messages:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return message_id

    def _record(
        self,
        chat_id: int,
        method: str,
        params: JSON,
        text: str | None,
        entities: list[JSON],
        markup: JSON | None,
        reply_to: int | None,
        document: SentDocument | None = None,
    ) -> SentMessage:
        chat = self._chat(chat_id)
        message_id = self._next_message_id(chat_id)
        payload: JSON = {
            "message_id": message_id,
            "from": self._bot_user(),
            "chat": self._chat_obj(chat_id),
            "date": int(time.time()),
        }
        text_key, entities_key = _text_keys(document is not None)
        if document is not None:
            payload["document"] = {
                "file_id": document.file_id,
                "file_unique_id": document.file_unique_id,
                "file_name": document.filename,
                "mime_type": document.mime_type,
                "file_size": len(document.data),
            }
        if text:
            payload[text_key] = text
        if entities:
            payload[entities_key] = entities
        if reply_to is not None:
            payload["reply_to_message"] = self._strip_reply(chat.messages[reply_to])
        if markup and "inline_keyboard" in markup:
            payload["reply_markup"] = markup  # Telegram echoes only inline keyboards
        raw = params.get("caption" if document else "text")
        now = time.monotonic()
        sent = SentMessage(
            chat_id=chat_id,
            message_id=message_id,
            text=text,
            parse_mode=params.get("parse_mode") or None,
            reply_markup=markup,
            reply_to_message_id=reply_to,
            document=document,
            method=method,
            at=now,
            raw_text=raw if isinstance(raw, str) else None,
            entities=entities,
            history=[MessageVersion(method, text, entities, markup, now)],
            payload=payload,
        )
        chat.messages[message_id] = payload
        chat.bot_messages[message_id] = sent
        self.sent.append(sent)
        self._state_signal.fire()
        return sent

    def _bot_message_for_edit(self, params: JSON) -> SentMessage:
        if _present(params, "inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")  # no inline mode in the fake
        chat_id = self._chat_id(params)
        if not _present(params, "message_id"):
            raise bad_request("message identifier is not specified")
        message_id = _as_int(params["message_id"], "message to edit not found")
        self._check_writable(chat_id)
        chat = self._chat(chat_id)
        if message_id not in chat.messages:
            raise bad_request("message to edit not found")
        sent = chat.bot_messages.get(message_id)
        if sent is None:
            raise bad_request("message can't be edited")
        return sent

    def _apply_edit(
        self,
        sent: SentMessage,
        method: str,
        text: str | None,
        ents: list[JSON],
        markup: JSON | None,
    ) -> JSON:
        text_key, entities_key = _text_keys(sent.document is not None)
        sent.text, sent.entities, sent.reply_markup = text, ents, markup
        payload = sent.payload
        payload.pop(entities_key, None)
        if text:
            payload[text_key] = text
        if ents:
            payload[entities_key] = ents
        payload.pop("reply_markup", None)
        if markup and "inline_keyboard" in markup:
            payload["reply_markup"] = markup
        payload["edit_date"] = int(time.time())
        sent.history.append(MessageVersion(method, text, ents, markup, time.monotonic()))
        self._state_signal.fire()
        return copy.deepcopy(payload)

    @staticmethod
    def _file_path(doc: SentDocument) -> str:
        suffix = ""
        if "." in doc.filename:
            suffix = "." + doc.filename.rsplit(".", 1)[1]
        return f"documents/{doc.file_unique_id}{suffix}"

    def _member(self, chat_id: int, user_id: int) -> JSON:
        """ChatMember object with every field PTB requires for the status."""
        user = self._bot_user() if user_id == self.bot_id else self._users[user_id].to_dict()
        if chat_id > 0:
            return {"status": "member", "user": user}
        group = self._groups[chat_id]
        if user_id == self.bot_id:
            if group.bot_kicked:
                return {"status": "kicked", "user": user, "until_date": 0}
            return (
                self._admin(user, bot=True)
                if group.bot_is_admin
                else {
                    "status": "member",
                    "user": user,
                }
            )
        if user_id == group.owner:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if user_id in group.admins:
            return self._admin(user)
        if user_id in group.members:
            return {"status": "member", "user": user}
        return {"status": "left", "user": user}

    @staticmethod
    def _admin(user: JSON, bot: bool = False) -> JSON:
        rights = [
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_promote_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
            "can_pin_messages",
        ]
        data: JSON = {"status": "administrator", "user": user, "can_be_edited": False}
        data["is_anonymous"] = False
        data.update({right: True for right in rights})
        if bot:
            data["can_promote_members"] = False
        return data

    # ---------------------------------------------------------------- Bot API methods

    async def _api_get_me(self, params: JSON, uploads: dict[str, _Upload]) -> Any:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _api_get_updates(self, params: JSON, uploads: dict[str, _Upload]) -> Any:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _as_int(params["offset"], "wrong offset") if _present(params, "offset") else 0
        limit = _as_int(params["limit"], "wrong limit") if _present(params, "limit") else 100
        limit = min(max(limit, 1), 100)
        try:
            timeout = max(float(params.get("timeout") or 0), 0.0)
        except (TypeError, ValueError) as exc:
            raise bad_request("wrong timeout") from exc
        if _present(params, "allowed_updates"):
            allowed = _as_json(params["allowed_updates"], "can't parse allowed updates")
            if isinstance(allowed, list):
                self._allowed_updates = [str(kind) for kind in allowed]
        if offset > 0:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
        elif offset < 0:
            while len(self._updates) > -offset:
                self._updates.popleft()
        # A newer getUpdates terminates an older pending one, exactly like Telegram.
        self._poll_generation += 1
        generation = self._poll_generation
        self._update_signal.fire()
        deadline = time.monotonic() + timeout
        while True:
            if self._closing:
                return []
            if self.webhook_url:
                raise ApiError(409, "Conflict: terminated by setWebhook request")
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            if self._updates:
                return [copy.deepcopy(u) for u in itertools.islice(self._updates, limit)]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            await self._update_signal.wait(remaining)

    async def _api_set_webhook(self, params: JSON, uploads: dict[str, _Upload]) -> Any:
        url = str(params.get("url") or "")
        if not url:
            return await self._api_delete_webhook(params, uploads)
        parts = urlsplit(url)
        loopback = parts.hostname in {"127.0.0.1", "localhost", "::1"}
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if not parts.hostname:
            raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
        secret = params.get("secret_token") or None
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if _present(params, "allowed_updates"):
            allowed = _as_json(params["allowed_updates"], "can't parse allowed updates")
            if isinstance(allowed, list):
                self._allowed_updates = [str(kind) for kind in allowed]
        if _present(params, "max_connections"):
            self._webhook_max_connections = _as_int(params["max_connections"], "bad webhook")
        if _as_bool(params.get("drop_pending_updates", False)):
            self._updates.clear()
        unchanged = url == self.webhook_url and secret == self.webhook_secret
        self.webhook_url, self.webhook_secret = url, secret
        self._webhook_error = None
        await self._stop_webhook_worker()
        self._webhook_task = asyncio.create_task(self._webhook_worker(url, secret))
        self._update_signal.fire()  # pending long polls now end with 409 on their next check
        return _Ok(True, "Webhook is already set" if unchanged else "Webhook was set")

    async def _api_delete_webhook(self, params: JSON, uploads: dict[str, _Upload]) -> Any:
        if _as_bool(params.get("drop_pending_updates", False)):
            self._updates.clear()
        was_set = self.webhook_url is not None
        self.webhook_url = self.webhook_secret = None
        await self._stop_webhook_worker()
        return _Ok(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    async def _api_get_webhook_info(self, params: JSON, uploads: dict[str, _Upload]) -> Any:
        info: JSON = {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook_url:
            info["max_connections"] = self._webhook_max_connections
            if self._allowed_updates:
                info["allowed_updates"] = list(self._allowed_updates)
            if self._webhook_error:
                info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    async def _stop_webhook_worker(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _webhook_worker(self, url: str, secret: str | None) -> None:
        """Deliver queued updates in order; retry with backoff until the bot answers 2xx."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        backoff = self.webhook_retry_delay
        while not self._closing and self.webhook_url == url:
            if not self._updates or self._session is None:
                await self._update_signal.wait(None)
                continue
            update = self._updates[0]
            error: str | None = None
            try:
                async with self._session.post(
                    url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=10)
                ) as resp:
                    await resp.read()
                    if not 200 <= resp.status < 300:
                        error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = f"Connection failed: {exc.__class__.__name__}"
            if error is None:
                if self._updates and self._updates[0]["update_id"] == update["update_id"]:
                    self._updates.popleft()
                self.webhook_deliveries += 1
                self._state_signal.fire()
                backoff = self.webhook_retry_delay
                continue
            self._webhook_error = (int(time.time()), error)
            await self._sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    async def _api_send_message(self, params: JSON, uploads: dict[str, _Upload]) -> Any:
        chat_id = self._chat_id(params)
        if not _present(params, "text"):
            raise bad_request("message text is empty")
        self._check_writable(chat_id)
        text, entities = format_text(
            str(params["text"]), params.get("parse_mode"), params.get("entities")
        )
        if not text:
            raise bad_request("message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")
        markup = parse_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat_id, params)
        self._check_rate(chat_id)
        sent = self._record(chat_id, "sendMessage", params, text, entities, markup, reply_to)
        return copy.deepcopy(sent.payload)

    async def _api_send_document(self, params: JSON, uploads: dict[str, _Upload]) -> Any:
        chat_id = self._chat_id(params)
        self._check_writable(chat_id)
        raw = params.get("document")
        upload = uploads.get("document")
        if isinstance(raw, str) and raw.startswith("attach://"):
            upload = uploads.get(raw.removeprefix("attach://"))
        if upload is None and not raw:
            raise bad_request("there is no document in the request")
        caption, entities = "", []
        if _present(params, "caption"):
            caption, entities = format_text(
                str(params["caption"]), params.get("parse_mode"), params.get("caption_entities")
            )
        if len(caption) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        markup = parse_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat_id, params)
        if upload is not None:
            if not upload.data:
                raise bad_request("file must be non-empty")
            number = next(self._file_ids)
            document = SentDocument(
                filename=upload.filename,
                mime_type=upload.mime_type,
                data=upload.data,
                file_id=f"BQACAgIAAxkBAAI{number:08d}fake",
                file_unique_id=f"AgAD{number:06d}",
            )
        elif isinstance(raw, str) and raw in self._files:
            document = self._files[raw]
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        self._check_rate(chat_id)
        self._files[document.file_id] = document
        sent = self._record(
            chat_id, "sendDocument", params, caption or None, entities, markup, reply_to, document
        )
        return copy.deepcopy(sent.payload)

    async def _api_get_file(self, params: JSON, uploads: dict[str, _Upload]) -> Any:
        doc = self._files.get(str(params.get("file_id") or ""))
        if doc is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": doc.file_id,
            "file_unique_id": doc.file_unique_id,
            "file_size": len(doc.data),
            "file_path": self._file_path(doc),
        }

    async def _api_edit_message_text(self, params: JSON, uploads: dict[str, _Upload]) -> Any:
        sent = self._bot_message_for_edit(params)
        if not _present(params, "text"):
            raise bad_request("message text is empty")
        if sent.document is not None:
            raise bad_request("there is no text in the message to edit")
        text, entities = format_text(
            str(params["text"]), params.get("parse_mode"), params.get("entities")
        )
        if not text:
            raise bad_request("message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")
        # Like Telegram: omitting reply_markup on a text edit removes the inline keyboard.
        markup = parse_reply_markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")
        if (text, entities, markup) == (sent.text, sent.entities, sent.reply_markup):
            raise bad_request(NOT_MODIFIED)
        sent.raw_text = str(params["text"])
        sent.parse_mode = params.get("parse_mode") or None
        return self._apply_edit(sent, "editMessageText", text, entities, markup)

    async def _api_edit_message_reply_markup(
        self, params: JSON, uploads: dict[str, _Upload]
    ) -> Any:
        sent = self._bot_message_for_edit(params)
        markup = parse_reply_markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")
        if markup == sent.reply_markup or (not markup and not sent.reply_markup):
            raise bad_request(NOT_MODIFIED)
        return self._apply_edit(sent, "editMessageReplyMarkup", sent.text, sent.entities, markup)

    async def _api_delete_message(self, params: JSON, uploads: dict[str, _Upload]) -> Any:
        chat_id = self._chat_id(params)
        if not _present(params, "message_id"):
            raise bad_request("message identifier is not specified")
        message_id = _as_int(params["message_id"], "message to delete not found")
        if not self._chat_known(chat_id):
            raise bad_request("chat not found")
        chat = self._chat(chat_id)
        if message_id not in chat.messages:
            raise bad_request("message to delete not found")
        sent = chat.bot_messages.get(message_id)
        if sent is None and chat_id < 0 and not self._groups[chat_id].bot_is_admin:
            raise bad_request("message can't be deleted")
        del chat.messages[message_id]
        if sent is not None:
            sent.deleted = True
        self._state_signal.fire()
        return True

    async def _api_answer_callback_query(self, params: JSON, uploads: dict[str, _Upload]) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        created = self._pending_queries.get(query_id)
        timeout = self.callback_query_timeout
        if created is None or (timeout is not None and time.monotonic() - created > timeout):
            self._pending_queries.pop(query_id, None)
            raise bad_request(QUERY_TOO_OLD)
        text = params.get("text") or None
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        del self._pending_queries[query_id]
        self.answered_callbacks.append(
            AnsweredCallback(
                callback_query_id=query_id,
                text=text,
                show_alert=_as_bool(params.get("show_alert", False)),
                url=params.get("url") or None,
                cache_time=_as_int(params.get("cache_time", 0), "wrong cache_time"),
                at=time.monotonic(),
            )
        )
        self._state_signal.fire()
        return True

    async def _api_get_chat(self, params: JSON, uploads: dict[str, _Upload]) -> Any:
        chat_id = self._chat_id(params)
        if not self._chat_known(chat_id):
            raise bad_request("chat not found")
        info = self._chat_obj(chat_id)
        info.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        return info

    async def _api_get_chat_member(self, params: JSON, uploads: dict[str, _Upload]) -> Any:
        chat_id = self._chat_id(params)
        if not _present(params, "user_id"):
            raise bad_request("user not found")
        user_id = _as_int(params["user_id"], "user not found")
        if not self._chat_known(chat_id):
            raise bad_request("chat not found")
        if user_id != self.bot_id and user_id not in self._users:
            raise bad_request("user not found")
        if chat_id > 0 and user_id not in {chat_id, self.bot_id}:
            raise bad_request("user not found")
        return self._member(chat_id, user_id)

    async def _api_get_chat_administrators(self, params: JSON, uploads: dict[str, _Upload]) -> Any:
        chat_id = self._chat_id(params)
        if chat_id > 0:
            if chat_id not in self._users:
                raise bad_request("chat not found")
            raise bad_request("there are no administrators in the private chat")
        group = self._groups.get(chat_id)
        if group is None:
            raise bad_request("chat not found")
        ids = ([group.owner] if group.owner else []) + sorted(group.admins - {group.owner})
        if group.bot_is_admin:
            ids.append(self.bot_id)
        return [self._member(chat_id, uid) for uid in ids]

    @staticmethod
    def _commands_key(params: JSON) -> tuple[str, str]:
        scope = _as_json(params.get("scope") or {"type": "default"}, "can't parse scope JSON")
        if not isinstance(scope, dict) or "type" not in scope:
            raise bad_request("can't parse BotCommandScope JSON object")
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def _api_set_my_commands(self, params: JSON, uploads: dict[str, _Upload]) -> Any:
        commands = _as_json(params.get("commands"), "can't parse commands JSON object")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name = command.get("command")
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise bad_request("BOT_COMMAND_INVALID")
            description = command.get("description")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params)
        if commands:
            self.commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self.commands.pop(key, None)
        return True

    async def _api_get_my_commands(self, params: JSON, uploads: dict[str, _Upload]) -> Any:
        return copy.deepcopy(self.commands.get(self._commands_key(params), []))

    async def _api_delete_my_commands(self, params: JSON, uploads: dict[str, _Upload]) -> Any:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _api_close(self, params: JSON, uploads: dict[str, _Upload]) -> Any:
        return True

    async def _api_log_out(self, params: JSON, uploads: dict[str, _Upload]) -> Any:
        """After logOut the cloud API refuses the token, so later requests get 401."""
        self.logged_out = True
        return True
