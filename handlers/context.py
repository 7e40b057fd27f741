"""What a handler receives: everything it may use, passed explicitly (no module globals)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.core.clock import Clock
from bot.core.enums import Role
from bot.core.i18n import Translator
from bot.core.messages import IncomingMessage, OutgoingMessage
from bot.core.platform import ChatPresence, Platform, PlatformTraits
from bot.core.settings import Settings
from storage import outbox
from storage.db import Session, SessionFactory
from storage.models import Group, Identity, Membership, User

if TYPE_CHECKING:
    from bot.core.router import Router


@dataclass
class Services:
    """Long-lived collaborators, built once at start-up."""

    settings: Settings
    clock: Clock
    sessions: SessionFactory
    router: Router
    wake_outbox: Callable[[], None] = lambda: None
    platforms: Mapping[str, PlatformTraits] = field(default_factory=dict)
    # This installation's generated calendar domain (storage.installation), read at start.
    installation_domain: str = "localhost.invalid"
    # Filled by the adapters as they start: whom to ask whether a person is still in a chat.
    presence: dict[str, ChatPresence] = field(default_factory=dict)

    @property
    def calendar_domain(self) -> str:
        """The right-hand side of every calendar UID (`meeting-12@DOMAIN`): the configured
        one (CALENDAR_UID_DOMAIN, PUBLIC_BASE_URL's host), else the installation's own."""
        return self.settings.configured_calendar_domain or self.installation_domain

    @property
    def calendar_organizer(self) -> str:
        """The ORGANIZER address of invitations: MAIL_ORGANIZER, else MAIL_FROM once set,
        else a no-reply address."""
        return self.settings.organizer_mailbox or f"noreply@{self.calendar_domain}"

    def platform_traits(self, platform: str) -> PlatformTraits:
        """What differs on the platform of a chat written to without a message from it (a
        sweep, a post to every chat of a group); an unknown name gets the defaults."""
        return self.platforms.get(platform, PlatformTraits())


SweepJob = Callable[[Services, datetime], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Job:
    """A sweep the scheduler wakes. It finds its due work with indexed queries and records
    what it did, so running it twice, late, or in two processes at once changes nothing."""

    name: str
    run: SweepJob
    daily: bool = False  # once a day at SCHEDULER_DAILY_AT; else every SCHEDULER_SWEEP_SECONDS


def local_today(services: Services, now: datetime) -> date:
    """The calendar day in the deployment's zone, for jobs that think in days."""
    return now.astimezone(ZoneInfo(services.settings.bot_timezone)).date()


@dataclass
class HandlerContext:
    services: Services
    session: Session
    message: IncomingMessage
    platform: Platform
    t: Translator
    user: User
    identity: Identity
    group: Group | None
    member: Membership | None
    args: dict[str, Any] = field(default_factory=dict)
    invoked_as: str = ""
    enqueued: int = 0  # new outbox rows; the dispatcher wakes the worker after commit

    def _(self, message: str, **params: object) -> str:
        return self.t.gettext(message, **params)

    def ngettext(self, singular: str, plural: str, n: int, **params: object) -> str:
        return self.t.ngettext(singular, plural, n, **params)

    @property
    def language(self) -> str:
        return self.t.language

    @property
    def now(self) -> datetime:
        return self.services.clock.now()

    @property
    def tz(self) -> ZoneInfo:
        """The zone dates are read and shown in: the group's in a group, the person's in DM."""
        if self.group is not None and not self.message.is_direct:
            return ZoneInfo(self.group.timezone)
        return ZoneInfo(self.user.timezone or self.services.settings.bot_timezone)

    @property
    def role(self) -> Role | None:
        return Role(self.member.role) if self.member is not None else None

    def command_name(self, name: str) -> str:
        """How to write a command in this conversation's language, prefix included."""
        command = self.services.router.get(name)
        shown = command.display_name(self.language) if command else name
        return f"{self.platform.command_prefix}{shown}"

    async def announce(
        self,
        *,
        dedupe_key: str,
        purpose: str,
        message: OutgoingMessage,
        elsewhere_only: bool = False,
    ) -> int:
        """Post to every chat of this working group (a Telegram group and a Matrix room
        may form one group), or only to the others when this chat gets a reply anyway;
        returns how many messages were queued."""
        if self.group is None:
            raise ValueError("announce needs a working group")
        here = (self.message.platform, self.message.chat.chat_id) if elsewhere_only else None
        queued = await outbox.enqueue_for_group(
            self.session,
            self.group.id,
            dedupe_key=dedupe_key,
            purpose=purpose,
            message=message,
            now=self.now,
            skip_chat=here,
        )
        self.enqueued += queued
        return queued

    async def enqueue(
        self,
        *,
        dedupe_key: str,
        purpose: str,
        message: OutgoingMessage,
        chat_id: str | None = None,
        user_id: int | None = None,
        platform: str | None = None,
    ) -> bool:
        """Queue a message for the delivery worker; it is woken after this command commits."""
        created = await outbox.enqueue(
            self.session,
            dedupe_key=dedupe_key,
            purpose=purpose,
            platform=platform or self.platform.name,
            message=message,
            now=self.now,
            chat_id=chat_id,
            user_id=user_id,
            group_id=self.group.id if self.group else None,
        )
        self.enqueued += int(created)
        return created
