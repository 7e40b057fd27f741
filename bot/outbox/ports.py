"""What a platform adapter offers the delivery worker, and how it reports failure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.core.messages import OutgoingMessage
from bot.outbox.pacing import SendWindow


class DeliveryError(Exception):
    pass


class RetryLater(DeliveryError):
    """The platform said "too many requests": wait `seconds`, do not count it as a failure."""

    def __init__(self, seconds: float, detail: str = "") -> None:
        super().__init__(detail or f"rate limited, retry after {seconds}s")
        self.seconds = seconds


class RecipientUnreachable(DeliveryError):
    """The bot may no longer write to this chat (blocked, kicked, chat deleted)."""


class ChatMoved(DeliveryError):
    """The chat has a new id (a Telegram group became a supergroup): resend there."""

    def __init__(self, new_chat_id: str) -> None:
        super().__init__(f"chat moved to {new_chat_id}")
        self.new_chat_id = new_chat_id


class TransientFailure(DeliveryError):
    """The request provably was not processed (connection refused, DNS, connect timeout, a
    5xx, 429): safe to send again later with backoff. Counts as the platform failing."""


class MaybeDelivered(DeliveryError):
    """The request was sent and the platform may have accepted it (read timeout, reset
    mid-response, an answer that could not be read).

    An idempotent sender is simply asked again with the same key; any other row is marked
    `uncertain` and reported to admins, as after a kill, and never sent a second time.
    """


class PermanentFailure(DeliveryError):
    """The platform rejected the message itself; retrying would fail the same way."""


@dataclass(frozen=True, slots=True)
class DeliveryLimits:
    global_per_second: float  # the worker's own sends
    per_chat_per_second: float
    per_group_per_minute: float
    # The worker's sends and the adapter's direct replies together, if the adapter counts
    # its replies (`Sender.replies`): the platform's limit minus room for arrival jitter.
    ceiling_per_second: float | None = None


# Telegram: about 30 messages a second in all. The worker takes 25; with the replies it
# stays at 27, so that requests bunching on the way still arrive below 30.
TELEGRAM_LIMITS = DeliveryLimits(
    global_per_second=25, per_chat_per_second=1, per_group_per_minute=20, ceiling_per_second=27
)


class Sender(Protocol):
    platform: str
    limits: DeliveryLimits
    # True if delivering the same `key` twice shows the message once (the platform
    # deduplicates requests): then a delivery cut short by a crash is simply repeated.
    idempotent: bool
    # The adapter's direct replies as they go out (they never wait), or None.
    replies: SendWindow | None
    # Optional `serial: bool` (read with getattr): True if the sender sends one request at
    # a time (one SMTP connection); the worker then attempts one row of it at a time.

    def is_group_chat(self, chat_id: str) -> bool: ...

    async def deliver(
        self, chat_id: str, message: OutgoingMessage, *, key: str | None = None
    ) -> str | None:
        """Send; return the platform's message id. Raise a DeliveryError subclass on failure.

        `key` is the same for every attempt at one outbox row.
        """
        ...


class Prober(Protocol):
    """A sender that can ask the platform whether it answers without sending anything
    (Telegram: getMe). Optional: without it the worker probes with the next message."""

    async def probe(self) -> None:
        """Return if the platform answers; raise a DeliveryError if it does not."""
        ...


class OwnPace(RetryLater):
    """The bot's own pace hands a delivery back: its turn is `seconds` away. Nothing was
    sent and the platform refused nothing; the worker waits as after a 429, but says so."""
