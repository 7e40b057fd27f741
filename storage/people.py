"""Queries for people, groups and memberships. Each function takes the caller's session, so
one command is one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.core.enums import OutboxStatus, Role
from bot.core.messages import UserRef
from bot.core.text import strip_bidi
from storage import agenda, minutes, outbox, platform_state, polls
from storage.models import (
    Advisor,
    AdvisorAuthorization,
    CalendarFeed,
    ChatDeparture,
    Group,
    GroupChat,
    Identity,
    Membership,
    OutboxMessage,
    PersonalLink,
    Poll,
    PollOption,
    PollVote,
    ReminderLog,
    User,
    UserReminderSettings,
)

LAST_SEEN_RESOLUTION = timedelta(hours=1)

# Built once: SQLAlchemy memoizes a statement's cache key on the object, so reusing it
# skips rebuilding and re-keying the query on every command (the hottest query we have).
_IDENTITY_WITH_USER = (
    select(Identity)
    .where(
        Identity.platform == bindparam("platform"),
        Identity.platform_user_id == bindparam("platform_user_id"),
    )
    .options(joinedload(Identity.user))
)


@dataclass(frozen=True, slots=True)
class SeenIdentity:
    identity: Identity
    dm_opened: bool  # the private chat became usable just now: release waiting messages


async def upsert_identity(
    session: AsyncSession, person: UserRef, now: datetime, *, private_chat_id: str | None = None
) -> Identity:
    """Find or create the person behind a platform identity and refresh what we know."""
    return (await see_identity(session, person, now, private_chat_id=private_chat_id)).identity


async def see_identity(
    session: AsyncSession, person: UserRef, now: datetime, *, private_chat_id: str | None = None
) -> SeenIdentity:
    """Like upsert_identity, and says whether the private chat was just opened.

    Writes only what changed (last_seen_at at most hourly), so the common case of a known
    person sending a command costs one indexed SELECT.
    """
    identity = await session.scalar(
        _IDENTITY_WITH_USER, {"platform": person.platform, "platform_user_id": person.user_id}
    )
    name = strip_bidi(person.display_name) or person.user_id  # no spoofing, never empty
    if identity is None:
        identity = Identity(
            user=User(created_at=now),
            platform=person.platform,
            platform_user_id=person.user_id,
            display_name=name,
            username=person.username,
            created_at=now,
            last_seen_at=now,
        )
        session.add(identity)
    else:
        if identity.display_name != name:
            identity.display_name = name
        if identity.username != person.username:
            identity.username = person.username
        if now - identity.last_seen_at >= LAST_SEEN_RESOLUTION:
            identity.last_seen_at = now
    dm_opened = private_chat_id is not None and (
        identity.dm_chat_id != private_chat_id or identity.unreachable_at is not None
    )
    if dm_opened:
        identity.dm_chat_id = private_chat_id
        identity.unreachable_at = None
    if identity.id is None:
        await session.flush()
    return SeenIdentity(identity, dm_opened)


async def find_identity_by_username(
    session: AsyncSession, platform: str, username: str
) -> Identity | None:
    bare = username.lstrip("@").lower()  # Telegram stores "anna", Matrix "@anna:server"
    # By the username alone, then the platform among the few found: with the platform in the
    # query, SQLite (no statistics) walks the platform's index, i.e. every identity there.
    found = await session.scalars(
        select(Identity)
        .where(func.lower(Identity.username).in_([bare, f"@{bare}"]))
        .order_by(Identity.id)
    )
    return next((identity for identity in found if identity.platform == platform), None)


async def identities_of(session: AsyncSession, user_id: int) -> list[Identity]:
    result = await session.scalars(select(Identity).where(Identity.user_id == user_id))
    return list(result)


async def group_by_id(session: AsyncSession, group_id: int) -> Group:
    group = await session.get(Group, group_id)
    if group is None:
        raise LookupError(f"no group {group_id}")
    return group


async def user_by_id(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise LookupError(f"no user {user_id}")
    return user


async def group_for_chat(session: AsyncSession, platform: str, chat_id: str) -> Group | None:
    return await session.scalar(
        select(Group)
        .join(GroupChat, GroupChat.group_id == Group.id)
        .where(GroupChat.platform == platform, GroupChat.chat_id == chat_id)
    )


async def group_chat(session: AsyncSession, platform: str, chat_id: str) -> GroupChat | None:
    """A registered chat with its working group loaded, or None for any other chat."""
    return await session.scalar(
        select(GroupChat)
        .where(GroupChat.platform == platform, GroupChat.chat_id == chat_id)
        .options(joinedload(GroupChat.group))
    )


async def move_chat(
    session: AsyncSession, platform: str, old_chat_id: str, new_chat_id: str
) -> None:
    """A chat changed its id (Telegram upgrades groups to supergroups): follow it.

    The working group keeps its chat, and queued messages go to the new id.
    """
    await session.execute(
        update(GroupChat)
        .where(GroupChat.platform == platform, GroupChat.chat_id == old_chat_id)
        .values(chat_id=new_chat_id)
    )
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.platform == platform,
            OutboxMessage.chat_id == old_chat_id,
            OutboxMessage.status.in_([OutboxStatus.PENDING.value, OutboxStatus.SENDING.value]),
        )
        .values(chat_id=new_chat_id)
    )


async def create_group(
    session: AsyncSession,
    *,
    name: str,
    kind: str,
    timezone: str,
    language: str,
    platform: str,
    chat_id: str,
    chat_title: str | None,
    creator: User,
    now: datetime,
) -> Group:
    group = Group(
        name=name,
        kind=kind,
        timezone=timezone,
        language=language,
        created_at=now,
        created_by_user_id=creator.id,
    )
    group.chats.append(
        GroupChat(platform=platform, chat_id=chat_id, title=chat_title, created_at=now)
    )
    session.add(group)
    await session.flush()
    return group


async def membership(session: AsyncSession, group_id: int, user_id: int) -> Membership | None:
    """The person's current membership (an ended one is history, not membership)."""
    return await session.scalar(
        select(Membership).where(
            Membership.group_id == group_id,
            Membership.user_id == user_id,
            Membership.left_at.is_(None),
        )
    )


