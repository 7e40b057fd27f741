"""The durable outbox: messages are written here first and delivered by the worker.

Guarantees, and their limits:
- Enqueueing is idempotent: `dedupe_key` is unique, a second enqueue with the same key is a
  no-op, so a scheduler that runs again after a restart cannot produce a second message.
- A claimed row carries a lease; a process that dies mid-delivery leaves its rows to be
  claimed again when the lease runs out, so nothing is lost.
- Never twice: right before the request goes out, `start_attempt` commits `attempted_at`.
  A dead worker's row without it never left the process and is simply taken again; a row
  with it may already be on the recipient's screen (Telegram has no idempotency key and
  no way to ask), so it is not resent but marked `uncertain`, reported to admins and listed
  by `bot outbox`. The remaining window is the moment between that commit and the request
  leaving the process: a crash exactly there leaves one `uncertain` message that did not
  arrive — reported, never silently dropped and never duplicated.
- Exactly once where the platform allows it: Matrix deduplicates a repeated request with
  the same transaction id, which the Matrix sender derives from the row, and an edit only
  sets the same text again; such rows are simply sent again after a crash.
- Claiming uses `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several bot processes can share
  one database; SQLite's single writer gives the same exclusion.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.enums import OutboxStatus
from bot.core.messages import EDIT_MESSAGE_ID, Button, Document, OutgoingMessage
from bot.core.useful_life import useful_until
from storage.db import dialect_insert
from storage.models import GroupChat, Identity, OutboxMessage

# Where a bot may start a private conversation itself (on Telegram it may not).
PLATFORMS_OPENING_DIRECT_CHATS = frozenset({"matrix"})


def encode_message(message: OutgoingMessage) -> dict[str, Any]:
    payload: dict[str, Any] = {"text": message.text}
    if message.buttons:
        payload["buttons"] = [
            [
                [b.label, b.data, *([b.undo, True] if b.exclusive else [b.undo] if b.undo else [])]
                for b in row
            ]
            for row in message.buttons
        ]
    if message.document is not None:
        payload["document"] = {
            "filename": message.document.filename,
            "mime_type": message.document.mime_type,
            "content_b64": base64.b64encode(message.document.content).decode("ascii"),
        }
    if message.extra:
        payload["extra"] = dict(message.extra)
    return payload


def decode_message(payload: dict[str, Any]) -> OutgoingMessage:
    document = None
    if doc := payload.get("document"):
        document = Document(
            filename=doc["filename"],
            content=base64.b64decode(doc["content_b64"]),
            mime_type=doc["mime_type"],
        )
    buttons = tuple(tuple(Button(*button) for button in row) for row in payload.get("buttons", []))
    return OutgoingMessage(
        text=payload["text"], buttons=buttons, document=document, extra=payload.get("extra", {})
    )


@dataclass(frozen=True, slots=True)
class Delivery:
    """A claimed row, detached from the session that claimed it."""

    id: int
    platform: str
    chat_id: str
    user_id: int | None
    attempts: int
    message: OutgoingMessage


async def enqueue(
    session: AsyncSession,
    *,
    dedupe_key: str,
    purpose: str,
    platform: str,
    message: OutgoingMessage,
    now: datetime,
    chat_id: str | None = None,
    user_id: int | None = None,
    group_id: int | None = None,
    not_before: datetime | None = None,
    expires_at: datetime | None = None,
) -> bool:
    """Queue a message once per `dedupe_key`; True when it was new.

    It expires (is never sent) after `expires_at`, or else after the useful life of its
    purpose (bot/core/useful_life.py), counted from when it is due.

    Give `chat_id` for a chat, or `user_id` for a direct message: the person's private chat
    on `platform` is looked up, and if they never opened one (Telegram bots cannot write
    first) the message waits until they do.
    """
    if chat_id is None and user_id is None:
        raise ValueError("enqueue needs a chat_id or a user_id")
    status = OutboxStatus.PENDING
    if chat_id is None:
        identity = await session.scalar(
            select(Identity).where(Identity.user_id == user_id, Identity.platform == platform)
        )
        reachable = identity is not None and identity.unreachable_at is None
        if reachable and identity.dm_chat_id:
            chat_id = identity.dm_chat_id
        elif reachable and platform in PLATFORMS_OPENING_DIRECT_CHATS:
            chat_id = identity.platform_user_id  # the adapter opens the direct chat
        else:
            status = OutboxStatus.WAITING_FOR_DM
    values = {
        "dedupe_key": dedupe_key,
        "purpose": purpose,
        "platform": platform,
        "chat_id": chat_id,
        "user_id": user_id,
        "group_id": group_id,
        "payload": encode_message(message),
        "status": status.value,
        "attempts": 0,
        "next_attempt_at": not_before or now,
        "created_at": now,
        "expires_at": useful_until(purpose, not_before or now, expires_at),
    }
    return await _insert_once(session, values)


async def enqueue_to_person(
    session: AsyncSession,
    *,
    user_id: int,
    dedupe_key: str,
    purpose: str,
    message: OutgoingMessage,
    now: datetime,
    group_id: int | None = None,
    expires_at: datetime | None = None,
) -> bool:
    """A direct message to a person on whichever of their linked accounts reaches them.

    Preference: an open private chat (the account used most recently), else a platform
    where the bot may open one itself, else their first account (the message waits there
    until they write to the bot). The key is per person, so linking accounts later can
    never make a reminder go out twice.
    """
    identities = list(
        await session.scalars(
            select(Identity).where(Identity.user_id == user_id).order_by(Identity.id)
        )
    )
    if not identities:
        raise LookupError(f"person {user_id} has no chat account")
    reachable = [i for i in identities if i.unreachable_at is None]
    open_chats = sorted(
        (i for i in reachable if i.dm_chat_id), key=lambda i: i.last_seen_at, reverse=True
    )
    openers = [i for i in reachable if i.platform in PLATFORMS_OPENING_DIRECT_CHATS]
    chosen = (open_chats or openers or identities)[0]
    return await enqueue(
        session,
        dedupe_key=dedupe_key,
        purpose=purpose,
        platform=chosen.platform,
        message=message,
        now=now,
        user_id=user_id,
        group_id=group_id,
        expires_at=expires_at,
    )


def chat_key(dedupe_key: str, platform: str, chat_id: str) -> str:
    """The key of a group message's copy in one chat (`enqueue_for_group`)."""
    return f"{dedupe_key}:{platform}:{chat_id}"


