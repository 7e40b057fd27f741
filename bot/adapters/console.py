"""The console: an interactive terminal chat that needs no token.

You play several people in several chats: `:user anna` switches who is typing, `:chat dm`
opens the current person's private chat, `:chat AG-Test` a group chat. Messages the bot
delivers through the outbox (reminders, DMs) are printed as they arrive, addressed to
their chat, so everything a chair or member would see can be tried in one terminal.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bot.core.messages import (
    Button,
    ChatKind,
    ChatRef,
    Document,
    IncomingMessage,
    OutgoingMessage,
    Reply,
    ReplyTarget,
    UserRef,
)
from bot.core.platform import Standing
from bot.core.rich_text import MARKDOWN_FORMAT, TEXT_FORMAT, to_plain
from bot.outbox.ports import DeliveryLimits
from handlers.dispatcher import Dispatcher

log = logging.getLogger(__name__)

PLATFORM = "console"
CONSOLE_LIMITS = DeliveryLimits(
    global_per_second=30, per_chat_per_second=30, per_group_per_minute=600
)
DM_PREFIX = "dm-"

CONSOLE_HELP = """\
Console commands (everything else is sent to the bot as a chat message):
  :user NAME        act as NAME (created on first use), e.g. :user anna
  :chat dm          switch to NAME's private chat with the bot
  :chat GROUP       switch to the group chat GROUP (created on first use)
  :admin on|off     make the current person a chat admin of the current group (or not)
  :press N          press button N of the bot's last message in this chat
  :reply            your next message replies to the last message of another person here
  :who              show who and where you are
  :quit             leave (Ctrl-D works too)
