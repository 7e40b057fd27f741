"""Drive the dispatcher directly, as a platform adapter would, without any network."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from bot.app import Core
from bot.core.messages import ChatKind, ChatRef, IncomingMessage, Reply, ReplyTarget, UserRef
from bot.core.platform import Standing
from bot.outbox.ports import DeliveryLimits
from storage.models import OutboxMessage


@dataclass
class FakePlatform:
    """A chat platform in memory: who is admin where, and what was delivered."""

    name: str = "test"
    max_text_length: int = 4096
    command_prefix: str = "/"
    max_buttons: int | None = None
    admins: set[tuple[str, str]] = field(default_factory=set)  # (chat id, user id)
    limits: DeliveryLimits = field(default_factory=lambda: DeliveryLimits(1000, 1000, 60000))
    delivered: list[tuple[str, str]] = field(default_factory=list)
    # Like a Telegram group where the bot is no admin: leaving is not reported, but asking
    # (unreported_standing) tells; without an entry here the platform has nothing to say.
    standings: dict[tuple[str, str], Standing] = field(default_factory=dict)
    asked: list[tuple[str, str]] = field(default_factory=list)

    @property
    def bot_username(self) -> str | None:
        return "ag_test_bot"

    @property
    def platform(self) -> str:
        return self.name

    def direct_chat_hint(self) -> str | None:
        return "https://t.me/ag_test_bot"

    async def is_chat_admin(self, chat_id: str, user_id: str) -> bool:
        return (chat_id, user_id) in self.admins

    def is_group_chat(self, chat_id: str) -> bool:
        return chat_id.startswith("-")

    async def unreported_standing(self, chat_id: str, user_id: str) -> Standing | None:
        self.asked.append((chat_id, user_id))
        return self.standings.get((chat_id, user_id))

    async def reports_departures(self, chat_id: str) -> bool:
        return not any(chat == chat_id for chat, _ in self.standings)


def person(name: str, language: str | None = "de") -> UserRef:
    return UserRef("test", name, name.capitalize(), username=name, language_code=language)


GROUP = ChatRef("test", "-100", ChatKind.GROUP, "AG Transfer")
OTHER_GROUP = ChatRef("test", "-200", ChatKind.GROUP, "AG Qualität")


def dm(user: UserRef) -> ChatRef:
    return ChatRef("test", user.user_id, ChatKind.PRIVATE)


class Conversation:
    """Messages to the dispatcher as people in chats; `admins` are (chat, person) pairs the
    platform reports as chat admins."""

    def __init__(
        self,
        core: Core,
        platform: FakePlatform | None = None,
        admins: Iterable[tuple[ChatRef, UserRef]] = (),
    ) -> None:
        self.core = core
        self.platform = platform or FakePlatform()
        for where, who in admins:
            self.platform.admins.add((where.chat_id, who.user_id))
        core.services.presence[self.platform.name] = self.platform

    async def say(
        self,
        who: UserRef,
        text: str,
        chat: ChatRef = GROUP,
        *,
        reply_to: UserRef | None = None,
        callback: str | None = None,
        message_id: str | None = None,
    ) -> list[Reply]:
        """With `callback`, `text` and `message_id` are those of the pressed message, as
        Telegram reports them."""
        message = IncomingMessage(
            chat=chat,
            sender=who,
            text=text,
            message_id=message_id,
            reply_to=ReplyTarget("1", reply_to) if reply_to else None,
            callback_data=callback,
        )
        return await self.core.dispatcher.handle(message, self.platform)

    async def text(self, who: UserRef, text: str, chat: ChatRef = GROUP, **kw: object) -> str:
        """All reply texts joined, for assertions."""
        return "\n".join(r.text for r in await self.say(who, text, chat, **kw))  # type: ignore[arg-type]


@contextmanager
def running_bot(
    now: datetime,
    setup: Iterable[tuple[UserRef, str, ChatRef]],
    admins: Iterable[tuple[ChatRef, UserRef]] = (),
) -> Iterator[tuple[asyncio.Runner, Conversation]]:
    """A whole bot on a throwaway SQLite file with its own event loop, for synchronous
    (hypothesis) tests that send it many messages; `setup` is said first, in order."""
    from bot.core.clock import FixedClock
    from bot.core.settings import load_settings

    with tempfile.TemporaryDirectory() as tmp, asyncio.Runner() as runner:
        url = f"sqlite:///{Path(tmp) / 'bot.db'}"
        core = runner.run(
            Core.create(load_settings(database_url=url, _env_file=None), FixedClock(now))
        )
        chat = Conversation(core, admins=admins)
        for who, text, where in setup:
            runner.run(chat.say(who, text, where))
        try:
            yield runner, chat
        finally:
            runner.run(core.close())


LiveBot = tuple[asyncio.Runner, Conversation]


@contextmanager
def running_ag_transfer(now: datetime, *scene: tuple[UserRef, str]) -> Iterator[LiveBot]:
    """`running_bot` with AG Transfer registered in GROUP by Anna, its chat admin, and Bernd a
    member; then `scene` is said in GROUP: the stage of a capability's property test."""
    anna, bernd = person("anna"), person("bernd")
    setup = [(anna, '/registrieren ag "AG Transfer"', GROUP), (bernd, "/beitreten", GROUP)]
    setup += [(who, text, GROUP) for who, text in scene]
    with running_bot(now, setup, admins=[(GROUP, anna)]) as bot:
        yield bot