async def enqueue_for_group(
    session: AsyncSession,
    group_id: int,
    *,
    dedupe_key: str,
    purpose: str,
    message: OutgoingMessage | Callable[[str], OutgoingMessage],
    now: datetime,
    skip_chat: tuple[str, str] | None = None,
) -> int:
    """Queue one message per chat of a working group (it may span platforms); `skip_chat`
    (platform, chat id) is left out, e.g. the chat where the command was answered.
    `message` may be a function of the chat's platform, for a message that differs per
    platform (a poll's buttons and command hint)."""
    chats = await session.scalars(
        select(GroupChat)
        .where(GroupChat.group_id == group_id, GroupChat.gone_at.is_(None))
        .order_by(GroupChat.id)
    )
    queued = 0
    for chat in chats:
        if (chat.platform, chat.chat_id) == skip_chat:
            continue
        queued += await enqueue(
            session,
            dedupe_key=chat_key(dedupe_key, chat.platform, chat.chat_id),
            purpose=purpose,
            platform=chat.platform,
            chat_id=chat.chat_id,
            group_id=group_id,
            message=message(chat.platform) if callable(message) else message,
            now=now,
        )
    return queued


# The last error of a row a dead process left uncertain (others lost the platform's answer).
INTERRUPTED = "the sending process stopped; the platform may have it already"


def resend_is_harmless(platform: str, payload: dict[str, Any], idempotent: frozenset[str]) -> bool:
    """Whether a message whose sending was interrupted may simply be sent again: on a
    platform that recognises a repeated request (Matrix transaction ids), or an edit, which
    sets the same text a second time."""
    return platform in idempotent or EDIT_MESSAGE_ID in payload.get("extra", {})