Try: /help, /register ag "AG Test", then :user bernd, /join, :chat dm, /start"""


@dataclass
class _Chat:
    ref: ChatRef
    admins: set[str] = field(default_factory=set)
    buttons: list[Button] = field(default_factory=list)
    last_by_user: dict[str, str] = field(default_factory=dict)  # user id -> last text
    last_sender: UserRef | None = None


class ConsoleSender:
    platform = PLATFORM
    limits = CONSOLE_LIMITS
    idempotent = False
    replies = None  # direct replies are not counted: no shared platform limit

    def __init__(self, console: ConsoleAdapter) -> None:
        self._console = console

    def is_group_chat(self, chat_id: str) -> bool:
        return not chat_id.startswith(DM_PREFIX)

    async def deliver(
        self, chat_id: str, message: OutgoingMessage, *, key: str | None = None
    ) -> str | None:
        self._console.show_delivery(chat_id, message)
        return None


class ConsoleAdapter:
    name = PLATFORM
    max_text_length = 4096
    command_prefix = "/"
    max_buttons: int | None = None  # numbered [1] [2] … pressed with :press N
    opens_direct_chats = False  # a console has no private chats to open
    single_process: str | None = None

    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        files_dir: Path | None = None,
        on_quit: Callable[[], None] | None = None,
        first_user: str = "anna",
        first_group: str = "AG-Test",
    ) -> None:
        self.dispatcher = dispatcher
        self._stdin = stdin or sys.stdin
        self._out = stdout or sys.stdout
        self._files_dir = files_dir or Path(tempfile.gettempdir()) / "ag-assistant-console"
        self._on_quit = on_quit
        self._users: dict[str, UserRef] = {}
        self._chats: dict[str, _Chat] = {}
        self._user = self._person(first_user)
        self._chat = self._group(first_group)
        self._chat.admins.add(self._user.user_id)  # whoever opens a group first runs it
        self._reply_next = False
        self._sender = ConsoleSender(self)
        self._reader: asyncio.Task[None] | None = None
        self._interactive = self._stdin.isatty()

    # --- Platform protocol ----------------------------------------------------------------

    @property
    def bot_username(self) -> str | None:
        return "ag_assistant"

    def direct_chat_hint(self) -> str | None:
        return None  # in the console you type `:chat dm`; the generic hint says the rest

    async def is_chat_admin(self, chat_id: str, user_id: str) -> bool:
        chat = self._chats.get(chat_id)
        return chat is not None and user_id in chat.admins

    async def unreported_standing(self, chat_id: str, user_id: str) -> Standing | None:
        """Everyone here is played in this terminal; nobody leaves unseen: nothing to ask."""
        return None

    async def reports_departures(self, chat_id: str) -> bool:
        return True

    @property
    def sender(self) -> ConsoleSender:
        return self._sender

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self._print(
            "AG assistant – console mode (no TELEGRAM_TOKEN set). Type :help for console "
            "commands, /help for the bot's commands."
        )
        self._reader = asyncio.create_task(self._read_loop(), name="console-reader")

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()

    async def _read_loop(self) -> None:
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def pump() -> None:  # blocking reads stay off the event loop
            for line in self._stdin:
                loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\r\n"))
            loop.call_soon_threadsafe(queue.put_nowait, None)

        threading.Thread(target=pump, name="console-stdin", daemon=True).start()
        self._prompt()
        while (line := await queue.get()) is not None:
            try:
                if not await self.handle_line(line):
                    break
            except Exception:
                log.exception("console: error while handling %r", line)
            self._prompt()
        if self._on_quit is not None:
            self._on_quit()

    # --- input ----------------------------------------------------------------------------

    async def handle_line(self, line: str) -> bool:
        """Process one typed line; False means quit."""
        text = line.strip()
        if not text:
            return True
        if text.startswith(":"):
            return await self._console_command(text)
        await self._send(text, callback_data=None)
        return True

    async def _console_command(self, text: str) -> bool:
        verb, _, rest = text[1:].partition(" ")
        rest = rest.strip()
        if verb in ("quit", "exit", "q"):
            return False
        if verb == "help":
            self._print(CONSOLE_HELP)
        elif verb == "user" and rest:
            self._user = self._person(rest)
            self._print(f"You are now {self._user.display_name}.")
        elif verb == "chat" and rest:
            self._chat = self._private(self._user) if rest == "dm" else self._group(rest)
            self._print(f"Now in {self._describe(self._chat.ref)}.")
        elif verb == "admin" and rest in ("on", "off") and not self._chat.ref.is_private:
            (self._chat.admins.add if rest == "on" else self._chat.admins.discard)(
                self._user.user_id
            )
            self._print(
                f"{self._user.display_name} is {'now' if rest == 'on' else 'no longer'} "
                f"an admin of {self._chat.ref.title}."
            )
        elif verb == "press" and rest.isdigit():
            index = int(rest) - 1
            if not 0 <= index < len(self._chat.buttons):
                self._print("There is no such button here.")
            else:
                await self._send("", callback_data=self._chat.buttons[index].data)
        elif verb == "reply":
            self._reply_next = True
            self._print("Your next message replies to the last message of someone else here.")
        elif verb == "who":
            self._print(f"You are {self._user.display_name} in {self._describe(self._chat.ref)}.")
        else:
            self._print("Unknown console command. Type :help.")
        return True

    async def _send(self, text: str, callback_data: str | None) -> None:
        chat = self._chat
        reply_to = None
        if self._reply_next:
            other = chat.last_sender
            if other is not None and other.user_id != self._user.user_id:
                reply_to = ReplyTarget(
                    message_id="0", sender=other, text=chat.last_by_user.get(other.user_id)
                )
            self._reply_next = False
        if text:
            chat.last_by_user[self._user.user_id] = text
            chat.last_sender = self._user
        message = IncomingMessage(
            chat=chat.ref,
            sender=self._user,
            text=text,
            reply_to=reply_to,
            callback_data=callback_data,
        )
        for reply in await self.dispatcher.handle(message, self):
            target = self._private(self._user) if reply.to_private else chat
            self._show(target, reply)

    # --- output ---------------------------------------------------------------------------

    def _show(self, chat: _Chat, reply: Reply | OutgoingMessage) -> None:
        header = "bot" if chat is self._chat else f"bot → {self._describe(chat.ref)}"
        if isinstance(reply, Reply) and reply.toast:
            self._print(f"[{reply.toast}]")
        self._print(f"{header}: {_readable(reply)}")
        if reply.document is not None:
            self._print(f"📎 {self._save(reply.document)}")
        buttons = [button for row in reply.buttons for button in row]
        if buttons:
            chat.buttons = buttons
            self._print(
                "   "
                + "  ".join(f"[{i}] {b.label}" for i, b in enumerate(buttons, 1))
                + "   (:press N)"
            )

    def show_delivery(self, chat_id: str, message: OutgoingMessage) -> None:
        chat = self._chats.get(chat_id)
        if chat is None:  # e.g. a person created in an earlier console session
            name = chat_id.removeprefix(DM_PREFIX)
            chat = (
                self._private(self._person(name))
                if chat_id.startswith(DM_PREFIX)
                else (self._group(chat_id))
            )
        self._show(chat, message)

    def _save(self, document: Document) -> str:
        self._files_dir.mkdir(parents=True, exist_ok=True)
        path = self._files_dir / document.filename
        path.write_bytes(document.content)
        return f"{document.filename} ({len(document.content)} bytes) saved to {path}"

    def _print(self, text: str) -> None:
        self._out.write(text + "\n")
        self._out.flush()

    def _prompt(self) -> None:
        if self._interactive:
            self._out.write(f"{self._user.user_id}@{self._describe(self._chat.ref)}> ")
            self._out.flush()

    # --- the simulated world --------------------------------------------------------------

    def _person(self, name: str) -> UserRef:
        key = name.strip().lstrip("@").lower()
        if key not in self._users:
            self._users[key] = UserRef(PLATFORM, key, key.capitalize(), username=key)
        return self._users[key]

    def _group(self, name: str) -> _Chat:
        if name not in self._chats:
            self._chats[name] = _Chat(ChatRef(PLATFORM, name, ChatKind.GROUP, name))
        return self._chats[name]

    def _private(self, user: UserRef) -> _Chat:
        chat_id = DM_PREFIX + user.user_id
        if chat_id not in self._chats:
            self._chats[chat_id] = _Chat(ChatRef(PLATFORM, chat_id, ChatKind.PRIVATE))
        return self._chats[chat_id]

    @staticmethod
    def _describe(chat: ChatRef) -> str:
        return (
            f"DM {chat.chat_id.removeprefix(DM_PREFIX)}"
            if chat.is_private
            else (chat.title or chat.chat_id)
        )


def _readable(reply: Reply | OutgoingMessage) -> str:
    """Formatted replies (the minutes) as readable plain text – rich_text's plain rendering,
    what a Matrix client without HTML shows – not their Markdown source."""
    formatted = (
        reply.markdown
        if isinstance(reply, Reply)
        else reply.extra.get(TEXT_FORMAT) == MARKDOWN_FORMAT
    )
    return to_plain(reply.text).rstrip("\n") if formatted and reply.text else reply.text
