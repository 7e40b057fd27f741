"""Matrix adapter (matrix-nio): rooms and direct chats through the same handlers.

Design notes:
- Commands start with MATRIX_COMMAND_PREFIX ("!" by default; Matrix clients keep "/" for
  themselves) or follow a mention of the bot ("AG Bot: hilfe").
- Replies are `m.notice` events with a plain `body` and an HTML `formatted_body`, sent as
  replies (`m.in_reply_to`) in group rooms so busy rooms keep context.
- Buttons become reactions: the bot lists the choices with keycap emoji and reacts with
  each one once, so a member only taps (bot/adapters/matrix_buttons.py: a button with its
  own number gets that number's keycap). Reactions work in every client and need no
  room-version support, unlike native poll events; the mapping is stored, so buttons keep
  working after a restart. Removing one's reaction takes that answer back.
- The sync token and the ids of handled events are stored in the database: a restart
  neither replays commands nor misses those sent while the bot was down. Events from
  before the bot joined a room are ignored. The bot never calls logout() (that would
  destroy its device); the session is kept in MATRIX_STORE_PATH.
- End-to-end encrypted rooms work (matrix-nio's e2e extra, vodozemac): the device keys
  live in MATRIX_STORE_PATH, the bot encrypts to every device in the room without
  interactive verification (trust on first use), and files are encrypted too. A message it
  cannot decrypt makes it ask for the key and say so in the room once.
- nio retries 429s forever by default; here it never does. Failures are classified for
  the outbox (matrix_send: not sent / maybe delivered / rate limited), events go out at a
  pace learned from the homeserver (matrix_rate), and a reply that cannot go out at once is
  queued in the outbox (matrix_replies) instead of waiting inside the sync loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import html
import io
import json
import logging
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    JoinError,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    PowerLevelsEvent,
    ReactionEvent,
    RedactionEvent,
    RoomCreateError,
    RoomMemberEvent,
    RoomMessageText,
    RoomPreset,
    RoomRedactResponse,
    SyncError,
    SyncResponse,
    UploadResponse,
)
from nio.crypto import ENCRYPTION_ENABLED

from bot.adapters.matrix_buttons import KEYCAPS, keyed
from bot.adapters.matrix_mentions import with_mentions_resolved
from bot.adapters.matrix_rate import MatrixPace, starting_pace
from bot.adapters.matrix_replies import IN_REPLY_TO, TX_KEY, queue_reply, reply_tx_key
from bot.adapters.matrix_send import (
    PACE_MAX_WAIT_SECONDS,
    PROBE_TIMEOUT_SECONDS,
    SEND_TIMEOUT_SECONDS,
    UPLOAD_TIMEOUT_SECONDS,
    answers,
    failure_from_response,
    send_event,
    txn_id,
    within,
)
from bot.core.i18n import N_, Translator
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
from bot.core.outage_log import OutageLog
from bot.core.platform import Standing
from bot.core.rich_text import MARKDOWN_FORMAT, TEXT_FORMAT, split_markdown
from bot.core.rich_text import to_html as markdown_html
from bot.core.rich_text import to_plain as rich_plain
from bot.core.settings import Settings
from bot.core.text import split_text
from bot.outbox.ports import (
    DeliveryError,
    DeliveryLimits,
    OwnPace,
    PermanentFailure,
    RecipientUnreachable,
    RetryLater,
)
from handlers.context import Services
from handlers.delivery.replies import record_sent_reply
from handlers.dispatcher import Dispatcher
from storage import platform_state
from storage.db import is_unavailable
from storage.people import (
    direct_chat_owner,
    group_for_chat,
    known_direct_chat,
    registered_chat_ids,
    remember_direct_chat,
)

log = logging.getLogger(__name__)

PLATFORM = "matrix"
MAX_TEXT = 16_000  # events are capped at 64 KiB; HTML doubles the text
SYNC_TIMEOUT_MS = 30_000
WORKER_HEADROOM = 2.0
REACTIONS_KEPT = timedelta(days=90)  # per-person reaction records (see forget_old_events)
# Synapse's default rc_message: 0.2 messages/s with a burst of 10.
DEFAULT_LIMITS = DeliveryLimits(
    global_per_second=0.2, per_chat_per_second=0.2, per_group_per_minute=12
)


UNDECRYPTABLE = N_(
    "I could not decrypt a message here (its key was not shared with my device). "
    "Please send the command again."
)


class MatrixError(RuntimeError):
    pass


async def e2e_housekeeping(client: AsyncClient) -> None:
    """What nio's sync_forever would do for end-to-end encryption after a sync: publish our
    keys, learn the devices of room members, claim one-time keys, send queued key shares."""
    if not client.olm:
        return
    if client.should_upload_keys:
        await client.keys_upload()
    if client.should_query_keys:
        await client.keys_query()
    if client.should_claim_keys:
        await client.keys_claim(client.get_users_for_key_claiming())
    await client.send_to_device_messages()


def to_html(text: str) -> str:
    """Plain reply text as Matrix HTML: escaped, line breaks kept, bullet lines as a list."""
    out: list[str] = []
    bullets: list[str] = []
    for line in text.split("\n"):
        if line.startswith("• "):
            bullets.append(f"<li>{html.escape(line[2:])}</li>")
            continue
        if bullets:
            out.append("<ul>" + "".join(bullets) + "</ul>")
            bullets = []
        out.append(html.escape(line) + "<br/>")
    if bullets:
        out.append("<ul>" + "".join(bullets) + "</ul>")
    return "".join(out).removesuffix("<br/>")


def with_choices(
    text: str, buttons: tuple[tuple[Button, ...], ...]
) -> tuple[str, list[tuple[str, Button]]]:
    """The text with its choices listed by keycap, and (keycap, button) for each."""
    choices = keyed([button for row in buttons for button in row])
    if not choices:
        return text, []
    lines = [f"{key} {label}" for key, label, _ in choices]
    return text + "\n\n" + "\n".join(lines), [(key, button) for key, _, button in choices]


_tx = txn_id  # the transaction id of one event of a delivery (matrix_send)


# Whether the events sent now are the outbox's (they wait for their turn) or direct replies.
PACED: contextvars.ContextVar[bool] = contextvars.ContextVar("matrix_paced", default=False)


class MatrixSender:
    """The outbox's view of Matrix."""

    platform = PLATFORM
    # Every event of a delivery is sent with a transaction id derived from the outbox row,
    # and the homeserver answers a repeated PUT with the same id with the event it already
    # has: a delivery cut short by a crash is simply repeated (exactly once).
    idempotent = True
    replies = None  # the homeserver's limit is per sender and answered with 429s

    def __init__(self, adapter: MatrixAdapter) -> None:
        self._adapter = adapter
        self.limits = DEFAULT_LIMITS

    def is_group_chat(self, chat_id: str) -> bool:
        return not chat_id.startswith("@") and not self._adapter.is_direct_room(chat_id)

    async def probe(self) -> None:
        """Whether the homeserver answers, without sending an event (whoami): the
        worker's circuit breaker asks this during an outage instead of spending a message
        (and a turn of the pace) on it."""
        client = self._adapter.client
        await answers(client.whoami(), min(self._adapter.send_timeout, PROBE_TIMEOUT_SECONDS))

    async def deliver(
        self, chat_id: str, message: OutgoingMessage, *, key: str | None = None
    ) -> str | None:
        key = message.extra.get(TX_KEY) or key  # a queued reply keeps its first attempt's ids
        token = PACED.set(True)  # the outbox's events wait for their turn
        try:
            room_id = await self._adapter.verified_room(chat_id)
            if edit := message.extra.get(EDIT_MESSAGE_ID):
                reply = Reply(message.text, message.buttons)
                await self._adapter.edit(room_id, edit, reply, raise_delivery=True, tx_key=key)
                return edit
            return await self._adapter.send(
                room_id,
                message.text,
                message.buttons,
                message.document,
                in_reply_to=message.extra.get(IN_REPLY_TO),
                raise_delivery=True,
                tx_key=key,
                markdown=message.extra.get(TEXT_FORMAT) == MARKDOWN_FORMAT,
            )
        finally:
            PACED.reset(token)