async def settle_interrupted(
    session: AsyncSession, *, now: datetime, idempotent: frozenset[str] = frozenset()
) -> int:
    """Rows whose sender died after committing the attempt: send again where that is
    harmless, otherwise mark them `uncertain` (reported to admins, never resent by itself).
    Returns how many became uncertain."""
    interrupted = (
        await session.execute(
            select(OutboxMessage.id, OutboxMessage.platform, OutboxMessage.payload)
            .where(
                OutboxMessage.status == OutboxStatus.SENDING.value,
                OutboxMessage.lease_until < now,
                OutboxMessage.attempted_at.is_not(None),
            )
            .with_for_update(skip_locked=True)
        )
    ).all()
    again = {
        i
        for i, platform, payload in interrupted
        if resend_is_harmless(platform, payload, idempotent)
    }
    unsure = [i for i, _, _ in interrupted if i not in again]
    if again:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(again))
            .values(attempted_at=None)
            .execution_options(synchronize_session=False)
        )
    if unsure:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(unsure))
            .values(
                status=OutboxStatus.UNCERTAIN.value,
                lease_owner=None,
                lease_until=None,
                last_error=INTERRUPTED,
            )
            .execution_options(synchronize_session=False)
        )
    return len(unsure)


async def claim_due(
    session: AsyncSession,
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    idempotent: frozenset[str] = frozenset(),
    skip_platforms: frozenset[str] = frozenset(),
) -> list[Delivery]:
    """Take up to `limit` due rows (and rows whose lease expired) for this worker.

    One UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) … RETURNING statement, so
    two workers can never take the same row on either backend. `idempotent`: platforms
    whose sender makes a repeated delivery of a row a no-op (see `settle_interrupted`).
    `skip_platforms`: paused ones (their circuit breaker is open); their rows stay queued.
    """
    await settle_interrupted(session, now=now, idempotent=idempotent)
    due = (
        select(OutboxMessage.id)
        .where(
            or_(
                (OutboxMessage.status == OutboxStatus.PENDING.value)
                & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.status == OutboxStatus.SENDING.value)
                & (OutboxMessage.lease_until < now),
            ),
            OutboxMessage.platform.not_in(skip_platforms) if skip_platforms else true(),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    # The columns a Delivery needs, not ORM objects: building those for a claim of 100
    # rows took twice as long as the UPDATE itself (bench/email_delivery.py, py-spy).
    rows = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(status=OutboxStatus.SENDING.value, lease_owner=owner, lease_until=now + lease)
        .returning(
            OutboxMessage.id,
            OutboxMessage.platform,
            OutboxMessage.chat_id,
            OutboxMessage.user_id,
            OutboxMessage.attempts,
            OutboxMessage.payload,
            OutboxMessage.next_attempt_at,
        )
        .execution_options(synchronize_session=False)
    )
    claimed = sorted(rows, key=lambda row: (row.next_attempt_at, row.id))
    return [
        Delivery(
            id=row.id,
            platform=row.platform,
            chat_id=row.chat_id or "",
            user_id=row.user_id,
            attempts=row.attempts,
            message=decode_message(row.payload),
        )
        for row in claimed
    ]


async def start_attempt(
    session: AsyncSession, delivery_id: int, *, owner: str, now: datetime, lease: timedelta
) -> bool:
    """Right before sending: still ours? Then record that the request is about to leave
    (committed by the caller before sending), so a crash from here on is never resent."""
    ours = await start_attempts(session, [delivery_id], owner=owner, now=now, lease=lease)
    return delivery_id in ours


async def mark_sent(
    session: AsyncSession, delivery_id: int, *, now: datetime, platform_message_id: str | None
) -> None:
    await mark_sent_many(session, [(delivery_id, platform_message_id)], now=now)


async def reschedule(
    session: AsyncSession,
    delivery_id: int,
    *,
    at: datetime,
    error: str,
    count_attempt: bool,
) -> None:
    values: dict[str, Any] = {
        "status": OutboxStatus.PENDING.value,
        "next_attempt_at": at,
        "lease_owner": None,
        "lease_until": None,
        "last_error": error[:1000],
        "attempted_at": None,  # the platform refused or never got it: safe to send again
    }
    if count_attempt:
        values["attempts"] = OutboxMessage.attempts + 1
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.id == delivery_id).values(**values)
    )


async def hand_back(
    session: AsyncSession, delivery_ids: Sequence[int], *, error: str | None = None
) -> None:
    """Rows claimed but not sent (their platform is paused): queued again as they were,
    due when they were due, so they go out in their old order once it resumes. `error`:
    why the last try did not go through (not counted as an attempt)."""
    values: dict[str, Any] = {
        "status": OutboxStatus.PENDING.value,
        "lease_owner": None,
        "lease_until": None,
        "attempted_at": None,
    }
    if error is not None:
        values["last_error"] = error[:1000]
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(list(delivery_ids)),
            OutboxMessage.status == OutboxStatus.SENDING.value,
        )
        .values(**values)
    )


