"""Guests hear of what happens to a meeting they were invited to: the invitation path of the
chat members (handlers/calendar/invitations) calls this after every change."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.enums import MeetingStatus
from bot.core.i18n import Translator
from bot.core.mail import to_outgoing
from handlers.context import Services
from handlers.personal_links.access import answer_links, poll_url
from handlers.personal_links.mails import meeting_change_mail, poll_reminder_mail
from handlers.polls.view import TITLES, moment_text
from storage import mail as mail_store
from storage import personal_links as link_store
from storage.db import Session
from storage.models import Group, Meeting, Poll


async def tell_meeting_guests(
    session: Session,
    services: Services,
    meeting: Meeting,
    group: Group,
    *,
    when: str,
    now: datetime,
) -> int:
    """One mail per guest and version of the meeting (`when` in the group's terms): a change
    carries answer links of its own (the earlier mails' links keep working), a cancellation
    none — their links still open the page, which says the meeting was cancelled. Returns
    mails queued."""
    if meeting.sequence == 0 and meeting.status != MeetingStatus.CANCELLED.value:
        return 0  # a new meeting has no guests yet: they come with /sitzungsgast
    cancelled = meeting.status == MeetingStatus.CANCELLED.value
    t = Translator(group.language)
    queued = 0
    for link in await link_store.live_links(session, meeting_id=meeting.id):
        guest = await link_store.guest_of(session, link.user_id) if link.outside else None
        if guest is None:
            continue
        key = f"guest-meeting:{meeting.id}:{meeting.sequence}:{meeting.status}:{guest.user_id}"
        if await mail_store.mail_queued(session, key, guest.address):
            continue
        answers: list[tuple[str, str]] = []
        if not cancelled:
            token = await link_store.issue(
                session,
                user_id=guest.user_id,
                group_id=group.id,
                meeting_id=meeting.id,
                outside=True,
                now=now,
            )
            answers = answer_links(t, services.settings.feed_base_url, token)
        mail = meeting_change_mail(
            t,
            title=meeting.title,
            when=when,
            location=meeting.location,
            name=guest.name,
            group=group.name,
            cancelled=cancelled,
            answers=answers,
        )
        queued += await mail_store.enqueue_mail(
            session,
            address=guest.address,
            dedupe_key=key,
            purpose="personal_link",
            message=to_outgoing(mail),
            now=now,
            user_id=guest.user_id,
            group_id=group.id,
        )
    return queued


async def remind_poll_guests(
    session: Session,
    services: Services,
    poll: Poll,
    group: Group,
    *,
    answered: set[int],
    now: datetime,
) -> int:
    """With the members' reminder (handlers/polls/deadlines): each guest with a working link
    who has not answered gets one mail with a link of its own (the first mail's keeps
    working). Returns mails queued."""
    assert poll.deadline is not None
    t = Translator(group.language)
    heading = t.gettext(TITLES[poll.kind], number=poll.number, title=poll.title)
    deadline = moment_text(poll.deadline, ZoneInfo(group.timezone), t.language)
    queued = 0
    for link in await link_store.live_links(session, poll_id=poll.id):
        guest = await link_store.guest_of(session, link.user_id) if link.outside else None
        if guest is None or guest.user_id in answered:
            continue
        key = f"poll:{poll.id}:guest-reminder:{guest.user_id}"
        if await mail_store.mail_queued(session, key, guest.address):
            continue
        token = await link_store.issue(
            session,
            user_id=guest.user_id,
            group_id=group.id,
            poll_id=poll.id,
            outside=True,
            now=now,
        )
        mail = poll_reminder_mail(
            t,
            heading=heading,
            name=guest.name,
            group=group.name,
            deadline=deadline,
            url=poll_url(services.settings.feed_base_url, token),
        )
        queued += await mail_store.enqueue_mail(
            session,
            address=guest.address,
            dedupe_key=key,
            purpose="personal_link",
            message=to_outgoing(mail),
            now=now,
            user_id=guest.user_id,
            group_id=group.id,
        )
    return queued
