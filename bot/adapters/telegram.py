"""Telegram adapter (python-telegram-bot v22): updates in, replies and deliveries out.

The adapter only translates: Telegram updates become IncomingMessage, Reply becomes
sendMessage / sendDocument / editMessageText with inline keyboards, and Telegram errors
become the outbox's delivery errors. All decisions live in the dispatcher and handlers.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram import User as TgUser
from telegram.constants import ChatType, MessageLimit, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    filters,
)
from telegram.ext import MessageHandler as TgMessageHandler
from telegram.warnings import PTBDeprecationWarning

from bot.adapters import AdapterStartError
from bot.adapters.telegram_http import AiohttpRequest, AnswerLost
from bot.adapters.telegram_members import MemberStandings, standing_of
from bot.adapters.telegram_webhook import WebhookServer
from bot.core.i18n import LANGUAGES, Translator
from bot.core.messages import (
    EDIT_MESSAGE_ID,
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
from bot.core.redact import redact, register_secret
from bot.core.rich_text import MARKDOWN_FORMAT, TEXT_FORMAT, split_markdown, to_telegram_html
from bot.core.router import Router
from bot.core.settings import Settings, TelegramMode
from bot.core.text import split_text
from bot.outbox.pacing import SendWindow
from bot.outbox.ports import (
    TELEGRAM_LIMITS,
    ChatMoved,
    DeliveryError,
    DeliveryLimits,
    MaybeDelivered,
    PermanentFailure,
    RecipientUnreachable,
    RetryLater,
    TransientFailure,
)
from handlers.delivery.replies import queue_unsent_reply, record_sent_reply
from handlers.dispatcher import Dispatcher
from handlers.processes import claims
from handlers.processes.webhook_secret import shared_webhook_secret

log = logging.getLogger(__name__)

PLATFORM = "telegram"
REPLY_RETRIES = 2
# A webhook copy of an update another process has in hand waits this long for it (then 503:
# Telegram posts it again later); a chat's later update waits as long for an earlier one.
WEBHOOK_WAIT_SECONDS = 30.0


def retry_after_seconds(error: RetryAfter) -> float:
    """PTB 22 returns int or timedelta (and warns about the change); we accept both."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def user_ref(user: TgUser) -> UserRef:
    return UserRef(
        platform=PLATFORM,
        user_id=str(user.id),
        display_name=user.full_name,
        username=user.username,
        language_code=user.language_code,
        is_bot=user.is_bot,
    )


def incoming_message(
    message: Message, user: TgUser, callback_data: str | None = None
) -> IncomingMessage:
    chat = message.chat
    kind = ChatKind.PRIVATE if chat.type == "private" else ChatKind.GROUP
    reply_to = None
    if message.reply_to_message is not None and callback_data is None:
        replied = message.reply_to_message
        reply_to = ReplyTarget(
            message_id=str(replied.message_id),
            sender=user_ref(replied.from_user) if replied.from_user else None,
            text=replied.text,
        )
    return IncomingMessage(
        chat=ChatRef(PLATFORM, str(chat.id), kind, chat.title),
        sender=user_ref(user),
        text=message.text or "",
        message_id=str(message.message_id),
        reply_to=reply_to,
        callback_data=callback_data,
    )