async def give_back_attempts(session: AsyncSession, delivery_ids: Sequence[int]) -> None:
    """Take back one counted attempt from each row (once per id given): the failure was
    the platform's, not the message's. Only rows still to be sent."""
    for delivery_id in delivery_ids:
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == delivery_id,
                OutboxMessage.attempts > 0,
                OutboxMessage.status.in_([OutboxStatus.PENDING.value, OutboxStatus.SENDING.value]),
            )
            .values(attempts=OutboxMessage.attempts - 1)
        )


async def mark_uncertain(session: AsyncSession, delivery_id: int, *, error: str) -> None:
    """The request went out but its answer was lost: the platform may have the message. Not
    sent again (that could be a copy); reported to admins like one a crash interrupted."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == delivery_id)
        .values(
            status=OutboxStatus.UNCERTAIN.value,
            lease_owner=None,
            lease_until=None,
            last_error=error[:1000],
            attempts=OutboxMessage.attempts + 1,
        )
    )


async def expire_outlived(session: AsyncSession, *, now: datetime) -> dict[str, int]:
    """Queued messages past their useful life become `expired`, with the reason, instead
    of going out pointlessly late. Returns how many per platform."""
    rows = (
        await session.execute(
            select(OutboxMessage.id, OutboxMessage.platform, OutboxMessage.expires_at)
            .where(
                OutboxMessage.status.in_(UNDELIVERED),
                OutboxMessage.expires_at < now,
            )
            .with_for_update(skip_locked=True)
        )
    ).all()
    counts: dict[str, int] = {}
    for row_id, platform, expires_at in rows:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(
                status=OutboxStatus.EXPIRED.value,
                last_error=f"not sent: no longer useful after {expires_at.isoformat()}",
            )
        )
        counts[platform] = counts.get(platform, 0) + 1
    return counts


async def queued_count(session: AsyncSession, platform: str) -> int:
    """Messages still to be sent on `platform` (due or not, being sent included)."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.platform == platform,
                OutboxMessage.status.in_([OutboxStatus.PENDING.value, OutboxStatus.SENDING.value]),
            )
        )
        or 0
    )


async def mark_final(
    session: AsyncSession, delivery_id: int, *, status: OutboxStatus, error: str
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == delivery_id)
        .values(
            status=status.value,
            lease_owner=None,
            lease_until=None,
            last_error=error[:1000],
            attempts=OutboxMessage.attempts + 1,
            attempted_at=None,
        )
    )


async def park_for_dm(
    session: AsyncSession,
    delivery_ids: Sequence[int],
    *,
    user_id: int,
    platform: str,
    now: datetime,
) -> None:
    """The person blocked the bot: keep their messages until they write to it again."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(delivery_ids)))
        .values(
            status=OutboxStatus.WAITING_FOR_DM.value,
            chat_id=None,
            lease_owner=None,
            lease_until=None,
            last_error="recipient unreachable (bot blocked or chat closed)",
            attempted_at=None,
        )
    )
    await session.execute(
        update(Identity)
        .where(Identity.user_id == user_id, Identity.platform == platform)
        .values(unreachable_at=now)
    )


async def release_waiting(
    session: AsyncSession, *, user_id: int, platform: str, chat_id: str, now: datetime
) -> int:
    """The person opened (or reopened) a private chat: send what was waiting for it."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.user_id == user_id,
            OutboxMessage.platform == platform,
            OutboxMessage.status == OutboxStatus.WAITING_FOR_DM.value,
        )
        .values(status=OutboxStatus.PENDING.value, chat_id=chat_id, next_attempt_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def counts_by_status(session: AsyncSession) -> dict[str, int]:
    from sqlalchemy import func

    rows = await session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    return {status: count for status, count in rows.all()}


async def uncertain_rows(session: AsyncSession, limit: int = 100) -> list[OutboxMessage]:
    """The newest messages whose delivery a crash left uncertain."""
    return list(
        await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.UNCERTAIN.value)
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )


