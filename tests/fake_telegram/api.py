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
import mimetypes
import re
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple, Self
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from tests.fake_telegram.faults import Fault, FaultKind, Faults
from tests.fake_telegram.keyboards import parse_reply_markup
from tests.fake_telegram.markup import format_text
from tests.fake_telegram.protocol import JSON, ApiError, as_json, bad_request
from tests.fake_telegram.records import (
    AnsweredCallback,
    ApiCall,
    FailedCall,
    Log,
    SentDocument,
    SentMessage,
)
from tests.fake_telegram.state import World

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
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


class _Ok(NamedTuple):
    """A result plus the optional ``description`` Telegram adds (e.g. "Webhook was set")."""

    result: Any
    description: str


class _Upload(NamedTuple):
    filename: str
    mime_type: str
    data: bytes


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


def _present(params: JSON, name: str) -> bool:
    value = params.get(name)
    return value is not None and value != ""


Handler = Callable[[JSON, dict[str, _Upload]], Awaitable[Any]]


class FakeTelegram(World, Faults, Log):
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
        webhook_parallel: bool = False,
    ) -> None:
        """``privacy_mode=True`` drops plain group texts like Telegram's default privacy mode;
        ``callback_query_timeout`` makes queries expire (Telegram: ~15 s) for timeout tests.
        ``webhook_parallel=True`` posts like Telegram's Bot API server does: up to the
        webhook's ``max_connections`` posts at once, but one chat's updates one after the
        other (the next only after the previous was answered 2xx); the default posts one
        update at a time, all in order."""
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.privacy_mode = privacy_mode
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_parallel = webhook_parallel
        self.callback_query_timeout = callback_query_timeout
        self.port: int | None = None
        self.base_url = ""
        self.base_file_url = ""
        super().__init__()

        self.logged_out = False
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_deliveries = 0
        self.commands: dict[tuple[str, str], list[JSON]] = {}

        self._poll_generation = 0
        self._webhook_error: tuple[int, str] | None = None
        self._webhook_max_connections = 40

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
            await self._inject_faults(method)
            result = await handler(params, uploads)
            after = self._fault_after(method, params.get("chat_id"))
        except ApiError as err:
            if not _client_gone():  # nobody will see it: don't pollute the error log
                if err.status == 429:
                    self.count_429 += 1
                self.errors.append(FailedCall(method, params, err.status, err.description))
                self._state_signal.fire()
            body = self._error_body(err.status, err.description, err.parameters)
            return web.json_response(body, status=err.status)
        if isinstance(result, _Ok):
            body = {"ok": True, "result": result.result, "description": result.description}
        else:
            body = {"ok": True, "result": result}
        if after is not None:
            return await self._misbehave(request, after, body)
        return web.json_response(body)

    async def _misbehave(
        self, request: web.Request, fault: Fault, body: JSON
    ) -> web.StreamResponse:
        """Answer a processed request the way a misbehaving platform does."""
        if fault.kind is FaultKind.SLOW:
            await self._sleep(fault.seconds)
            return web.json_response(body)
        if fault.kind is FaultKind.MALFORMED:
            return web.Response(
                status=200, text="<html>502 Bad Gateway", content_type="application/json"
            )
        # Reset: the status line and half the body, then the connection is gone.
        encoded = json.dumps(body).encode()
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        response.content_length = len(encoded)
        await response.prepare(request)
        await response.write(encoded[: len(encoded) // 2])
        if request.transport is not None:
            request.transport.abort()
        return response

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

    # ---------------------------------------------------------------- request parameters

    def _chat_id(self, params: JSON) -> int:
        if not _present(params, "chat_id"):
            raise bad_request("chat_id is empty")
        try:
            return _as_int(params["chat_id"], "chat not found")
        except ApiError as exc:
            raise bad_request("chat not found") from exc

    def _reply_target(self, chat_id: int, params: JSON) -> int | None:
        """Resolve reply_parameters (PTB >= 21) or legacy reply_to_message_id."""
        message_id: int | None = None
        allow_missing = _as_bool(params.get("allow_sending_without_reply", False))
        if _present(params, "reply_parameters"):
            reply = as_json(params["reply_parameters"], "can't parse reply parameters JSON")
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
            allowed = as_json(params["allowed_updates"], "can't parse allowed updates")
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
            allowed = as_json(params["allowed_updates"], "can't parse allowed updates")
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
        worker = self._webhook_pool if self.webhook_parallel else self._webhook_worker
        self._webhook_task = asyncio.create_task(worker(url, secret))
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

    async def _webhook_pool(self, url: str, secret: str | None) -> None:
        """Deliver over up to ``max_connections`` connections at once, a chat's updates in
        order: only the earliest pending update of a chat may be in flight."""
        in_flight: set[int] = set()
        connections = [
            self._webhook_connection(url, secret, in_flight)
            for _ in range(self._webhook_max_connections)
        ]
        await asyncio.gather(*connections)

    @staticmethod
    def _queue_of(update: JSON) -> int:
        """The chat an update belongs to (its delivery queue), as Telegram groups them."""
        for kind in ("message", "edited_message", "chat_member", "my_chat_member"):
            if kind in update:
                return int(update[kind]["chat"]["id"])
        if "callback_query" in update:
            query = update["callback_query"]
            message = query.get("message")
            return int(message["chat"]["id"]) if message else int(query["from"]["id"])
        return 0

    def _next_deliverable(self, in_flight: set[int]) -> JSON | None:
        passed: set[int] = set()
        for update in self._updates:
            queue = self._queue_of(update)
            if queue not in in_flight and queue not in passed:
                return update
            passed.add(queue)
        return None

    async def _webhook_connection(self, url: str, secret: str | None, in_flight: set[int]) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        backoff = self.webhook_retry_delay
        while not self._closing and self.webhook_url == url:
            update = self._next_deliverable(in_flight) if self._session is not None else None
            if update is None or self._session is None:
                await self._update_signal.wait(None)
                continue
            queue = self._queue_of(update)
            in_flight.add(queue)
            error: str | None = None
            try:
                async with self._session.post(
                    url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=60)
                ) as resp:
                    await resp.read()
                    if not 200 <= resp.status < 300:
                        error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = f"Connection failed: {exc.__class__.__name__}"
            finally:
                in_flight.discard(queue)
            if error is None:
                with contextlib.suppress(ValueError):
                    self._updates.remove(update)
                self.webhook_deliveries += 1
                self._state_signal.fire()
                self._update_signal.fire()  # the chat's next update may go now
                backoff = self.webhook_retry_delay
                continue
            self._webhook_error = (int(time.time()), error)
            self._update_signal.fire()
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
        scope = as_json(params.get("scope") or {"type": "default"}, "can't parse scope JSON")
        if not isinstance(scope, dict) or "type" not in scope:
            raise bad_request("can't parse BotCommandScope JSON object")
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def _api_set_my_commands(self, params: JSON, uploads: dict[str, _Upload]) -> Any:
        commands = as_json(params.get("commands"), "can't parse commands JSON object")
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