def keyboard(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows]
    )


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Updates of different chats run concurrently; those of one chat stay in order.

    Sequential processing (PTB's default) makes every command wait for the previous
    one's database and network round trips; full concurrency could answer two commands in
    one chat out of order. Locks are taken in arrival order and dropped when idle.
    """

    def __init__(self, max_concurrent_updates: int = 8) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._holders: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._holders[chat.id] = self._holders.get(chat.id, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._holders[chat.id] -= 1
            if not self._holders[chat.id]:
                del self._holders[chat.id], self._locks[chat.id]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""


Call = Callable[..., Awaitable[Any]]


async def _once(method: Call, **kwargs: Any) -> Any:
    return await method(**kwargs)


async def _patiently(method: Call, **kwargs: Any) -> Any:
    """Direct replies: honour a 429 once or twice, then give up (the caller logs it)."""
    for attempt in range(REPLY_RETRIES + 1):
        try:
            return await method(**kwargs)
        except RetryAfter as exc:
            if attempt == REPLY_RETRIES:
                raise
            await asyncio.sleep(retry_after_seconds(exc))
    raise AssertionError("unreachable")


async def send_content(
    bot: Bot,
    chat_id: int,
    text: str,
    buttons: tuple[tuple[Button, ...], ...],
    document: Document | None,
    call: Callable[..., Awaitable[Any]] = _once,
    *,
    markdown: bool = False,
) -> Message | None:
    """Text (split at Telegram's limit), buttons on the last part, an optional file.

    A file takes its text as caption when it fits; a longer text goes out first as
    messages of its own, so nothing is cut off. Markdown goes out in HTML parse mode
    (Telegram's inline tags only), split between sections.
    """
    markup = keyboard(buttons)
    caption = None
    if document is not None and not markdown and len(text) <= MessageLimit.CAPTION_LENGTH:
        caption, text = text or None, ""
    extra: dict[str, Any] = {}
    if markdown and text:
        parts = split_markdown(
            text, MessageLimit.MAX_TEXT_LENGTH, measure=lambda part: len(to_telegram_html(part))
        )
        chunks = [to_telegram_html(part) for part in parts]
        extra["parse_mode"] = ParseMode.HTML
    else:
        chunks = split_text(text, MessageLimit.MAX_TEXT_LENGTH) if text else []
    last: Message | None = None
    for index, chunk in enumerate(chunks):
        final = index == len(chunks) - 1 and document is None
        last = await call(
            bot.send_message,
            chat_id=chat_id,
            text=chunk,
            reply_markup=markup if final else None,
            **extra,
        )
    if document is not None:
        last = await call(
            bot.send_document,
            chat_id=chat_id,
            document=InputFile(document.content, filename=document.filename),
            caption=caption,
            reply_markup=markup,
        )
    return last


def delivery_error(exc: TelegramError) -> DeliveryError:
    """What a Bot API error means for the outbox (see bot/outbox/ports.py).

    Only a request that provably did not reach Telegram, or that Telegram refused as a whole
    (5xx, 429), is safe to repeat. A lost answer, or one that could not be read although the
    request was written (PTB: "Invalid server response"), may hide a message Telegram
    accepted: MaybeDelivered, never a copy.
    """
    detail = redact(str(exc))
    match exc:
        case RetryAfter():
            return RetryLater(retry_after_seconds(exc), detail)
        case ChatMigrated():
            return ChatMoved(str(exc.new_chat_id))
        case Forbidden():
            return RecipientUnreachable(detail)
        case BadRequest() if "chat not found" in detail.lower():
            return RecipientUnreachable(detail)
        case BadRequest():
            return PermanentFailure(detail)
        case AnswerLost():
            return MaybeDelivered(detail)
        case NetworkError():  # no connection, or an HTTP error status (5xx)
            return TransientFailure(detail)
        case _ if type(exc) is TelegramError:  # a 2xx answer that was not JSON
            return MaybeDelivered(detail)
        case _:
            return TransientFailure(detail)


class TelegramSender:
    """The outbox's view of Telegram: deliver one message, classify failures."""

    platform = PLATFORM
    # The Bot API has no idempotency key and no way to ask what arrived: a delivery cut
    # short by a crash is marked uncertain instead of repeated (see storage/outbox.py).
    idempotent = False

    def __init__(
        self,
        application: Application,
        limits: DeliveryLimits = TELEGRAM_LIMITS,
        replies: SendWindow | None = None,
    ) -> None:
        self._application = application
        self.limits = limits
        self.replies = replies

    def is_group_chat(self, chat_id: str) -> bool:
        return chat_id.startswith("-")

    async def deliver(
        self, chat_id: str, message: OutgoingMessage, *, key: str | None = None
    ) -> str | None:
        answered = 0  # parts Telegram confirmed: after one, a repeat would copy it

        async def counted(method: Call, **kwargs: Any) -> Any:
            nonlocal answered
            result = await method(**kwargs)
            answered += 1
            return result

        try:
            if edit := message.extra.get(EDIT_MESSAGE_ID):
                return await self._edit(int(chat_id), edit, message)
            sent = await send_content(
                self._application.bot,
                int(chat_id),
                message.text,
                message.buttons,
                message.document,
                counted,
                markdown=message.extra.get(TEXT_FORMAT) == MARKDOWN_FORMAT,
            )
            return str(sent.message_id) if sent else None
        except TelegramError as exc:
            error = delivery_error(exc)
            if answered and isinstance(error, TransientFailure | RetryLater):
                error = MaybeDelivered(f"{answered} part(s) sent, then: {error}")
            raise error from exc

    async def probe(self) -> None:
        """Whether Telegram answers, without sending anything (getMe)."""
        try:
            await self._application.bot.get_me()
        except TelegramError as exc:
            raise delivery_error(exc) from exc

    async def _edit(self, chat_id: int, message_id: str, message: OutgoingMessage) -> str:
        """Replace an earlier message in place (e.g. a poll with new answers); content that
        is already shown counts as delivered."""
        try:
            await self._application.bot.edit_message_text(
                chat_id=chat_id,
                message_id=int(message_id),
                text=message.text[: MessageLimit.MAX_TEXT_LENGTH],
                reply_markup=keyboard(message.buttons),
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise
        return message_id


class TelegramAdapter:
    name = PLATFORM
    max_text_length = MessageLimit.MAX_TEXT_LENGTH
    command_prefix = "/"
    max_buttons: int | None = None  # an inline keyboard takes what a poll needs
    opens_direct_chats = False  # bots cannot write first
    single_process: str | None = None  # webhook mode scales out (handlers/processes)

    def __init__(self, settings: Settings, dispatcher: Dispatcher, router: Router) -> None:
        if not settings.telegram_token:
            raise ValueError("TELEGRAM_TOKEN is not set")
        self.settings = settings
        self.dispatcher = dispatcher
        self.router = router
        register_secret(settings.telegram_token)
        self._webhook_secret = settings.telegram_webhook_secret
        if self._webhook_secret:
            register_secret(self._webhook_secret)
        self.application = (
            ApplicationBuilder()
            .token(settings.telegram_token)
            .base_url(settings.telegram_base_url)
            .base_file_url(settings.telegram_base_file_url)
            .request(AiohttpRequest(read_timeout=settings.telegram_read_timeout_seconds))
            .get_updates_request(AiohttpRequest(connection_pool_size=1))
            .concurrent_updates(PerChatUpdateProcessor())
            .build()
        )
        self.application.add_handler(
            TgMessageHandler(filters.TEXT & ~filters.UpdateType.EDITED, self._on_message)
        )
        self.application.add_handler(CallbackQueryHandler(self._on_callback))
        self.application.add_handler(
            TgMessageHandler(filters.StatusUpdate.MIGRATE, self._on_migration)
        )
        self.application.add_handler(
            ChatMemberHandler(self._on_chat_member, ChatMemberHandler.ANY_CHAT_MEMBER)
        )
        self.application.add_error_handler(self._on_error)
        # Direct replies never wait, but the delivery worker counts them against Telegram's
        # overall limit (see TELEGRAM_LIMITS.ceiling_per_second).
        self._replies = SendWindow(30)
        self._sender = TelegramSender(self.application, replies=self._replies)
        self._standings = MemberStandings(
            lambda: self.application.bot, self.dispatcher.services.clock.now
        )
        self._rights_check: asyncio.Task[None] | None = None
        self._webhook: WebhookServer | None = None
        self._holder = claims.holder_id()  # this process, as the owner of update claims

    async def _choose_webhook_secret(self) -> str:
        """Webhook mode always has a secret: without one anybody could post forged updates.

        Without TELEGRAM_WEBHOOK_SECRET a random one is made once per installation and kept
        in the database, so every process behind one URL registers and expects the same
        (a secret per process would leave all but the last to call setWebhook refusing
        Telegram's posts). Posts without it are refused (constant time, telegram_webhook.py).
        """
        if self._webhook_secret:
            return self._webhook_secret
        secret = await shared_webhook_secret(self.dispatcher.services)
        register_secret(secret)
        log.info("telegram: no TELEGRAM_WEBHOOK_SECRET set; using this installation's own")
        self._webhook_secret = secret
        return secret

    # --- Platform protocol (what handlers may ask) ---------------------------------------

    @property
    def bot_username(self) -> str | None:
        try:
            return self.application.bot.username
        except RuntimeError:  # before initialize()
            return None

    def direct_chat_hint(self) -> str | None:
        return f"https://t.me/{self.bot_username}" if self.bot_username else None

    async def is_chat_admin(self, chat_id: str, user_id: str) -> bool:
        """Asked again after a minute (on the injected clock, see telegram_members.py), so
        a demoted admin loses the chair role derived from it within a minute."""
        return await self._standings.standing(chat_id, user_id) is Standing.ADMIN

    async def reports_departures(self, chat_id: str) -> bool:
        """Telegram sends `chat_member` updates only while the bot is a group admin."""
        if not self._sender.is_group_chat(chat_id):
            return True
        own = await self._standings.standing(chat_id, str(self.application.bot.id), fresh=True)
        return own is Standing.ADMIN

    async def unreported_standing(self, chat_id: str, user_id: str) -> Standing | None:
        """In a group where the bot is no admin nobody tells it who left: ask getChatMember
        (cached for a minute). Where it is admin, the updates said it all: None."""
        if not self._sender.is_group_chat(chat_id):
            return None
        own = await self._standings.standing(chat_id, str(self.application.bot.id))
        if own is Standing.ADMIN:
            return None
        return await self._standings.standing(chat_id, user_id)

    @property
    def sender(self) -> TelegramSender:
        return self._sender

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await self._start()
        except InvalidToken:
            raise AdapterStartError(
                "Telegram refused TELEGRAM_TOKEN; check it with @BotFather."
            ) from None

    async def _start(self) -> None:
        await self.application.initialize()
        await self._publish_commands()
        await self.application.start()
        updater = self.application.updater
        assert updater is not None
        # Membership follows the chat: who leaves (chat_member, sent only while the bot is
        # a group admin) and whether the bot itself was removed or demoted (my_chat_member).
        allowed = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.CHAT_MEMBER, Update.MY_CHAT_MEMBER]
        if self.settings.telegram_mode is TelegramMode.WEBHOOK:
            if not self.settings.telegram_webhook_url:
                raise ValueError("TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_URL")
            secret = await self._choose_webhook_secret()
            self._webhook = WebhookServer(
                self.application,
                listen=self.settings.telegram_webhook_listen,
                port=self.settings.telegram_webhook_port,
                path=self._webhook_path(),
                secret=secret,
                handle=self.handle_posted,
            )
            await self._webhook.start()
            await self.application.bot.set_webhook(
                url=self.settings.telegram_webhook_url,
                secret_token=secret,
                allowed_updates=allowed,
            )
        else:
            await updater.start_polling(allowed_updates=allowed, poll_interval=0.0, timeout=10)
        log.info("telegram: running as @%s (%s)", self.bot_username, self.settings.telegram_mode)
        self._rights_check = asyncio.create_task(self._check_own_rights(), name="telegram rights")

    async def _check_own_rights(self) -> None:
        """At start-up, ask in every registered group chat whether the bot is (still) there
        and an admin: a `my_chat_member` update missed while the bot was down, or a group
        registered before the bot asked, would otherwise go unnoticed. The chat is told once
        (see handlers/members/leaving.py), not at every start."""
        me = str(self.application.bot.id)
        for chat_id in await self.dispatcher.live_chats(PLATFORM):
            if not self._sender.is_group_chat(chat_id):
                continue
            try:
                own = await self._standings.standing(chat_id, me, fresh=True)
            except Exception:
                log.exception("could not check the bot's rights in %s", chat_id)
                continue
            if own is Standing.GONE:
                await self.dispatcher.bot_removed(PLATFORM, chat_id)
            elif own is not None:
                await self.dispatcher.bot_added(PLATFORM, chat_id, is_admin=own is Standing.ADMIN)

    def _webhook_path(self) -> str:
        from urllib.parse import urlsplit

        return urlsplit(self.settings.telegram_webhook_url or "").path.lstrip("/")

    async def stop(self) -> None:
        if self._rights_check is not None and not self._rights_check.done():
            self._rights_check.cancel()
        if self._webhook is not None:
            await self._webhook.stop()
            self._webhook = None
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def _publish_commands(self) -> None:
        """The command menu per app language, and the bot's default language for the rest."""
        targets: list[tuple[str | None, str]] = [(lang, lang) for lang in LANGUAGES]
        targets.append((None, self.settings.bot_language))
        for language_code, language in targets:
            t = Translator(language)
            commands = [
                BotCommand(c.display_name(language), t.gettext(c.summary)[:256])
                for c in self.router.commands
                if not c.hidden and not c.admin_only
            ]
            try:
                await self.application.bot.set_my_commands(commands, language_code=language_code)
            except TelegramError:
                log.warning("could not publish the %s command menu", language, exc_info=True)

    # --- updates in, replies out ------------------------------------------------------------

    async def handle_posted(self, update: Update) -> int:
        """A webhook post, with several processes behind one URL: handled here once and in
        its chat's order (see handlers/processes/claims.py); the HTTP status for Telegram.

        200 for a handled update, or a copy of one; 503 for a copy another process still has
        in hand after WEBHOOK_WAIT_SECONDS (Telegram posts it again later)."""
        chat = update.effective_chat
        # One owner per post: a copy posted to this same process is not "ours" to handle.
        owner = f"{self._holder}/{secrets.token_hex(4)}"
        claim = claims.UpdateClaim(
            PLATFORM, update.update_id, str(chat.id) if chat else None, owner
        )
        services = self.dispatcher.services
        verdict = await claims.admit(services, claim, max_wait=WEBHOOK_WAIT_SECONDS)
        if verdict is claims.Claim.HANDLED:
            log.info("telegram update %s arrived again; handled before", update.update_id)
            return 200
        if verdict is claims.Claim.BUSY:
            return 503
        token = claims.current_claim.set(claim)
        try:
            await self.application.process_update(update)
        finally:
            claims.current_claim.reset(token)
        if not await claims.finish(services, claim):
            log.warning("telegram update %s was taken over by another process", update.update_id)
        return 200

    async def _on_message(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None or user.is_bot:
            return
        incoming = incoming_message(message, user)
        replies = await self.dispatcher.handle(incoming, self)
        for index, reply in enumerate(replies):
            await self._send_reply(incoming, reply, index)

    async def _on_migration(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A group became a supergroup: Telegram sends the new id into the old chat."""
        message = update.effective_message
        if message is not None and message.migrate_to_chat_id:
            await self.dispatcher.chat_moved(
                PLATFORM, str(message.chat.id), str(message.migrate_to_chat_id)
            )

    async def _on_chat_member(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Someone (or the bot itself) joined, left, was removed, banned or re-ranked."""
        changed = update.chat_member or update.my_chat_member
        if changed is None or changed.chat.type == ChatType.PRIVATE:
            return
        chat_id = str(changed.chat.id)
        user_id = str(changed.new_chat_member.user.id)
        self._standings.remember(chat_id, user_id, changed.new_chat_member)
        after, before = standing_of(changed.new_chat_member), standing_of(changed.old_chat_member)
        if update.my_chat_member is not None:
            if after is Standing.GONE:
                await self.dispatcher.bot_removed(PLATFORM, chat_id)
            else:
                await self.dispatcher.bot_added(PLATFORM, chat_id, is_admin=after is Standing.ADMIN)
            return
        if after is Standing.GONE:
            await self.dispatcher.member_left(PLATFORM, chat_id, user_id)
        elif before is Standing.GONE:
            await self.dispatcher.member_joined(PLATFORM, chat_id, user_id)
        elif before is Standing.ADMIN and after is Standing.MEMBER:
            await self.dispatcher.admins_demoted(PLATFORM, chat_id, [user_id])

    async def _on_callback(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or query.data is None:
            return
        message = query.message
        if not isinstance(message, Message):  # inaccessible (too old) message
            await query.answer()
            return
        incoming = incoming_message(message, query.from_user, callback_data=query.data)
        replies = await self.dispatcher.handle(incoming, self)
        toast = next((r.toast for r in replies if r.toast), None)
        try:
            await query.answer(text=toast)
        except BadRequest:
            log.info("callback query %s expired before we answered", query.id)
        for reply in replies:
            if reply.edit and reply.document is None:
                await self._reply_call(
                    message.edit_text,
                    text=reply.text[: self.max_text_length],
                    reply_markup=keyboard(reply.buttons),
                )
            else:
                await self._send_reply(incoming, reply)

    async def _send_reply(self, incoming: IncomingMessage, reply: Reply, index: int = 0) -> None:
        """Send a reply at once; if Telegram provably did not take it (no connection, 5xx,
        429 after retrying), it goes through the outbox instead of being dropped. One that
        may have arrived (lost answer) or arrived in part is not queued: never a copy."""
        chat_id = int(incoming.sender.user_id if reply.to_private else incoming.chat.chat_id)
        answered = 0

        async def counted(method: Call, **kwargs: Any) -> Any:
            nonlocal answered
            result = await self._reply_call(method, **kwargs)
            answered += 1
            return result

        try:
            sent = await send_content(
                self.application.bot,
                chat_id,
                reply.text,
                reply.buttons,
                reply.document,
                counted,
                markdown=reply.markdown,
            )
        except TelegramError as exc:
            error = delivery_error(exc)
            if answered or not isinstance(error, TransientFailure | RetryLater):
                raise
            log.warning("reply to chat %s not sent (%s): queued in the outbox", chat_id, error)
            await queue_unsent_reply(
                self.dispatcher.services,
                platform=PLATFORM,
                chat_id=str(chat_id),
                key=f"{incoming.chat.chat_id}:{incoming.message_id}:{index}",
                message=OutgoingMessage(
                    reply.text,
                    reply.buttons,
                    reply.document,
                    extra={TEXT_FORMAT: MARKDOWN_FORMAT} if reply.markdown else {},
                ),
                record_as=reply.record_as,
            )
            return
        await record_sent_reply(
            self.dispatcher.services,
            platform=PLATFORM,
            chat_id=str(chat_id),
            reply=reply,
            message_id=str(sent.message_id) if sent else None,
        )

    async def _reply_call(self, method: Call, **kwargs: Any) -> Any:
        """One request of a direct reply: it goes at once, counted for the worker's pacing."""
        async with self._replies.slot(wait=False):
            return await _patiently(method, **kwargs)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram: error while processing an update", exc_info=context.error)