async def platform_notices(
    session: AsyncSession, purposes: Sequence[str], limit: int = 20
) -> list[tuple[OutboxMessage, str]]:
    """The newest outage notices to admins, one per outage and kind (a notice goes to each
    admin; the first copy stands for all), with its text."""
    rows = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.purpose.in_(list(purposes)))
        .order_by(OutboxMessage.id.desc())
        .limit(limit * 10)
    )
    seen: set[str] = set()
    notices: list[tuple[OutboxMessage, str]] = []
    for row in rows:
        outage = row.dedupe_key.rsplit(":", 2)[0]  # without the recipient
        if outage in seen:
            continue
        seen.add(outage)
        notices.append((row, str(row.payload.get("text", ""))))
    return notices[:limit]


async def unreported_uncertain(
    session: AsyncSession, *, limit: int, skip_purpose: str
) -> list[OutboxMessage]:
    """Uncertain messages not reported to admins yet, oldest first, locked so one process
    reports each; messages with `skip_purpose` (the reports themselves) are left out."""
    return list(
        await session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.UNCERTAIN.value,
                OutboxMessage.reported_at.is_(None),
                OutboxMessage.purpose != skip_purpose,
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


async def mark_uncertain_reported(
    session: AsyncSession, message_ids: Sequence[int], now: datetime
) -> None:
    """The admins were told about these messages: the next sweep leaves them out."""
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(list(message_ids))).values(reported_at=now)
    )


async def recipient_name(session: AsyncSession, message: OutboxMessage) -> str | None:
    """A name an admin recognises for a message's recipient: the person's most recently
    seen display name, else the group chat's title (None if neither is known)."""
    if message.user_id is not None:
        name = await session.scalar(
            select(Identity.display_name)
            .where(Identity.user_id == message.user_id)
            .order_by(Identity.last_seen_at.desc())
            .limit(1)
        )
        if name:
            return name
    return await session.scalar(
        select(GroupChat.title).where(
            GroupChat.platform == message.platform, GroupChat.chat_id == message.chat_id
        )
    )


async def uncertain_message(session: AsyncSession, message_id: int) -> OutboxMessage | None:
    """The message with this number, if its delivery is uncertain."""
    row = await session.get(OutboxMessage, message_id)
    return row if row is not None and row.status == OutboxStatus.UNCERTAIN.value else None


async def send_again(session: AsyncSession, message_id: int, *, now: datetime, note: str) -> None:
    """Queue a message again now (an uncertain one an admin knows to be missing); `note` is
    kept as its last error, so the row says why it went out twice."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(
            status=OutboxStatus.PENDING.value,
            attempted_at=None,
            next_attempt_at=now,
            last_error=note,
        )
    )


# --- retention and erasure -----------------------------------------------------------------

# Rows whose delivery is over: their payload is only a copy of what the recipient already has
# (or never will). `uncertain` rows keep theirs, since `/nachsenden` may still need the text.
FINISHED = (
    OutboxStatus.SENT.value,
    OutboxStatus.FAILED.value,
    OutboxStatus.UNREACHABLE.value,
    OutboxStatus.DROPPED.value,  # for someone who left the group: never to be sent
    OutboxStatus.EXPIRED.value,  # outlived its use while waiting: never to be sent
)
# Not delivered yet: the payload is still needed, so a name in it is replaced, not purged.
UNDELIVERED = (OutboxStatus.PENDING.value, OutboxStatus.WAITING_FOR_DM.value)
PURGED_PAYLOAD: dict[str, Any] = {"text": ""}


async def purge_old_payloads(
    session: AsyncSession, *, before: datetime, now: datetime, limit: int = 500
) -> int:
    """Empty the payload of finished rows last touched before `before`; returns how many.

    The row itself (status, dedupe key) stays, so enqueueing the same key again is still a
    no-op and nothing is sent twice. At most `limit` rows per call; the sweep comes again.
    """
    ids = await _finished_before(session, before, purged=False, limit=limit)
    if ids:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(payload=PURGED_PAYLOAD, payload_purged_at=now)
        )
    return len(ids)


async def compact_finished(session: AsyncSession, *, before: datetime, limit: int = 500) -> int:
    """Delete finished rows whose payload is already purged and that were last touched before
    `before` (long after any sweep could queue the same dedupe key again); returns how many.
    `uncertain` rows stay until an admin has dealt with them. At most `limit` per call."""
    ids = await _finished_before(session, before, purged=True, limit=limit)
    if ids:
        await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
    return len(ids)


async def _finished_before(
    session: AsyncSession, before: datetime, *, purged: bool, limit: int
) -> list[int]:
    """Ids of finished rows last touched before `before`, whose payload is (`purged`) or
    is not yet emptied; the oldest first, at most `limit`: the retention steps' one query."""
    purged_at = OutboxMessage.payload_purged_at
    return list(
        await session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status.in_(FINISHED),
                purged_at.is_not(None) if purged else purged_at.is_(None),
                func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at) < before,
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )


def _unfolded_texts(payload: dict[str, Any]) -> list[str]:
    """Every text a payload carries: message, button labels, and a document's content with
    iCalendar line folding undone (a long `ATTENDEE;CN=…` line is split across lines)."""
    texts = [str(payload.get("text", ""))]
    texts += [str(label) for row in payload.get("buttons", []) for label, _data in row]
    if doc := payload.get("document"):
        content = base64.b64decode(doc["content_b64"]).decode("utf-8", errors="replace")
        texts.append(content.replace("\r\n ", "").replace("\n ", ""))
    return texts


def _replace_names(payload: dict[str, Any], pattern: re.Pattern[str], label: str) -> dict:
    """The payload with every name matched by `pattern` replaced by `label`."""
    changed = dict(payload)
    changed["text"] = pattern.sub(label, str(payload.get("text", "")))
    if "buttons" in payload:
        changed["buttons"] = [
            [[pattern.sub(label, str(text)), data] for text, data in row]
            for row in payload["buttons"]
        ]
    if doc := payload.get("document"):
        content = base64.b64decode(doc["content_b64"]).decode("utf-8", errors="replace")
        content = pattern.sub(label, content.replace("\r\n ", "").replace("\n ", ""))
        changed["document"] = {
            **doc,
            "content_b64": base64.b64encode(content.encode("utf-8")).decode("ascii"),
        }
    return changed


def name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """A whole-word, case-insensitive match of any of these names (longest first), or None
    when there is none worth matching (one letter would hit every text)."""
    usable = sorted({n.strip() for n in names if len(n.strip()) >= 2}, key=len, reverse=True)
    if not usable:
        return None
    words = "|".join(re.escape(n) for n in usable)
    return re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE)


SCRUB_BATCH = 200  # rows read at once when erasure looks for a name in others' messages


async def scrub_person(
    session: AsyncSession,
    *,
    user_id: int,
    names: Iterable[str],
    label: str,
    now: datetime,
    batch: int = SCRUB_BATCH,
) -> int:
    """At a person's erasure: their own rows go (queued and sent), and every other row that
    names them loses the name. A finished row's payload is purged; one still to be delivered
    (e.g. another member's invitation listing them as attendee) gets `label` instead of the
    name, so it still arrives; so does an `uncertain` one, which `/nachsenden` may still send.
    Rows being sent this very moment are left alone. Returns how many rows of others were
    changed.

    Names hide in .ics files (base64, folded lines), so the match runs here, not in SQL;
    the rows are read `batch` at a time in id order (only id, status and payload), so a
    large outbox never sits in memory at once. Retention keeps the unpurged part small.
    """
    await session.execute(delete(OutboxMessage).where(OutboxMessage.user_id == user_id))
    pattern = name_pattern(names)
    if pattern is None:
        return 0
    changed = 0
    after = 0
    while True:
        rows = (
            await session.execute(
                select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.payload)
                .where(
                    OutboxMessage.id > after,
                    OutboxMessage.status.in_(
                        FINISHED + UNDELIVERED + (OutboxStatus.UNCERTAIN.value,)
                    ),
                    OutboxMessage.payload_purged_at.is_(None),
                )
                .order_by(OutboxMessage.id)
                .limit(batch)
            )
        ).all()
        for row_id, status, payload in rows:
            if not any(pattern.search(text) for text in _unfolded_texts(payload)):
                continue
            if status in FINISHED:
                values: dict[str, Any] = {"payload": PURGED_PAYLOAD, "payload_purged_at": now}
            else:
                values = {"payload": _replace_names(payload, pattern, label)}
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values)
            )
            changed += 1
        if len(rows) < batch:
            return changed
        after = rows[-1][0]