class MatrixAdapter:
    name = PLATFORM
    max_text_length = MAX_TEXT
    max_buttons = len(KEYCAPS)  # buttons are keycap reactions
    opens_direct_chats = True  # bots may invite people to a direct room
    single_process = "matrix_sync"  # two syncing processes would each answer every command

    def __init__(self, settings: Settings, dispatcher: Dispatcher, services: Services) -> None:
        if not settings.matrix_homeserver or not settings.matrix_user_id:
            raise ValueError("MATRIX_HOMESERVER and MATRIX_USER_ID are needed")
        self.settings = settings
        self.dispatcher = dispatcher
        self.services = services
        self.command_prefix = settings.matrix_command_prefix
        self.store = Path(settings.matrix_store_path)
        self.store.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(
            settings.matrix_homeserver,
            settings.matrix_user_id,
            device_id=settings.matrix_device_id,
            store_path=str(self.store),  # the device's encryption keys live here
            config=AsyncClientConfig(
                max_limit_exceeded=0,  # we handle 429s: nio's own retries never end
                max_timeouts=2,
                backoff_factor=0.5,
                store_sync_tokens=False,  # the sync position lives in our database
                encryption_enabled=ENCRYPTION_ENABLED,
            ),
        )
        self._sender = MatrixSender(self)
        self.pace = MatrixPace(starting_pace(None, lifted=False))
        self.send_timeout = SEND_TIMEOUT_SECONDS  # a lost answer counts as "maybe delivered"
        self._sync_task: asyncio.Task[None] | None = None
        # The database going away (a PostgreSQL restart) must not end receiving: logged
        # once, then a summary now and then, and syncing goes on once it answers.
        self._database = OutageLog(log, "the database from the Matrix sync", "syncing on")
        self._joined_at: dict[str, int] = {}  # room -> ms; older events there are history
        self._warned_encrypted: set[str] = set()
        self._creators_cache: dict[str, set[str]] = {}
        self._direct_rooms: set[str] = set()
        self._group_rooms: set[str] = set()  # registered as a group's chat (cache of the db)
        self._opened_for: dict[str, str] = {}  # direct rooms we created -> the person
        self._allowed = [
            e.strip() for e in settings.matrix_allowed_inviters.split(",") if e.strip()
        ]

    # --- Platform protocol ------------------------------------------------------------------

    @property
    def bot_username(self) -> str | None:
        return self.settings.matrix_user_id

    def direct_chat_hint(self) -> str | None:
        return None  # no "Start" button on Matrix: the generic hint says to send !start

    async def unreported_standing(self, chat_id: str, user_id: str) -> Standing | None:
        """Matrix sends every leave, kick, ban and power-level change to the room's members,
        the bot included (handled as they arrive): nothing to ask."""
        return None

    async def reports_departures(self, chat_id: str) -> bool:
        return True

    async def is_chat_admin(self, chat_id: str, user_id: str) -> bool:
        """Room moderators and admins (power level ≥ 50) are chairs by default.

        From room version 12 on, a room's creators outrank everyone without appearing in
        the power levels, so they count as admins too.
        """
        room = self.client.rooms.get(chat_id)
        if room is None:
            return False
        if room.power_levels.get_user_level(user_id) >= 50:
            return True
        version = room.room_version
        creators_privileged = not version.isdigit() or int(version) >= 12
        return creators_privileged and user_id in await self._creators(chat_id)

    async def _creators(self, room_id: str) -> set[str]:
        if room_id not in self._creators_cache:
            response = await self.client.room_get_state(room_id)
            events = getattr(response, "events", [])
            create = next((e for e in events if e.get("type") == "m.room.create"), {})
            content = create.get("content", {})
            found = {create.get("sender"), content.get("creator")}
            found.update(content.get("additional_creators", []))
            creators = {c for c in found if isinstance(c, str)}
            if not creators:  # the state could not be read: ask again next time
                return set()
            self._creators_cache[room_id] = creators
        return self._creators_cache[room_id]

    @property
    def sender(self) -> MatrixSender:
        return self._sender

    async def is_private_with(self, room_id: str, user_id: str) -> bool:
        """Whether a room is really a private chat with `user_id`: its only members (joined
        or invited) are the bot and that person, and one of the two created it. A room a
        third person created (and invited both into, is_direct or not) never is: its
        creator can read along, rejoin or let others in."""
        me = self.client.user_id
        room = self.client.rooms.get(room_id)
        if room is None:  # created by us a moment ago, before the next sync showed it
            return self._opened_for.get(room_id) == user_id
        if set(room.users) != {me, user_id}:
            return False
        creators = await self._creators(room_id)
        return bool(creators) and creators <= {me, user_id}  # unknown: not private

    def is_direct_room(self, room_id: str) -> bool:
        """Direct chats are the rooms we were invited to (or opened) as direct chats;
        a small unnamed room of two counts as one too, for rooms from before this flag.
        A room registered as a group's chat never is, however few are left in it."""
        if room_id in self._group_rooms:
            return False
        if room_id in self._direct_rooms:
            return True
        room = self.client.rooms.get(room_id)
        return room is not None and room.member_count <= 2 and not room.name

    async def _is_group_room(self, room_id: str) -> bool:
        """Whether the room is registered as a working group's chat: a stored fact, which
        wins over anything the room's current shape suggests."""
        if room_id in self._group_rooms:
            return True
        async with self.services.sessions() as session:
            group = await group_for_chat(session, PLATFORM, room_id)
        if group is not None:
            self._group_rooms.add(room_id)
        return group is not None

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        await self._login()
        self.client.add_event_callback(self._on_text, RoomMessageText)
        self.client.add_event_callback(self._on_reaction, ReactionEvent)
        self.client.add_event_callback(self._on_redaction, RedactionEvent)
        self.client.add_event_callback(self._on_encrypted, MegolmEvent)
        self.client.add_event_callback(self._on_invite, InviteMemberEvent)
        self.client.add_event_callback(self._on_member, RoomMemberEvent)
        self.client.add_event_callback(self._on_power_levels, PowerLevelsEvent)
        self._direct_rooms = set(json.loads(await self._load("direct_rooms") or "[]"))
        async with self.services.sessions() as session:
            self._group_rooms = await registered_chat_ids(session, PLATFORM)
        token = await self._load("sync_token")
        if token is None:  # first start: learn the rooms, answer nothing from the past
            response = await self.client.sync(timeout=0, full_state=True)
            if isinstance(response, SyncError):
                raise MatrixError(f"first sync failed: {response.message}")
            await self._save("sync_token", response.next_batch)
        else:
            self.client.next_batch = token
            await self._initial_state()
        await self._crypto_housekeeping()
        await self._detect_rate_limits()
        await self.forget_old_events()
        self._sync_task = asyncio.create_task(self._sync_loop(), name="matrix-sync")
        log.info("matrix: running as %s", self.settings.matrix_user_id)

    async def stop(self) -> None:
        if self._sync_task is not None:
            self._sync_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sync_task
        await self.client.close()  # never logout(): that would delete the device

    async def _login(self) -> None:
        session_file = self.store / "session.json"
        if self.settings.matrix_access_token:
            self.client.restore_login(
                self.settings.matrix_user_id or "",
                self.settings.matrix_device_id or "",
                self.settings.matrix_access_token,
            )
            return
        if session_file.exists():
            saved = json.loads(session_file.read_text())
            if saved.get("user_id") == self.settings.matrix_user_id:
                self.client.restore_login(saved["user_id"], saved["device_id"], saved["token"])
                return
        response = await self.client.login(self.settings.matrix_password or "", "AG-Assistent")
        if not isinstance(response, LoginResponse):
            raise MatrixError(f"login failed: {getattr(response, 'message', response)}")
        self.store.mkdir(parents=True, exist_ok=True)
        session_file.write_text(
            json.dumps(
                {
                    "user_id": response.user_id,
                    "device_id": response.device_id,
                    "token": response.access_token,
                }
            )
        )
        os.chmod(session_file, 0o600)

    async def _initial_state(self) -> None:
        """After a restart: load every room's full state without touching the saved position.

        nio syncs from its `next_batch` whatever `since` says, and ignores a response whose
        token equals it; after an idle downtime the server answers with that same token, so
        no state was ever loaded (rooms lost names, members and power levels). An initial
        sync (no token at all) always brings the whole state."""
        saved = self.client.next_batch
        self.client.next_batch = None  # type: ignore[assignment]
        try:
            response = await self.client.sync(
                timeout=0, full_state=True, sync_filter={"room": {"timeline": {"limit": 0}}}
            )
        finally:
            self.client.next_batch = saved
        if isinstance(response, SyncError):
            raise MatrixError(f"initial sync failed: {response.message}")

    async def _crypto_housekeeping(self) -> None:
        await e2e_housekeeping(self.client)

    async def _prepare_encrypted_send(self, room: MatrixRoom) -> None:
        """Before sharing a room key: know every member's devices and have an Olm session
        with each, or members whose devices we never fetched silently get nothing."""
        unknown = {
            user
            for user in room.users
            if user != self.client.user_id
            and not self.client.device_store.active_user_devices(user)
        }
        self.client.olm.users_for_key_query.update(unknown)  # type: ignore[union-attr]
        await self._crypto_housekeeping()
        missing = self.client.get_missing_sessions(room.room_id)
        if missing:
            await self.client.keys_claim(missing)

    async def _detect_rate_limits(self) -> None:
        """Decide how fast messages start to go out, and tell the admin which source it used
        (long runs are expected).

        MATRIX_MESSAGES_PER_SECOND wins and is never exceeded; otherwise the bot asks Synapse
        for its own rate-limit override (works when the bot is a server admin); otherwise it
        starts at Synapse's defaults (0.2 messages per second). Without the setting, the pace
        is then raised while no M_LIMIT_EXCEEDED comes back (matrix_rate); with any source it
        backs off when one does. The worker may go as fast as the ceiling: each event waits
        for its turn in `self.pace`.
        """
        configured = self.settings.matrix_messages_per_second
        lifted = configured is None and await self._rate_limit_lifted()
        start = starting_pace(configured, lifted)
        self.pace = MatrixPace(start)
        # The pace holds the homeserver's limit; the worker only has to keep it fed, so it
        # may go faster: two equal gates in a row lost 10–25% of the rate (the worker counts
        # a delivery in flight from its start, room checks included, to its end).
        self._sender.limits = DeliveryLimits(
            global_per_second=start.ceiling * WORKER_HEADROOM,
            per_chat_per_second=min(start.ceiling, 2.0),
            per_group_per_minute=min(start.ceiling * 60, 60.0),
        )
        rate = start.per_second
        probing = (
            f"; raised while no M_LIMIT_EXCEEDED comes back, up to {start.ceiling:.1f}/s"
            if start.ceiling > rate
            else ""
        )
        log.info(
            "matrix: messages go out at about %.1f/s (%s); 1000 reminders take ~%d min%s",
            rate,
            start.source,
            max(1, round(1000 / rate / 60)),
            probing,
        )

    async def _rate_limit_lifted(self) -> bool:
        url = f"/_synapse/admin/v1/users/{self.settings.matrix_user_id}/override_ratelimit"
        try:
            response = await self.client.send(
                "GET", url, headers={"Authorization": f"Bearer {self.client.access_token}"}
            )
            if response.status == 200:
                body = await response.json()
                return body.get("messages_per_second", 1) == 0
        except Exception:  # not Synapse, or not allowed to ask: assume the defaults
            log.debug("matrix: could not read the rate-limit override", exc_info=True)
        return False

    async def _sync_loop(self) -> None:
        backoff = 1.0
        while True:
            try:
                response = await self.client.sync(timeout=SYNC_TIMEOUT_MS)
                if isinstance(response, SyncResponse):
                    await self._crypto_housekeeping()
                    await self._rooms_left(response)
                    await self._save("sync_token", response.next_batch)  # after the callbacks
                    self._database.worked()
                    backoff = 1.0
                    continue
            except (TimeoutError, aiohttp.ClientError) as error:  # the server is unreachable
                response = SyncError(f"{type(error).__name__}: {error}")
            except Exception as error:  # a callback's or the token's write: database down?
                if not is_unavailable(error):
                    raise
                self._database.failed(self.services.clock.now(), error)
                await asyncio.sleep(min(backoff, 5.0))
                backoff = min(backoff * 2, 60)
                continue
            log.warning(
                "matrix: sync failed (%s); retrying in %.0fs",
                getattr(response, "message", response),
                backoff,
            )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 60)

    # --- events in ------------------------------------------------------------------------------

    async def _rooms_left(self, response: SyncResponse) -> None:
        """Rooms the bot was kicked or banned from (or left): nio runs no callbacks for
        them, so a group's room is marked gone here (once; others are ignored)."""
        for room_id in response.rooms.leave:
            await self.dispatcher.bot_removed(PLATFORM, room_id)

    def _is_history(self, room: MatrixRoom, timestamp: int) -> bool:
        joined = self._joined_at.get(room.room_id)
        return joined is not None and timestamp < joined

    async def _first_time(self, event_id: str) -> bool:
        async with self.services.sessions.begin() as session:
            return await platform_state.first_time_seen(
                session, PLATFORM, event_id, self.services.clock.now()
            )

    async def _chat(self, room: MatrixRoom, sender: str) -> ChatRef:
        """The room as the handlers see it: private only if it is the sender's verified
        private chat, so no one's private chat is ever pointed at a room others can read."""
        private = (
            not await self._is_group_room(room.room_id)
            and self.is_direct_room(room.room_id)
            and await self.is_private_with(room.room_id, sender)
        )
        kind = ChatKind.PRIVATE if private else ChatKind.GROUP
        return ChatRef(PLATFORM, room.room_id, kind, room.display_name)

    def _person(self, room: MatrixRoom, user_id: str) -> UserRef:
        name = room.user_name(user_id) or user_id
        is_bot = user_id == self.client.user_id
        return UserRef(PLATFORM, user_id, name, username=user_id, is_bot=is_bot)

    def _command_text(self, body: str) -> str | None:
        """The command in a message: with the prefix, or after a mention of the bot."""
        text = body.strip()
        if text.startswith(self.command_prefix) or text.startswith("/"):
            return text
        user_id = self.settings.matrix_user_id or ""
        localpart = user_id.split(":")[0].lstrip("@")
        lowered = text.lower()
        for name in (user_id, localpart, self._display_name()):
            if name and lowered.startswith(name.lower()):
                rest = text[len(name) :].lstrip(":, ").strip()
                if rest:
                    return (
                        rest
                        if rest.startswith(self.command_prefix)
                        else (self.command_prefix + rest)
                    )
        return None

    def _display_name(self) -> str:
        for room in self.client.rooms.values():
            name = room.user_name(self.settings.matrix_user_id or "")
            if name:
                return name
        return ""

    async def _on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender == self.client.user_id or self._is_history(room, event.server_timestamp):
            return
        content = event.source.get("content", {})
        body = with_mentions_resolved(
            content, event.body, own_user_id=self.client.user_id, display_name=room.user_name
        )
        text = self._command_text(body)
        chat = await self._chat(room, event.sender)
        if text is None and not chat.is_private:
            return
        if not await self._first_time(event.event_id):
            return
        reply_to = None
        relates = content.get("m.relates_to", {})
        replied_id = relates.get("m.in_reply_to", {}).get("event_id")
        if replied_id:
            replied_sender = await self._sender_of(room.room_id, replied_id)
            if replied_sender:
                reply_to = ReplyTarget(replied_id, self._person(room, replied_sender))
        incoming = IncomingMessage(
            chat=chat,
            sender=self._person(room, event.sender),
            text=text or body,
            message_id=event.event_id,
            reply_to=reply_to,
        )
        await self._answer(incoming, room.room_id, event.event_id)

    async def _on_reaction(self, room: MatrixRoom, event: ReactionEvent) -> None:
        if event.sender == self.client.user_id or self._is_history(room, event.server_timestamp):
            return
        stored = await self._load(f"buttons:{event.reacts_to}")
        if stored is None:
            return
        choices: dict[str, str] = json.loads(stored)
        data = choices.get(event.key)
        if data is None or not await self._first_time(event.event_id):
            return
        reaction = {"on": event.reacts_to, "key": event.key, "sender": event.sender}
        await self._save(
            f"reaction:{event.event_id}",
            json.dumps(reaction, ensure_ascii=False),
            account=event.sender,
        )
        taps_key = f"taps:{event.reacts_to}:{event.sender}"
        taps: dict[str, str] = json.loads(await self._load(taps_key) or "{}")
        exclusive = set(json.loads(await self._load(f"exclusive:{event.reacts_to}") or "[]"))
        superseded = {
            key: reaction_id
            for key, reaction_id in taps.items()
            if event.key in exclusive and key in exclusive and key != event.key
        }
        taps = {k: v for k, v in taps.items() if k not in superseded} | {event.key: event.event_id}
        await self._save(taps_key, json.dumps(taps, ensure_ascii=False), account=event.sender)
        await self._press(room, event.sender, event.reacts_to, data, trigger=event.event_id)
        for key, reaction_id in superseded.items():
            await self._withdraw_reaction(room, event.reacts_to, event.sender, key, reaction_id)

    async def _withdraw_reaction(
        self, room: MatrixRoom, event_id: str, sender: str, key: str, reaction_id: str
    ) -> None:
        """A newer press replaced the answer a reaction gave: remove that reaction where the
        bot may (a moderator bot), else say in reply to the message that it is out of date."""
        await self._save(
            f"reaction:{reaction_id}", json.dumps({"superseded": True}), account=sender
        )
        response = await self.client.room_redact(room.room_id, reaction_id, reason="superseded")
        if isinstance(response, RoomRedactResponse):
            return
        t = Translator(await self._room_language(room.room_id))
        text = t.gettext(
            "{name}: your answer has changed; your reaction {key} is out of date – "
            "please remove it.",
            name=room.user_name(sender) or sender,
            key=key,
        )
        await self.send(room.room_id, text, (), None, in_reply_to=event_id)

    async def _on_redaction(self, room: MatrixRoom, event: RedactionEvent) -> None:
        """A member removed their reaction: the answer it gave is taken back (the button's
        `undo`, e.g. a date's "yes" becomes "no"), once."""
        if event.sender == self.client.user_id or self._is_history(room, event.server_timestamp):
            return
        stored = await self._load(f"reaction:{event.redacts}")
        if stored is None:
            return
        reaction = json.loads(stored)
        taps_key = f"taps:{reaction.get('on')}:{event.sender}"
        taps: dict[str, str] = json.loads(await self._load(taps_key) or "{}")
        if taps.pop(reaction.get("key", ""), None) is not None:
            await self._save(taps_key, json.dumps(taps, ensure_ascii=False), account=event.sender)
        if reaction.get("sender") != event.sender:  # superseded, or not the reactor's own
            return  # a moderator removing someone's reaction does not answer for them
        undo = json.loads(await self._load(f"undo:{reaction['on']}") or "{}").get(reaction["key"])
        if undo is None or not await self._first_time(event.event_id):
            return
        await self._press(room, event.sender, reaction["on"], undo, trigger=event.event_id)

    async def _press(
        self, room: MatrixRoom, sender: str, event_id: str, data: str, *, trigger: str
    ) -> None:
        """A button pressed (or taken back) on `event_id`, as the handlers see it; `trigger`
        is the reaction or redaction event, which keys the replies' transaction ids."""
        incoming = IncomingMessage(
            chat=await self._chat(room, sender),
            sender=self._person(room, sender),
            text="",
            message_id=event_id,
            callback_data=data,
        )
        await self._answer(incoming, room.room_id, event_id, trigger=trigger)

    async def _on_encrypted(self, room: MatrixRoom, event: MegolmEvent) -> None:
        """A message we could not decrypt (its key was not shared with us, or the e2e
        extra is missing): ask the sender's devices for the key and say so once per room."""
        if self._is_history(room, event.server_timestamp):
            return
        if self.client.olm:
            with contextlib.suppress(Exception):
                await self.client.request_room_key(event)
        if room.room_id in self._warned_encrypted:
            return
        self._warned_encrypted.add(room.room_id)
        t = Translator(await self._room_language(room.room_id))
        await self.send(room.room_id, t.gettext(UNDECRYPTABLE), (), None)  # best effort

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key != self.client.user_id or event.membership != "invite":
            return
        if not self._may_invite(event.sender):
            log.info("matrix: ignoring invite to %s from %s", room.room_id, event.sender)
            return
        response = await self.client.join(room.room_id)
        if isinstance(response, JoinError):
            log.warning("matrix: could not join %s: %s", room.room_id, response.message)
            return
        if event.content.get("is_direct"):
            await self._remember_direct(room.room_id)
        self._joined_at[room.room_id] = int(self.services.clock.now().timestamp() * 1000)
        log.info("matrix: joined %s on invitation by %s", room.room_id, event.sender)

    async def _on_member(self, room: MatrixRoom, event: RoomMemberEvent) -> None:
        """Someone left, was kicked or banned from a group's room (or came back), or the
        bot itself was removed: membership follows the room."""
        if self._is_history(room, event.server_timestamp):
            return
        if not await self._is_group_room(room.room_id) and self.is_direct_room(room.room_id):
            return
        if not await self._first_time(event.event_id):
            return
        gone = event.membership in ("leave", "ban")
        if event.state_key == self.client.user_id:
            if gone:
                await self.dispatcher.bot_removed(PLATFORM, room.room_id)
            return
        if gone:
            await self.dispatcher.member_left(PLATFORM, room.room_id, event.state_key)
        elif event.membership == "join" and event.prev_membership in ("leave", "ban"):
            await self.dispatcher.member_joined(PLATFORM, room.room_id, event.state_key)

    async def _on_power_levels(self, room: MatrixRoom, event: PowerLevelsEvent) -> None:
        """Power levels changed: whoever is below moderator now loses a chair role that
        came from being one (nio has applied the new levels to `room` already)."""
        if self._is_history(room, event.server_timestamp):
            return
        me = self.client.user_id
        below = [u for u in room.users if u != me and not await self.is_chat_admin(room.room_id, u)]
        if below:
            await self.dispatcher.admins_demoted(PLATFORM, room.room_id, below)

    def _may_invite(self, user_id: str) -> bool:
        own_server = ":" + (self.settings.matrix_user_id or "").split(":", 1)[-1]
        allowed = self._allowed or [own_server]
        return any(
            user_id == entry or (entry.startswith(":") and user_id.endswith(entry))
            for entry in allowed
        )

    async def _room_language(self, room_id: str) -> str:
        """The language of the working group in this room, else the bot's default."""
        async with self.services.sessions() as session:
            group = await group_for_chat(session, PLATFORM, room_id)
        return group.language if group is not None else self.settings.bot_language

    async def _sender_of(self, room_id: str, event_id: str) -> str | None:
        response = await self.client.room_get_event(room_id, event_id)
        event = getattr(response, "event", None)
        return getattr(event, "sender", None)

    async def _answer(
        self, incoming: IncomingMessage, room_id: str, event_id: str, trigger: str | None = None
    ) -> None:
        """Send the handlers' replies at once; one that fails goes to the outbox
        (matrix_replies), so this callback never waits inside the sync loop."""
        replies = await self.dispatcher.handle(incoming, self)
        said: tuple[str, str] | None = None  # (room, text) of the last notice sent
        for index, reply in enumerate(replies):
            tx_key = reply_tx_key(trigger or event_id, index)
            target = room_id
            edit = reply.edit and reply.document is None and incoming.callback_data is not None
            in_reply_to = None
            text = reply.text
            try:
                if reply.to_private:
                    target = incoming.sender.user_id  # the outbox opens the room if this fails
                    target = await self.direct_room(incoming.sender.user_id)
                if edit:
                    await self.edit(room_id, event_id, reply, raise_delivery=True, tx_key=tx_key)
                    continue
                if not incoming.chat.is_private and target == room_id:
                    in_reply_to = event_id
                if reply.document is not None and not reply.buttons and said == (target, text):
                    text = ""  # files under one caption: a notice (not a caption) says it once
                    in_reply_to = None
                said = (target, reply.text)
                sent = await self.send(
                    target,
                    text,
                    reply.buttons,
                    reply.document,
                    in_reply_to=in_reply_to,
                    raise_delivery=True,
                    tx_key=tx_key,
                    markdown=reply.markdown,
                )
                await record_sent_reply(
                    self.services, platform=PLATFORM, chat_id=target, reply=reply, message_id=sent
                )
            except (RecipientUnreachable, PermanentFailure) as failure:
                log.warning("matrix: reply to %s dropped: %s", target, failure)
            except DeliveryError as failure:
                await queue_reply(
                    self.services,
                    PLATFORM,
                    target,
                    text=text,
                    buttons=reply.buttons,
                    document=reply.document,
                    tx_key=tx_key,
                    failure=failure,
                    in_reply_to=in_reply_to,
                    edit_of=event_id if edit else None,
                    wake=self.services.wake_outbox,
                    markdown=reply.markdown,
                    kept=reply.record_as,
                )

    # --- out ------------------------------------------------------------------------------------

    async def direct_room(self, user_id: str) -> str:
        """The private room with a person: reuse the stored one, or create it (bots may
        write first on Matrix)."""
        async with self.services.sessions() as session:
            known = await known_direct_chat(session, PLATFORM, user_id)
        if known and await self.is_private_with(known, user_id):
            return known
        if known:
            log.warning("matrix: %s is not a private chat with %s; opening one", known, user_id)
        if PACED.get():  # a new room counts against the homeserver's message limit too
            if (later := await self.pace.wait(at_most=PACE_MAX_WAIT_SECONDS)) is not None:
                raise OwnPace(later, f"the bot's own pace: next turn in {later:.1f}s")
        else:
            self.pace.count()
        response = await within(
            self.client.room_create(
                is_direct=True, preset=RoomPreset.trusted_private_chat, invite=[user_id]
            ),
            self.send_timeout,
        )
        if isinstance(response, RoomCreateError):
            failure = failure_from_response(response)
            if isinstance(failure, RetryLater):
                self.pace.limited(failure.seconds)
                raise failure
            if response.status_code in ("M_FORBIDDEN", "M_NOT_FOUND", "M_UNKNOWN"):
                raise RecipientUnreachable(f"cannot open a direct room: {response.message}")
            raise failure
        self._opened_for[response.room_id] = user_id
        await self._remember_direct(response.room_id)
        async with self.services.sessions.begin() as session:
            await remember_direct_chat(session, PLATFORM, user_id, response.room_id)
        return response.room_id

    async def verified_room(self, chat_id: str) -> str:
        """Where a delivery to `chat_id` may go: a person's private chat is checked again
        first, and one that is no longer private (someone else joined, or it never was) is
        replaced by a new private room; group rooms and other chats are left as they are."""
        if chat_id.startswith("@"):  # a person without a known direct room yet
            return await self.direct_room(chat_id)
        async with self.services.sessions() as session:
            owner = await direct_chat_owner(session, PLATFORM, chat_id)
            group = await group_for_chat(session, PLATFORM, chat_id)
        if owner is None or group is not None or await self.is_private_with(chat_id, owner):
            return chat_id
        return await self.direct_room(owner)

    async def send(
        self,
        room_id: str,
        text: str,
        buttons: tuple[tuple[Button, ...], ...],
        document: Document | None,
        *,
        in_reply_to: str | None = None,
        raise_delivery: bool = False,
        tx_key: str | None = None,
        markdown: bool = False,
    ) -> str | None:
        """Send text (split at the size limit), a file and choices. With `tx_key`, each
        event's transaction id is derived from it, so repeating the call sends nothing new.
        Markdown goes out as real HTML with a readable plain body, split between sections."""
        text, choices = with_choices(text, buttons)
        last: str | None = None
        if markdown and text:
            parts = split_markdown(text, MAX_TEXT, measure=lambda part: len(markdown_html(part)))
            bodies = [(rich_plain(part), markdown_html(part)) for part in parts]
        else:
            chunks = split_text(text, MAX_TEXT) if text else []
            bodies = [(chunk, to_html(chunk)) for chunk in chunks]
        for index, (body, formatted) in enumerate(bodies):
            content: dict[str, Any] = {
                "msgtype": "m.notice",
                "body": body,
                "format": "org.matrix.custom.html",
                "formatted_body": formatted,
            }
            if in_reply_to and index == 0:
                content["m.relates_to"] = {"m.in_reply_to": {"event_id": in_reply_to}}
            last = await self._room_send(
                room_id, content, raise_delivery, tx_id=_tx(tx_key, f"text-{index}")
            )
        if document is not None:
            file_event = await self._send_file(
                room_id, document, raise_delivery, tx_id=_tx(tx_key, "file")
            )
            last = file_event or last
        if choices and last:
            await self._offer_choices(room_id, last, choices, tx_key=tx_key)
        return last

    async def _room_send(
        self,
        room_id: str,
        content: dict[str, Any],
        raise_delivery: bool,
        event_type: str = "m.room.message",
        tx_id: str | None = None,
    ) -> str | None:
        """Send one event in its turn (matrix_rate). A failure is classified for the outbox
        (matrix_send) and raised with `raise_delivery`, else logged; nothing here waits out
        a rate limit: the outbox does, outside the sync loop."""
        room = self.client.rooms.get(room_id)
        try:
            if room is None and self.client.olm:  # nio refuses it: take no turn of the pace
                # a room joined a moment ago (or a direct chat just opened): the running
                # sync brings it soon; waiting here would hold up that very sync
                raise RetryLater(1.0, f"not sent: {room_id} is not synced yet")
            if room is not None and room.encrypted and self.client.olm:
                await within(self._prepare_encrypted_send(room), self.send_timeout)
            return await send_event(
                self.client,
                self.pace,
                room_id,
                event_type,
                content,
                tx_id=tx_id,
                paced=PACED.get(),
                seconds=self.send_timeout,
            )
        except DeliveryError as failure:
            log.warning("matrix: sending to %s failed: %s", room_id, failure)
            if raise_delivery:
                raise
            return None

    async def _send_file(
        self, room_id: str, document: Document, raise_delivery: bool, tx_id: str | None = None
    ) -> str | None:
        room = self.client.rooms.get(room_id)
        encrypted = bool(room and room.encrypted and self.client.olm)
        try:  # a repeated upload only stores the file twice; nobody sees a copy
            upload, keys = await within(
                self.client.upload(
                    io.BytesIO(document.content),
                    content_type=document.mime_type,
                    filename=document.filename,
                    filesize=len(document.content),
                    encrypt=encrypted,  # in encrypted rooms the file itself is encrypted too
                ),
                UPLOAD_TIMEOUT_SECONDS,
            )
        except DeliveryError as failure:
            upload, keys = failure, None
        if not isinstance(upload, UploadResponse):
            failure = upload if isinstance(upload, DeliveryError) else failure_from_response(upload)
            log.warning("matrix: upload to %s failed: %s", room_id, failure)
            if raise_delivery:
                raise failure
            return None
        content: dict[str, Any] = {
            "msgtype": "m.file",
            "body": document.filename,
            "filename": document.filename,
            "info": {"mimetype": document.mime_type, "size": len(document.content)},
        }
        if encrypted and keys:
            content["file"] = {"url": upload.content_uri, **keys}
        else:
            content["url"] = upload.content_uri
        return await self._room_send(room_id, content, raise_delivery, tx_id=tx_id)

    async def _offer_choices(
        self,
        room_id: str,
        event_id: str,
        choices: list[tuple[str, Button]],
        tx_key: str | None = None,
    ) -> None:
        """Store what each keycap means and react with each keycap not there yet: an edit
        offers the same keys again, and Synapse refuses a second identical reaction
        (M_DUPLICATE_ANNOTATION). A keycap no longer offered is taken back."""
        mapping = {key: button.data for key, button in choices}
        undo = {key: button.undo for key, button in choices if button.undo}
        exclusive = [key for key, button in choices if button.exclusive]
        await self._save(f"buttons:{event_id}", json.dumps(mapping, ensure_ascii=False))
        await self._save(f"undo:{event_id}", json.dumps(undo, ensure_ascii=False))
        await self._save(f"exclusive:{event_id}", json.dumps(exclusive, ensure_ascii=False))
        await self._react_with(room_id, event_id, list(mapping), tx_key=tx_key)

    async def _react_with(
        self, room_id: str, event_id: str, keys: list[str], tx_key: str | None = None
    ) -> None:
        """Make the bot's own reactions on `event_id` exactly `keys`."""
        sent: dict[str, str] = json.loads(await self._load(f"reacted:{event_id}") or "{}")
        for key in [k for k in sent if k not in keys]:
            await self.client.room_redact(room_id, sent.pop(key))
        for key in keys:
            if key in sent:
                continue
            reaction = await self._room_send(
                room_id,
                {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}},
                raise_delivery=tx_key is not None,
                event_type="m.reaction",
                tx_id=_tx(tx_key, f"choice-{KEYCAPS.index(key)}"),
            )
            if reaction:
                sent[key] = reaction
        await self._save(f"reacted:{event_id}", json.dumps(sent, ensure_ascii=False))

    async def edit(
        self,
        room_id: str,
        event_id: str,
        reply: Reply,
        *,
        raise_delivery: bool = False,
        tx_key: str | None = None,
    ) -> None:
        """Replace an event's text (m.replace) and offer its choices again."""
        text, choices = with_choices(reply.text, reply.buttons)
        new_content = {
            "msgtype": "m.notice",
            "body": text,
            "format": "org.matrix.custom.html",
            "formatted_body": to_html(text),
        }
        edited = await self._room_send(
            room_id,
            {
                **new_content,
                "body": "* " + text,
                "m.new_content": new_content,
                "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
            },
            raise_delivery=raise_delivery,
            tx_id=_tx(tx_key, "edit"),
        )
        if choices and edited:
            await self._offer_choices(room_id, event_id, choices, tx_key=tx_key)
        elif edited:  # no buttons any more (e.g. a closed poll): old reactions do nothing
            await self._save(f"buttons:{event_id}", "{}")
            await self._react_with(room_id, event_id, [])

    # --- state ------------------------------------------------------------------------------

    async def _remember_direct(self, room_id: str) -> None:
        self._direct_rooms.add(room_id)
        await self._save("direct_rooms", json.dumps(sorted(self._direct_rooms)))

    async def _load(self, key: str) -> str | None:
        async with self.services.sessions() as session:
            return await platform_state.get_state(session, PLATFORM, key)

    async def _save(self, key: str, value: str, *, account: str | None = None) -> None:
        """`account`: whose record this is (a reaction, taps), for their erasure."""
        async with self.services.sessions.begin() as session:
            await platform_state.set_state(
                session, PLATFORM, key, value, self.services.clock.now(), account=account
            )

    async def forget_old_events(self, keep: timedelta = timedelta(days=7)) -> None:
        """Handled-event marks go after a week; who reacted how on a message (Matrix IDs)
        after REACTIONS_KEPT, when no poll is still answered by reaction."""
        now = self.services.clock.now()
        async with self.services.sessions.begin() as session:
            await platform_state.forget_events_before(session, PLATFORM, now - keep)
            await platform_state.forget_state_before(
                session, PLATFORM, ("reaction:", "taps:"), now - REACTIONS_KEPT
            )
