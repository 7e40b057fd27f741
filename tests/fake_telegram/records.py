"""What the bot did, as tests read it: the calls it made, the messages it sent (kept up to
date on edits), the callback answers; and waiting for them without polling."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from tests.fake_telegram.protocol import JSON


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


class Signal:
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


class Log:
    """The record of the bot's requests and messages, and waiting on it; part of FakeTelegram.

    Every change fires ``_state_signal``, so waiting re-checks at once and needs no polling.
    """

    _closing: bool  # FakeTelegram: the server is stopping
    _canonical: Callable[[str], str]  # FakeTelegram: Telegram's spelling of a method name

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[SentMessage] = []
        self.calls: list[ApiCall] = []
        self.errors: list[FailedCall] = []
        self.answered_callbacks: list[AnsweredCallback] = []
        self.count_429 = 0
        self._state_signal = Signal()

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