async def drop_for_former_member(
    session: AsyncSession, *, user_id: int, group_id: int, now: datetime
) -> int:
    """The person left the group: what still waits for them about it is not sent.

    Rows stay, marked `dropped` (what was not sent, and why, is recorded); a row already
    being sent is left to finish. Returns how many were dropped.
    """
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.user_id == user_id,
            OutboxMessage.group_id == group_id,
            OutboxMessage.status.in_(
                [OutboxStatus.PENDING.value, OutboxStatus.WAITING_FOR_DM.value]
            ),
        )
        .values(
            status=OutboxStatus.DROPPED.value,
            lease_owner=None,
            lease_until=None,
            last_error=f"recipient left the group at {now.isoformat()}",
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def waiting_group_ids(session: AsyncSession, *, user_id: int, platform: str) -> list[int]:
    """The groups whose messages wait for the person's private chat on `platform`."""
    return list(
        await session.scalars(
            select(OutboxMessage.group_id)
            .where(
                OutboxMessage.user_id == user_id,
                OutboxMessage.platform == platform,
                OutboxMessage.status == OutboxStatus.WAITING_FOR_DM.value,
                OutboxMessage.group_id.is_not(None),
            )
            .distinct()
        )
    )


async def start_attempts(
    session: AsyncSession,
    delivery_ids: Sequence[int],
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
) -> set[int]:
    """`start_attempt` for several rows sent together (one statement); returns the ids
    still ours, which the caller commits before the first of them is sent."""
    rows = await session.execute(
        _START_ATTEMPTS,
        {
            "ids": list(delivery_ids),
            "owner": owner,
            "sending": OutboxStatus.SENDING.value,
            "lease_until": now + lease,
            "attempted_at": now,
        },
    )
    return set(rows.scalars())


async def mark_sent_many(
    session: AsyncSession, sent: Sequence[tuple[int, str | None]], *, now: datetime
) -> None:
    """`mark_sent` for rows sent together: (id, the platform's message id) each, in one
    executemany (an UPDATE statement per row was a tenth of the e-mail worker's time)."""
    if not sent:
        return
    await session.execute(
        _MARK_SENT,
        [
            {"row_id": delivery_id, "sent_at": now, "platform_message_id": platform_message_id}
            for delivery_id, platform_message_id in sent
        ],
    )


# The two statements of every chunk of e-mail, on the table rather than the ORM class: the
# ORM's bulk UPDATE by primary key cost about a third more per chunk (0.8 against 1.1 ms
# for 20 rows on SQLite, measured with bench/email_delivery.py's outbox).
_OUTBOX = OutboxMessage.__table__
_START_ATTEMPTS = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.id.in_(bindparam("ids", expanding=True)),
        _OUTBOX.c.lease_owner == bindparam("owner"),
        _OUTBOX.c.status == bindparam("sending"),
    )
    .values(lease_until=bindparam("lease_until"), attempted_at=bindparam("attempted_at"))
    .returning(_OUTBOX.c.id)
)
_MARK_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row_id"))
    .values(
        status=OutboxStatus.SENT.value,
        sent_at=bindparam("sent_at"),
        lease_owner=None,
        lease_until=None,
        platform_message_id=bindparam("platform_message_id"),
        last_error=None,
    )
)


async def _insert_once(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert a row unless its dedupe key is taken; True when it is new."""
    statement = (
        dialect_insert(session)(OutboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def record_sent(
    session: AsyncSession,
    *,
    dedupe_key: str,
    purpose: str,
    platform: str,
    chat_id: str,
    message: OutgoingMessage,
    platform_message_id: str,
    now: datetime,
    group_id: int | None = None,
) -> bool:
    """A message that went out without the outbox (a command's direct reply), kept as a
    sent row under `dedupe_key` with its platform id, exactly as if the worker had
    delivered it: code that finds the messages it sent by key (a poll's, to edit them)
    finds this one too, and queueing the same key again sends nothing. True when new."""
    values = {
        "dedupe_key": dedupe_key,
        "purpose": purpose,
        "platform": platform,
        "chat_id": chat_id,
        "group_id": group_id,
        "payload": encode_message(message),
        "status": OutboxStatus.SENT.value,
        "attempts": 1,
        "next_attempt_at": now,
        "created_at": now,
        "sent_at": now,
        "platform_message_id": platform_message_id,
    }
    return await _insert_once(session, values)
