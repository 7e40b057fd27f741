"""The fake's world: users, groups and their members, chats with their messages, files,
and the updates that people's actions there create for the bot."""

from __future__ import annotations

import copy
import itertools
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.fake_telegram.protocol import JSON, bad_request, forbidden, utf16_len
from tests.fake_telegram.records import MessageVersion, SentDocument, SentMessage, Signal

DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


def _text_keys(is_document: bool) -> tuple[str, str]:
    """Documents carry caption/caption_entities where text messages carry text/entities."""
    return ("caption", "caption_entities") if is_document else ("text", "entities")


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
    banned: set[int] = field(default_factory=set)
    # Restricted accounts: "restricted" to Telegram, in the chat or not (is_member)
    restricted: set[int] = field(default_factory=set)

    @property
    def type(self) -> str:
        return "supergroup" if self.id <= -1_000_000_000_000 else "group"


@dataclass
class _ChatState:
    next_message_id: int = 1
    messages: dict[int, JSON] = field(default_factory=dict)  # every live message (users + bot)
    bot_messages: dict[int, SentMessage] = field(default_factory=dict)


class World:
    """The simulated Telegram and what people do in it; part of FakeTelegram, whose Bot API
    methods read and change it."""

    # FakeTelegram: the bot's own account and whether it has privacy mode on
    bot_id: int
    bot_username: str
    bot_first_name: str
    privacy_mode: bool
    # Log: the bot's messages and the signal that wakes waiting tests
    sent: list[SentMessage]
    _state_signal: Signal

    def __init__(self) -> None:
        super().__init__()
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
        self._update_signal = Signal()

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

    def kick_bot(self, chat_id: int, by: int | None = None) -> None:
        """Bot removed from a group: sends fail with 403 like Telegram, and the bot gets a
        my_chat_member update (always, admin or not)."""
        group = self._require_group(chat_id)
        old = self._member(chat_id, self.bot_id)
        group.bot_kicked = True
        self._member_update("my_chat_member", chat_id, old, self.bot_id, by)

    def add_bot(self, chat_id: int, by: int, *, admin: bool = False) -> None:
        """Someone adds the bot to a group (again), as a member or an admin."""
        group = self._require_group(chat_id)
        group.bot_kicked, group.bot_is_admin = False, admin
        self._member_update("my_chat_member", chat_id, self._left(self.bot_id), self.bot_id, by)

    def _left(self, user_id: int) -> JSON:
        user = self._bot_user() if user_id == self.bot_id else self._users[user_id].to_dict()
        return {"status": "left", "user": user}

    def set_bot_admin(self, chat_id: int, is_admin: bool, by: int | None = None) -> None:
        """Someone promotes or demotes the bot in a group (my_chat_member, like Telegram)."""
        group = self._require_group(chat_id)
        old = self._member(chat_id, self.bot_id)
        group.bot_is_admin = is_admin
        self._member_update("my_chat_member", chat_id, old, self.bot_id, by)

    def leave_group(self, chat_id: int, user_id: int) -> None:
        """A member leaves a group on their own."""
        self._change_member(chat_id, user_id, user_id, lambda g: g.members.discard(user_id))

    def remove_member(self, chat_id: int, user_id: int, by: int, *, ban: bool = False) -> None:
        """An admin removes (kicks) or bans a member; Telegram reports both as "kicked"
        while the ban lasts; a plain removal is a ban lifted at once, seen as "left"."""

        def apply(group: _Group) -> None:
            group.members.discard(user_id)
            group.admins.discard(user_id)
            group.restricted.discard(user_id)
            if ban:
                group.banned.add(user_id)

        self._change_member(chat_id, user_id, by, apply)

    def restrict_member(self, chat_id: int, user_id: int, by: int) -> None:
        """An admin restricts a member (e.g. may not write): Telegram reports "restricted"
        with `is_member` true while the account is in the chat, and still "restricted",
        with `is_member` false, after it left (leave_group): the restriction outlives it."""

        def apply(group: _Group) -> None:
            group.admins.discard(user_id)
            group.restricted.add(user_id)

        self._change_member(chat_id, user_id, by, apply)

    def promote(self, chat_id: int, user_id: int, by: int) -> None:
        """An admin makes a member an admin."""
        self._change_member(chat_id, user_id, by, lambda g: g.admins.add(user_id))

    def demote(self, chat_id: int, user_id: int, by: int) -> None:
        """An admin takes a member's admin rights away."""
        self._change_member(chat_id, user_id, by, lambda g: g.admins.discard(user_id))

    def _change_member(
        self, chat_id: int, user_id: int, by: int, apply: Callable[[_Group], None]
    ) -> None:
        """Change a member and tell the bot like Telegram: chat_member updates reach a bot
        only while it is an admin of the group."""
        group = self._require_group(chat_id)
        self._require_user(user_id)
        old = self._member(chat_id, user_id)
        group.members.add(user_id)  # _member reads membership from here; apply may undo it
        apply(group)
        if group.bot_is_admin and not group.bot_kicked:
            self._member_update("chat_member", chat_id, old, user_id, by)

    def _member_update(
        self, kind: str, chat_id: int, old: JSON, user_id: int, by: int | None
    ) -> JSON:
        actor = self._bot_user() if by is None else self._require_user(by).to_dict()
        return self.send_update(
            {
                kind: {
                    "chat": self._chat_obj(chat_id),
                    "from": actor,
                    "date": int(time.time()),
                    "old_chat_member": old,
                    "new_chat_member": self._member(chat_id, user_id),
                }
            }
        )

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

    def expire_updates(self) -> int:
        """Telegram keeps updates nobody fetched for 24 hours only: a bot down longer never
        sees them. Drops every pending update; returns how many."""
        count = len(self._updates)
        self._updates.clear()
        return count

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by getUpdates offset / delivered to the webhook."""
        return list(self._updates)

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
                "offset": utf16_len(text[: m.start()]),
                "length": utf16_len(m.group(0)),
                "type": "bot_command",
            }
            for m in pattern.finditer(text)
        ]

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
        if user_id in group.restricted:
            return self._restricted(user, is_member=user_id in group.members)
        if user_id in group.members:
            return {"status": "member", "user": user}
        if user_id in group.banned:
            return {"status": "kicked", "user": user, "until_date": 0}
        return {"status": "left", "user": user}

    @staticmethod
    def _restricted(user: JSON, *, is_member: bool) -> JSON:
        """ChatMemberRestricted: every permission field is required; here nothing but
        reading and reacting is allowed, until_date 0 means for ever."""
        denied = [
            "can_send_messages",
            "can_send_audios",
            "can_send_documents",
            "can_send_photos",
            "can_send_videos",
            "can_send_video_notes",
            "can_send_voice_notes",
            "can_send_polls",
            "can_send_other_messages",
            "can_add_web_page_previews",
            "can_change_info",
            "can_invite_users",
            "can_pin_messages",
            "can_manage_topics",
            "can_edit_tag",
        ]
        data: JSON = {"status": "restricted", "user": user, "is_member": is_member}
        data.update({right: False for right in denied})
        data["can_react_to_messages"] = True
        data["until_date"] = 0
        return data

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
