"""What a failed Matrix request means for delivery, in the outbox's terms (bot/outbox/ports.py).

The line that matters is whether the homeserver may have the event. A request that provably
never reached it or was refused unprocessed (connection refused, DNS, connect timeout, a
502/503, a 429, a Matrix error answer) is safe to repeat: TransientFailure or RetryLater.
A request that went out and whose answer was lost (read timeout, connection reset
mid-response, an unreadable 2xx, a 504 or another 5xx without a Matrix error) may have been
stored: MaybeDelivered. Matrix lets both be repeated safely because every event of a
delivery carries a transaction id derived from the outbox row (`txn_id`), and the
homeserver answers a repeated PUT with the same id with the event it already has instead of
storing a second one; the distinction still decides what is reported.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

import aiohttp
from nio import AsyncClient, LocalProtocolError, RoomSendResponse

from bot.adapters.matrix_rate import MatrixPace
from bot.outbox.ports import (
    DeliveryError,
    MaybeDelivered,
    OwnPace,
    PermanentFailure,
    RecipientUnreachable,
    RetryLater,
    TransientFailure,
)

# How long a request may take before it counts as lost. An event is answered in well under
# a second; a file goes through the media repository and may be large.
SEND_TIMEOUT_SECONDS = 20.0
UPLOAD_TIMEOUT_SECONDS = 120.0
# A delivery waits this long at most for its turn of the pace; further back in the line it
# is handed back to the outbox (RetryLater) rather than holding its lease meanwhile.
PACE_MAX_WAIT_SECONDS = 15.0
# A probe (is the homeserver there?) needs no more than this; it sends nothing.
PROBE_TIMEOUT_SECONDS = 5.0
# Without retry_after_ms (a proxy's bare 429): nio's own default pause.
DEFAULT_RETRY_SECONDS = 5.0

# The event already carries this annotation: the reaction is there, which is what we wanted.
ALREADY_THERE = frozenset({"M_DUPLICATE_ANNOTATION"})
_UNREACHABLE = frozenset({"M_FORBIDDEN", "M_NOT_FOUND"})
_REJECTED = frozenset({"M_TOO_LARGE", "M_BAD_JSON", "M_NOT_JSON"})
# 502/503: the proxy or the homeserver did not take the request. 504 and 500 are left out:
# a gateway that gave up waiting, or a crash while persisting, may come after the event was
# stored.
_NOT_PROCESSED_STATUS = frozenset({502, 503})

T = TypeVar("T")


def txn_id(key: str | None, part: str) -> str | None:
    """The transaction id of one event of a delivery: the outbox key (the same for every
    attempt at a row, across restarts) plus the event's part; None: a fresh one."""
    return f"{key}-{part}" if key else None


def http_status(response: Any) -> int | None:
    transport = getattr(response, "transport_response", None)
    return getattr(transport, "status", None)


def failure_from_response(response: Any) -> DeliveryError:
    """A nio error response (or an unreadable answer) as a delivery failure."""
    errcode = getattr(response, "status_code", None)
    message = getattr(response, "message", None) or str(response)
    status = http_status(response)
    if errcode == "M_LIMIT_EXCEEDED" or status == 429:
        retry_ms = getattr(response, "retry_after_ms", None)
        seconds = retry_ms / 1000 if retry_ms else DEFAULT_RETRY_SECONDS
        return RetryLater(seconds, f"M_LIMIT_EXCEEDED: retry after {seconds:.1f}s")
    if errcode in _UNREACHABLE:
        return RecipientUnreachable(f"{errcode}: {message}")
    if errcode in _REJECTED:
        return PermanentFailure(f"{errcode}: {message}")
    if status is not None and 200 <= status < 300:
        return MaybeDelivered(f"HTTP {status} with an unreadable answer: {message}")
    if status in _NOT_PROCESSED_STATUS:
        return TransientFailure(f"HTTP {status} (not processed): {errcode or message}")
    if status is not None and status >= 500 and errcode is None:
        return MaybeDelivered(f"HTTP {status} without a Matrix error: {message}")
    return TransientFailure(f"HTTP {status} {errcode}: {message}")


def failure_from_exception(error: BaseException) -> DeliveryError | None:
    """A transport exception as a delivery failure; None if it is not a transport problem
    (a bug, which the caller lets through)."""
    name = type(error).__name__
    # Connecting failed (refused, DNS, connect timeout): nothing was sent. These are
    # subclasses of the broader classes below, so they are matched first.
    if isinstance(error, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)):
        return TransientFailure(f"not sent, no connection: {name}: {error}")
    if isinstance(error, LocalProtocolError):  # e.g. a room the client has not synced yet
        return TransientFailure(f"not sent: {name}: {error}")
    if isinstance(error, (TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError)):
        return MaybeDelivered(f"sent, answer lost: {name}: {error}")
    return None


async def within(call: Awaitable[T], seconds: float) -> T:
    """Await a request for at most `seconds`; a transport failure becomes a DeliveryError.

    nio repeats a request that timed out with the same path (and so the same transaction
    id), which is harmless; this bounds the whole of it.
    """
    try:
        async with asyncio.timeout(seconds):
            return await call
    except asyncio.CancelledError:
        raise
    except Exception as error:
        failure = failure_from_exception(error)
        if failure is None:
            raise
        raise failure from error


async def answers(call: Awaitable[Any], seconds: float) -> None:
    """Return if a read-only request (whoami, /versions) is answered; raise the failure
    otherwise. Any Matrix answer, an error one included, shows the homeserver is there;
    only a transport failure or a 5xx without a Matrix error means it is not."""
    response = await within(call, seconds)
    status = http_status(response)
    if status is None or status < 500 or getattr(response, "status_code", None):
        return
    raise failure_from_response(response)


async def send_event(
    client: AsyncClient,
    pace: MatrixPace,
    room_id: str,
    event_type: str,
    content: dict[str, Any],
    *,
    tx_id: str | None,
    paced: bool,
    seconds: float = SEND_TIMEOUT_SECONDS,
) -> str | None:
    """Send one event in its turn (`paced`: the outbox's sends wait, direct replies only
    count); return its id, None if the homeserver has it already (a repeated reaction).
    Raise a DeliveryError on failure; an M_LIMIT_EXCEEDED also slows the pace down."""
    if paced:
        if (later := await pace.wait(at_most=PACE_MAX_WAIT_SECONDS)) is not None:
            raise OwnPace(later, f"the bot's own pace: next turn in {later:.1f}s")
    else:
        pace.count()
    response = await within(
        client.room_send(room_id, event_type, content, tx_id=tx_id, ignore_unverified_devices=True),
        seconds,
    )
    if isinstance(response, RoomSendResponse):
        pace.accepted()
        return response.event_id
    if getattr(response, "status_code", None) in ALREADY_THERE:
        return None
    failure = failure_from_response(response)
    if isinstance(failure, RetryLater):
        pace.limited(failure.seconds)
    raise failure
