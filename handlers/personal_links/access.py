"""Whom a personal link stands for, and whether it still works: the one check every page
and every answer goes through. Unknown, revoked and no longer valid look the same (None),
so a page cannot tell a guesser which tokens once existed."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.i18n import Translator
from handlers.personal_links.mails import ANSWER_WORDS
from storage import meetings as meeting_store
from storage import people
from storage import personal_links as link_store
from storage import polls as poll_store
from storage.db import Session
from storage.models import Group, Meeting, PersonalLink, Poll, User

POLL_PATH = "/poll/{token}"
RSVP_PATH = "/rsvp/{token}"
RSVP_ANSWERS = ("yes", "maybe", "no")


@dataclass(frozen=True)
class Opened:
    """A live link with what it opens: exactly one of `poll` and `meeting` is set."""

    link: PersonalLink
    user: User
    group: Group
    poll: Poll | None = None
    meeting: Meeting | None = None

    @property
    def scope(self) -> str:
        """What the page's form tokens are bound to: this link (its current token)."""
        return f"personal-link:{self.link.id}:{self.link.token_hash}"


def poll_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + POLL_PATH.format(token=token)


def rsvp_url(base_url: str, token: str, answer: str | None = None) -> str:
    url = base_url.rstrip("/") + RSVP_PATH.format(token=token)
    return f"{url}/{answer}" if answer else url


def answer_links(t: Translator, base_url: str, token: str) -> list[tuple[str, str]]:
    """(Zusage, URL), (Vielleicht, URL), (Absage, URL) for a meeting link's token."""
    return [
        (t.gettext(ANSWER_WORDS[answer]), rsvp_url(base_url, token, answer))
        for answer in RSVP_ANSWERS
    ]


async def open_link(session: Session, token: str) -> Opened | None:
    """The link `token` opens, while it works: not revoked, its person still there, and
    (unless given to a guest outside the chats) still a member of the group."""
    link = await link_store.link_for_token(session, token)
    if link is None:
        return None
    user = await people.find_user(session, link.user_id)
    if user is None:
        return None
    if not link.outside and await people.membership(session, link.group_id, user.id) is None:
        return None
    group = await people.group_by_id(session, link.group_id)
    if link.poll_id is not None:
        poll = await poll_store.poll_by_id(session, link.poll_id)
        return Opened(link, user, group, poll=poll) if poll is not None else None
    if link.meeting_id is not None:
        meeting = await meeting_store.meeting_by_id(session, link.meeting_id)
        return Opened(link, user, group, meeting=meeting) if meeting is not None else None
    return None


async def name_of(session: Session, user_id: int) -> str:
    """The name the link's person answers under: a guest's given name, else their chat name."""
    guest = await link_store.guest_of(session, user_id)
    if guest is not None:
        return guest.name
    names = await people.display_names(session, [user_id])
    return names.get(user_id, "?")