async def ensure_membership(
    session: AsyncSession, group_id: int, user_id: int, now: datetime
) -> Membership:
    """Writing in a group's chat makes a member: the chat is the group. Someone who left
    and writes again is a member again."""
    existing = await session.scalar(
        select(Membership).where(Membership.group_id == group_id, Membership.user_id == user_id)
    )
    if existing is not None:
        if existing.left_at is not None:
            existing.left_at = None
            chats = select(GroupChat.id).where(GroupChat.group_id == group_id)
            await session.execute(
                delete(ChatDeparture).where(
                    ChatDeparture.user_id == user_id, ChatDeparture.group_chat_id.in_(chats)
                )
            )
        return existing
    created = Membership(group_id=group_id, user_id=user_id, role=Role.MEMBER.value, created_at=now)
    session.add(created)
    await session.flush()
    return created


async def members_with_identities(
    session: AsyncSession, group_id: int, platform: str
) -> list[tuple[Membership, Identity | None]]:
    """Members with the identity to show: the one on `platform` if they have it (so
    @mentions work here), else any (a person known only on the group's other platform)."""
    members = list(
        await session.scalars(
            select(Membership)
            .where(Membership.group_id == group_id, Membership.left_at.is_(None))
            .order_by(Membership.created_at, Membership.id)
        )
    )
    best = await shown_identities(session, [m.user_id for m in members], platform)
    return [(member, best.get(member.user_id)) for member in members]


async def count_chairs(session: AsyncSession, group_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(
                Membership.group_id == group_id,
                Membership.role == Role.CHAIR.value,
                Membership.left_at.is_(None),
            )
        )
        or 0
    )


