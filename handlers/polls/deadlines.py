"""Poll deadlines, run by the scheduler: remind non-voters once, close polls at the deadline.

Called with the time to act for (`now`), so tests drive it with a fixed clock and a late or
repeated run does the right thing: every message has a dedupe key, a poll is closed once,
and a poll whose deadline has already passed is closed without a late reminder.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.enums import PollKind
from bot.core.i18n import N_, Translator
from bot.core.messages import OutgoingMessage
from handlers.context import Services
from handlers.members.audience import audience
from handlers.members.presence import still_members
from handlers.personal_links.guests import remind_poll_guests
from handlers.polls.actions import close, poll_tally, post_everywhere, sync_shown
from handlers.polls.tally import reminder_due
from handlers.polls.view import closed_headline, moment_text
from storage import outbox, people
from storage import polls as poll_store
from storage.db import Session
from storage.models import Poll

REMINDERS = {
    True: N_(
        "Reminder: please answer the date poll “{title}” in {group} by {when}. "
        "The buttons are under the poll in the group chat."
    ),
    False: N_(
        "Reminder: please answer the survey “{title}” in {group} by {when}. "
        "The buttons are under the survey in the group chat."
    ),
}


async def run_poll_deadlines(services: Services, now: datetime) -> None:
    queued = 0
    async with services.sessions.begin() as session:
        for poll in await poll_store.past_deadline(session, now):
            queued += await _close(session, services, poll, now)
        lead = timedelta(hours=services.settings.poll_reminder_hours)
        for poll in await poll_store.due_for_reminder(session, now, now + lead):
            assert poll.deadline is not None
            if now >= reminder_due(poll.created_at, poll.deadline, lead):
                queued += await _remind(session, services, poll, now)
    if queued:
        services.wake_outbox()


async def _close(session: Session, services: Services, poll: Poll, now: datetime) -> int:
    group = await people.group_by_id(session, poll.group_id)
    close(poll, now)
    result = await poll_tally(session, poll)
    headline = closed_headline(
        Translator(group.language), poll, result, ZoneInfo(group.timezone), now
    )
    posted = await post_everywhere(
        session,
        services,
        group,
        poll,
        dedupe_key=f"poll:{poll.id}:closed",
        buttons_for="pick",
        headline=headline,
        skip_chat=None,
    )
    return posted + await sync_shown(session, services, group, poll, skip_chat=None)


async def _remind(session: Session, services: Services, poll: Poll, now: datetime) -> int:
    """One DM to each member who has not answered and is still in the group's chat (asked
    where the platform does not say); the key makes it once per person."""
    group = await people.group_by_id(session, poll.group_id)
    assert poll.deadline is not None
    answered = await poll_store.voter_ids(session, poll.id)
    queued = 0
    silent = [u for u in await poll_store.member_ids(session, group.id) if u not in answered]
    current = await still_members(services, session, group.id, silent, now)
    for user_id in silent:
        if user_id not in current:
            continue
        user = await people.find_user(session, user_id)
        if user is None:
            continue
        t, tz = audience(user, group)
        text = t.gettext(
            REMINDERS[poll.kind == PollKind.DATE.value],
            title=poll.title,
            group=group.name,
            when=moment_text(poll.deadline, tz, t.language),
        )
        try:
            queued += await outbox.enqueue_to_person(
                session,
                user_id=user_id,
                dedupe_key=f"poll:{poll.id}:reminder:{user_id}",
                purpose="poll_reminder",
                message=OutgoingMessage(text),
                now=now,
                group_id=group.id,
            )
        except LookupError:  # a member without any chat account left: nobody to tell
            continue
    queued += await remind_poll_guests(session, services, poll, group, answered=answered, now=now)
    poll.reminded_at = now
    return queued
