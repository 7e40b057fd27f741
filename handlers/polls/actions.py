"""What happens to a poll outside one reply: its message posted to every chat of the group and
kept in step there, its tally, and closing it. Commands and the deadline sweep share these."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import uuid4
from zoneinfo import ZoneInfo

from bot.core.enums import PollStatus
from bot.core.i18n import Translator
from bot.core.messages import EDIT_MESSAGE_ID, Button, OutgoingMessage
from handlers.context import Services
from handlers.polls.tally import Tally, Vote, tally
from handlers.polls.view import pick_buttons, render, vote_buttons, vote_hint
from storage import outbox
from storage import polls as poll_store
from storage.db import Session
from storage.models import Group, Poll


def _vote_command(services: Services, language: str, platform: str) -> str:
    prefix = services.platform_traits(platform).command_prefix
    command = services.router.get("vote")
    return prefix + (command.display_name(language) if command else "vote")


async def poll_tally(session: Session, poll: Poll) -> Tally:
    rows = await poll_store.votes(session, poll)
    return tally(
        [o.position for o in poll.options],
        (Vote(r.user_id, r.name, r.position, r.answer) for r in rows),
    )


ButtonsFor = Literal["vote", "pick", "none"]


def chat_message(
    services: Services,
    t: Translator,
    tz: ZoneInfo,
    poll: Poll,
    result: Tally,
    platform: str,
    *,
    buttons_for: ButtonsFor,
    headline: str | None = None,
) -> OutgoingMessage:
    """The poll as one chat of the group sees it, in its platform's terms: Matrix gets a
    keyboard that fits its reactions and the `!` command hint. `buttons_for` is "vote"
    (answer buttons while open), "pick" (the chair's date choice) or "none"."""
    limit = services.platform_traits(platform).max_buttons
    hint = None
    buttons: tuple[tuple[Button, ...], ...] = ()
    if buttons_for == "vote" and poll.status == PollStatus.OPEN.value:
        buttons = vote_buttons(t, poll, tz, limit)
        hint = vote_hint(t, poll, _vote_command(services, t.language, platform))
    elif buttons_for == "pick":
        buttons = pick_buttons(t, poll, result, tz, services.clock.now(), limit)
    text = render(t, poll, result, tz, services.clock.now(), hint=hint)
    return OutgoingMessage(f"{headline}\n{text}" if headline else text, buttons)


async def post_everywhere(
    session: Session,
    services: Services,
    group: Group,
    poll: Poll,
    *,
    dedupe_key: str,
    buttons_for: ButtonsFor,
    headline: str | None,
    skip_chat: tuple[str, str] | None,
) -> int:
    """A new message with the poll to each chat of the group (but `skip_chat`), in the
    chat's platform's terms."""
    t = Translator(group.language)
    tz = ZoneInfo(group.timezone)
    result = await poll_tally(session, poll)

    def message(platform: str) -> OutgoingMessage:
        return chat_message(
            services, t, tz, poll, result, platform, buttons_for=buttons_for, headline=headline
        )

    return await outbox.enqueue_for_group(
        session,
        group.id,
        dedupe_key=dedupe_key,
        purpose="poll",
        message=message,
        now=services.clock.now(),
        skip_chat=skip_chat,
    )


async def sync_shown(
    session: Session,
    services: Services,
    group: Group,
    poll: Poll,
    *,
    skip_chat: tuple[str, str] | None,
) -> int:
    """Edit the poll's message in every chat where it is known, so a Matrix room shows the
    answers given on Telegram and vice versa; `skip_chat` is edited by the reply itself.
    Only the newest view per chat stays queued."""
    shown = await poll_store.shown_in(session, poll.id)
    if not shown:
        return 0
    t = Translator(group.language)
    tz = ZoneInfo(group.timezone)
    result = await poll_tally(session, poll)
    queued = 0
    for (platform, chat_id), message_id in sorted(shown.items()):
        if (platform, chat_id) == skip_chat:
            continue
        prefix = f"poll:{poll.id}:sync:{platform}:{chat_id}:"
        await poll_store.drop_pending(session, prefix)
        view = chat_message(services, t, tz, poll, result, platform, buttons_for="vote")
        queued += await outbox.enqueue(
            session,
            dedupe_key=prefix + uuid4().hex,
            purpose="poll_sync",
            platform=platform,
            chat_id=chat_id,
            group_id=group.id,
            message=OutgoingMessage(view.text, view.buttons, extra={EDIT_MESSAGE_ID: message_id}),
            now=services.clock.now(),
        )
    return queued


def close(poll: Poll, now: datetime) -> None:
    poll.status, poll.closed_at = PollStatus.CLOSED.value, now