async def export_user_data(session: AsyncSession, user: User) -> dict[str, Any]:
    """Everything stored about one person (GDPR Art. 15)."""
    identities = await identities_of(session, user.id)
    memberships = await session.execute(
        select(Membership, Group)
        .join(Group, Group.id == Membership.group_id)
        .where(Membership.user_id == user.id)
    )
    queued = await session.scalars(select(OutboxMessage).where(OutboxMessage.user_id == user.id))
    advisor_entries = []
    for advisor in await session.scalars(select(Advisor).where(Advisor.user_id == user.id)):
        days = await session.scalars(
            select(AdvisorAuthorization.authorized_on)
            .where(AdvisorAuthorization.advisor_id == advisor.id)
            .order_by(AdvisorAuthorization.authorized_on)
        )
        advisor_entries.append(
            {
                "name": advisor.name,
                "email": advisor.email,
                "training_institution": advisor.institution,
                "consulting_fields": advisor.fields,
                "language": advisor.language,
                "listing_status": advisor.status,
                "authorizations": [d.isoformat() for d in days],
                "region": advisor.region,
                "published_on_public_list": advisor.published,
                "email_unreachable_at": (
                    advisor.email_unreachable_at.isoformat()
                    if advisor.email_unreachable_at
                    else None
                ),
                "email_unreachable_reason": advisor.email_unreachable_reason,
            }
        )
    feeds = await session.scalars(select(CalendarFeed).where(CalendarFeed.user_id == user.id))
    links = await session.scalars(select(PersonalLink).where(PersonalLink.user_id == user.id))
    poll_answers = await session.execute(
        select(PollVote, PollOption, Poll, Group)
        .join(PollOption, PollOption.id == PollVote.option_id)
        .join(Poll, Poll.id == PollVote.poll_id)
        .join(Group, Group.id == Poll.group_id)
        .where(PollVote.user_id == user.id)
        .order_by(PollVote.id)
    )
    meetings = await agenda.personal_meeting_data(session, user.id)
    minutes_data = await minutes.personal_minutes_data(session, user.id)
    reminder_settings = await session.get(UserReminderSettings, user.id)
    reminders = await session.scalars(
        select(ReminderLog).where(ReminderLog.recipient_id == user.id).order_by(ReminderLog.id)
    )
    return {
        "user": {
            "id": user.id,
            "language": user.language,
            "timezone": user.timezone,
            "created_at": user.created_at.isoformat(),
        },
        "identities": [
            {
                "platform": i.platform,
                "platform_user_id": i.platform_user_id,
                "display_name": i.display_name,
                "username": i.username,
                "direct_chat_id": i.dm_chat_id,
                "first_seen_at": i.created_at.isoformat(),
                "last_seen_at": i.last_seen_at.isoformat(),
            }
            for i in identities
        ],
        "memberships": [
            {
                "group": g.name,
                "group_kind": g.kind,
                "role": m.role,
                "since": m.created_at.isoformat(),
                "until": m.left_at.isoformat() if m.left_at else None,
            }
            for m, g in memberships.all()
        ],
        "advisor_registry": advisor_entries,
        "queued_messages": [
            {
                "purpose": q.purpose,
                "status": q.status,
                "created_at": q.created_at.isoformat(),
                "sent_at": q.sent_at.isoformat() if q.sent_at else None,
                "text": q.payload.get("text"),
            }
            for q in queued
        ],
        # Personal calendar links: only a hash of each token is stored, so none is shown.
        "calendar_links": [
            {
                "created_at": f.created_at.isoformat(),
                "revoked_at": f.revoked_at.isoformat() if f.revoked_at else None,
            }
            for f in feeds
        ],
        # Personal links to a poll or meeting page: likewise only hashed, so none is shown.
        "personal_links": [
            {
                "poll_id": link.poll_id,
                "meeting_id": link.meeting_id,
                "created_at": link.created_at.isoformat(),
                "revoked_at": link.revoked_at.isoformat() if link.revoked_at else None,
            }
            for link in links
        ],
        "poll_answers": [
            {
                "group": g.name,
                "poll": p.number,
                "title": p.title,
                "option": o.position,
                "option_label": o.label,
                "option_starts_at": o.starts_at.isoformat() if o.starts_at else None,
                "answer": v.answer,
                "answered_at": v.answered_at.isoformat(),
            }
            for v, o, p, g in poll_answers.all()
        ],
        **meetings,
        **minutes_data,
        "reminder_settings": {
            "meeting_offsets_minutes": reminder_settings.meeting_offsets,
            "muted": reminder_settings.muted,
        }
        if reminder_settings
        else None,
        "reminders": [
            {
                "kind": r.kind,
                "subject": r.subject,
                "due_at": r.due_at.isoformat(),
                "status": r.status,
            }
            for r in reminders
        ],
    }


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasure did, so the reply can say exactly that and nothing more."""

    pseudonymised: int  # attendance, presenters, assignees, poll answers now "former member"
    outbox_scrubbed: int  # others' messages that named the person, purged or name replaced
    advisor_entries: tuple[int, ...]  # registry entries that stay until an admin erases them


async def delete_user(
    session: AsyncSession,
    user: User,
    *,
    label: Callable[[str], str],
    default_language: str,
    now: datetime,
) -> Erasure:
    """Erase a person (GDPR Art. 17).

    Deleted: identities, memberships, settings, link codes, calendar links, replies to
    invitations, objections, reminder log, every message queued for or sent to them.
    Kept without their name, because the group relies on them: attendance and poll answers
    (moved to a stand-in person with no name or account, so counts stay), presenter and
    assignee (shown as `label(language)`), authorship of notes, decisions and action items
    (cleared). Others' messages that named them are purged or get `label`. The advisor
    registry entry is the initiative's record: it stays (unlinked) for an admin to erase,
    but no longer on the public advisor list.
    """
    identities = await identities_of(session, user.id)
    names = {i.display_name for i in identities}
    names |= {i.username.lstrip("@") for i in identities if i.username}
    await platform_state.forget_accounts(
        session, [(i.platform, i.platform_user_id) for i in identities]
    )
    stand_in_id = None
    if await agenda.has_attended(session, user.id) or await polls.has_voted(session, user.id):
        stand_in = User(created_at=now)
        session.add(stand_in)
        await session.flush()
        stand_in_id = stand_in.id
    changed = await agenda.forget_person(session, user.id, stand_in_id=stand_in_id, label=label)
    changed += await minutes.forget_assignee(session, user.id, label=label)
    if stand_in_id is not None:
        changed += await polls.hand_votes_to(session, user.id, stand_in_id)
    advisor_entries = tuple(
        await session.scalars(
            select(Advisor.id).where(Advisor.user_id == user.id).order_by(Advisor.id)
        )
    )
    # Asking for erasure withdraws the consent to publish: the public list drops them now.
    await session.execute(
        update(Advisor)
        .where(Advisor.user_id == user.id, Advisor.published != "")
        .values(published="", published_changed_at=now)
    )
    # A mail server's diagnostic may quote the person; the entry keeps only that (and since
    # when) its address is unreachable, so no letter goes to it before an admin changes it.
    await session.execute(
        update(Advisor)
        .where(Advisor.user_id == user.id, Advisor.email_unreachable_reason.is_not(None))
        .values(email_unreachable_reason=None)
    )
    scrubbed = await outbox.scrub_person(
        session,
        user_id=user.id,
        names=names,
        label=label(user.language or default_language),
        now=now,
    )
    await session.execute(delete(User).where(User.id == user.id))
    await session.flush()
    return Erasure(changed, scrubbed, advisor_entries)


async def find_user(session: AsyncSession, user_id: int) -> User | None:
    """The person with this id, or None: for callers that fall back to defaults."""
    return await session.get(User, user_id)


async def user_id_of_identity(
    session: AsyncSession, platform: str, platform_user_id: str
) -> int | None:
    """The person behind an account on a platform, if the bot has seen it."""
    return await session.scalar(
        select(Identity.user_id).where(
            Identity.platform == platform, Identity.platform_user_id == platform_user_id
        )
    )


async def is_member_of_any(session: AsyncSession, user_id: int, group_ids: set[int]) -> bool:
    """Whether the person belongs to at least one of these working groups."""
    member = await session.scalar(
        select(Membership.id).where(
            Membership.user_id == user_id,
            Membership.group_id.in_(group_ids),
            Membership.left_at.is_(None),
        )
    )
    return member is not None


async def chairs_of(session: AsyncSession, group_id: int) -> list[User]:
    """The chairs of a working group, by person id."""
    return list(
        await session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.group_id == group_id,
                Membership.role == Role.CHAIR.value,
                Membership.left_at.is_(None),
            )
            .order_by(User.id)
        )
    )


async def known_direct_chat(
    session: AsyncSession, platform: str, platform_user_id: str
) -> str | None:
    """The private chat stored for a platform account, if the account and a chat are known."""
    return await session.scalar(
        select(Identity.dm_chat_id).where(
            Identity.platform == platform, Identity.platform_user_id == platform_user_id
        )
    )


async def remember_direct_chat(
    session: AsyncSession, platform: str, platform_user_id: str, chat_id: str
) -> None:
    """Store the private chat an adapter opened with a known account (unknown: nothing)."""
    await session.execute(
        update(Identity)
        .where(Identity.platform == platform, Identity.platform_user_id == platform_user_id)
        .values(dm_chat_id=chat_id)
    )


async def add_group_chat(
    session: AsyncSession,
    group_id: int,
    *,
    platform: str,
    chat_id: str,
    title: str | None,
    now: datetime,
) -> GroupChat:
    """A further chat of an existing working group (linked with a code)."""
    chat = GroupChat(
        group_id=group_id, platform=platform, chat_id=chat_id, title=title, created_at=now
    )
    session.add(chat)
    return chat


async def shown_identities(
    session: AsyncSession, user_ids: Iterable[int], platform: str | None
) -> dict[int, Identity]:
    """The identity to show per person: the one on `platform` if they have it (so @mentions
    work there), else any (a person known only on the group's other platform)."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    best: dict[int, Identity] = {}
    for identity in await session.scalars(select(Identity).where(Identity.user_id.in_(wanted))):
        current = best.get(identity.user_id)
        if current is None or (identity.platform == platform and current.platform != platform):
            best[identity.user_id] = identity
    return best


async def display_names(
    session: AsyncSession, user_ids: Iterable[int], platform: str | None = None
) -> dict[int, str]:
    """A shown name per person, preferring their identity on `platform`."""
    shown = await shown_identities(session, user_ids, platform)
    return {user_id: identity.display_name for user_id, identity in shown.items()}


# --- membership follows the chat -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LeftGroup:
    """A person's membership that just ended because they left the group's last chat."""

    group: Group
    user_id: int


async def leave_chat(
    session: AsyncSession, platform: str, chat_id: str, platform_user_id: str, now: datetime
) -> LeftGroup | None:
    """A person left (or was removed or banned from) a group's chat.

    The departure is recorded per chat. The membership ends when no other live chat of the
    group is left where the person may still be (one on a platform where they have an
    account and that they have not left). The row is kept with `left_at` as history; a role
    ends with it, so coming back starts as member. Returns what ended, or None.
    """
    chat = await group_chat(session, platform, chat_id)
    if chat is None:
        return None
    user_id = await user_id_of_identity(session, platform, platform_user_id)
    if user_id is None:
        return None
    current = await membership(session, chat.group_id, user_id)
    if current is None:
        return None
    departed = await session.scalar(
        select(ChatDeparture).where(
            ChatDeparture.group_chat_id == chat.id, ChatDeparture.user_id == user_id
        )
    )
    if departed is None:
        session.add(ChatDeparture(group_chat_id=chat.id, user_id=user_id, left_at=now))
    else:
        departed.left_at = now
    their_platforms = select(Identity.platform).where(Identity.user_id == user_id)
    left_chats = select(ChatDeparture.group_chat_id).where(ChatDeparture.user_id == user_id)
    elsewhere = await session.scalar(
        select(GroupChat.id).where(
            GroupChat.group_id == chat.group_id,
            GroupChat.id != chat.id,
            GroupChat.gone_at.is_(None),
            GroupChat.platform.in_(their_platforms),
            GroupChat.id.not_in(left_chats),
        )
    )
    if elsewhere is not None:
        await session.flush()
        return None
    current.left_at = now
    current.role = Role.MEMBER.value
    current.role_granted_by_user_id = None
    await session.flush()
    return LeftGroup(chat.group, user_id)


async def joined_chat(
    session: AsyncSession, platform: str, chat_id: str, platform_user_id: str
) -> None:
    """A person (re)joined a chat: a departure recorded for it no longer holds. Becoming a
    member again takes a command in the chat (see ensure_membership)."""
    user_id = await user_id_of_identity(session, platform, platform_user_id)
    if user_id is None:
        return
    chat_ids = select(GroupChat.id).where(
        GroupChat.platform == platform, GroupChat.chat_id == chat_id
    )
    await session.execute(
        delete(ChatDeparture).where(
            ChatDeparture.user_id == user_id, ChatDeparture.group_chat_id.in_(chat_ids)
        )
    )


@dataclass(frozen=True, slots=True)
class GoneChat:
    """A group's chat the bot was removed from, and the group's chats that remain."""

    group: Group
    title: str | None
    remaining: list[GroupChat]


async def mark_chat_gone(
    session: AsyncSession, platform: str, chat_id: str, now: datetime
) -> GoneChat | None:
    """The bot was removed from a chat: if it belonged to a group, mark it gone (once)."""
    chat = await group_chat(session, platform, chat_id)
    if chat is None or chat.gone_at is not None:
        return None
    chat.gone_at = now
    remaining = await session.scalars(
        select(GroupChat)
        .where(GroupChat.group_id == chat.group_id, GroupChat.gone_at.is_(None))
        .order_by(GroupChat.id)
    )
    await session.flush()
    return GoneChat(chat.group, chat.title, list(remaining))


async def chat_back(session: AsyncSession, platform: str, chat_id: str) -> None:
    """The bot was added to a chat marked gone: it serves the chat again."""
    await session.execute(
        update(GroupChat)
        .where(
            GroupChat.platform == platform,
            GroupChat.chat_id == chat_id,
            GroupChat.gone_at.is_not(None),
        )
        .values(gone_at=None)
    )


async def identities_named(session: AsyncSession, username: str) -> list[Identity]:
    """The accounts on any platform with this username (Telegram `anna`, Matrix
    `@anna:server`), for an admin naming an account across platforms."""
    bare = username.lstrip("@").lower()
    return list(
        await session.scalars(
            select(Identity)
            .where(func.lower(Identity.username).in_([bare, f"@{bare}"]))
            .order_by(Identity.id)
        )
    )


async def direct_chat_owner(session: AsyncSession, platform: str, chat_id: str) -> str | None:
    """The platform account whose private chat `chat_id` is stored as, if any."""
    return await session.scalar(
        select(Identity.platform_user_id)
        .where(Identity.platform == platform, Identity.dm_chat_id == chat_id)
        .limit(1)
    )


async def live_chat_ids(session: AsyncSession, platform: str) -> list[str]:
    """The chat ids of every group chat on `platform` the bot was not removed from."""
    return list(
        await session.scalars(
            select(GroupChat.chat_id)
            .where(GroupChat.platform == platform, GroupChat.gone_at.is_(None))
            .order_by(GroupChat.id)
        )
    )


@dataclass(frozen=True, slots=True)
class ChatAccount:
    """A person's account on the platform of one of their group's chats that they have not
    left (as far as the bot knows): where to ask whether they are still there."""

    user_id: int
    platform: str
    chat_id: str
    platform_user_id: str


async def chat_accounts(
    session: AsyncSession, group_id: int, user_ids: Iterable[int]
) -> list[ChatAccount]:
    """For current members among `user_ids`: each live chat of the group on a platform where
    they have an account, unless a departure from it is recorded."""
    ids = list(set(user_ids))
    if not ids:
        return []
    departed = select(ChatDeparture.id).where(
        ChatDeparture.group_chat_id == GroupChat.id, ChatDeparture.user_id == Identity.user_id
    )
    rows = await session.execute(
        select(Identity.user_id, GroupChat.platform, GroupChat.chat_id, Identity.platform_user_id)
        .join(GroupChat, GroupChat.platform == Identity.platform)
        .join(
            Membership,
            (Membership.user_id == Identity.user_id) & (Membership.group_id == GroupChat.group_id),
        )
        .where(
            GroupChat.group_id == group_id,
            GroupChat.gone_at.is_(None),
            Membership.left_at.is_(None),
            Identity.user_id.in_(ids),
            ~departed.exists(),
        )
        .order_by(Identity.user_id, GroupChat.id)
    )
    return [ChatAccount(*row) for row in rows]


async def left_among(session: AsyncSession, group_id: int, user_ids: Iterable[int]) -> set[int]:
    """Those of `user_ids` whose membership of the group has ended (who never had one are
    not among them: like the recipient queries, only a departure excludes)."""
    ids = list(set(user_ids))
    if not ids:
        return set()
    return set(
        await session.scalars(
            select(Membership.user_id).where(
                Membership.group_id == group_id,
                Membership.left_at.is_not(None),
                Membership.user_id.in_(ids),
            )
        )
    )


async def current_group_ids(session: AsyncSession, user_id: int) -> list[int]:
    """The groups the person is a member of now."""
    return list(
        await session.scalars(
            select(Membership.group_id)
            .where(Membership.user_id == user_id, Membership.left_at.is_(None))
            .order_by(Membership.group_id)
        )
    )


async def registered_chat_ids(session: AsyncSession, platform: str) -> set[str]:
    """Every chat on `platform` registered as a working group's chat: what an adapter knows
    to be a group room at start, before the room's own state says anything."""
    return set(
        await session.scalars(select(GroupChat.chat_id).where(GroupChat.platform == platform))
    )