def answers_politely(bot: LiveBot, who: str, text: str) -> None:
    """`who` says `text` in GROUP of a `running_ag_transfer` bot and gets an answer that is not
    the internal-error apology."""
    runner, chat = bot
    assert_answered_without_apology(runner.run(chat.say(person(who), text, GROUP)))


async def registered_ag_transfer(core: Core) -> Conversation:
    """AG Transfer registered in GROUP by Anna, its chat admin, who so chairs it."""
    anna = person("anna")
    chat = Conversation(core, admins=[(GROUP, anna)])
    await chat.say(anna, '/registrieren ag "AG Transfer"')
    return chat


async def registered(chat: Conversation, language: str = "en") -> None:
    """Anna registers AG Transfer in GROUP with the English command and sets its language: for
    the tests of a module marked `unregistered`, whose `chat` starts with nothing registered."""
    anna = person("anna")
    await chat.say(anna, '/register ag "AG Transfer"')
    await chat.say(anna, f"/language {language}")


async def outbox_rows(core: Core, purpose: str | None = None) -> list[OutboxMessage]:
    """What the outbox holds, in the order it was queued; only `purpose`'s rows if given."""
    async with core.services.sessions() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if purpose:
            query = query.where(OutboxMessage.purpose == purpose)
        return list(await session.scalars(query))


def assert_answered_without_apology(replies: list[Reply]) -> None:
    """Every command gets a non-empty answer that is not the internal-error apology."""
    assert replies, "every command gets an answer"
    for reply in replies:
        assert reply.text.strip()
        assert "Sorry, something went wrong" not in reply.text
        assert "Entschuldigung" not in reply.text


async def add_matrix_room(core: Core, chat_id: str = "!room:example.org") -> None:
    """Give the (one) registered group a second chat, a Matrix room, written straight into
    the database: for what a group's other chats receive (drafts, approved minutes)."""
    from datetime import UTC

    from storage.models import GroupChat

    async with core.services.sessions() as session:
        first = await session.scalar(select(GroupChat))
        assert first is not None, "register a group first"
        session.add(
            GroupChat(
                group_id=first.group_id,
                platform="matrix",
                chat_id=chat_id,
                created_at=datetime(2021, 6, 1, tzinfo=UTC),
            )
        )
        await session.commit()
