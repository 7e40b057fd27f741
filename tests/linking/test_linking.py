"""One group across two platforms, one person with two accounts (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.core.messages import ChatKind, ChatRef, OutgoingMessage, UserRef
from storage.models import Identity, Membership, OutboxMessage, User
from tests.harness import GROUP, Conversation, FakePlatform, dm, person

anna, bernd = person("anna"), person("bernd")
dora = UserRef(
    "other", "@dora:example.org", "Dora", username="@dora:example.org", language_code="de"
)
anna_elsewhere = UserRef("other", "@anna:example.org", "Anna M.", username="@anna:example.org")
ROOM = ChatRef("other", "!room:example.org", ChatKind.GROUP, "AG Transfer (Matrix)")


def other_dm(user: UserRef) -> ChatRef:
    return ChatRef("other", f"!dm-{user.user_id}", ChatKind.PRIVATE)


@pytest.fixture
def chats(core) -> tuple[Conversation, Conversation]:
    telegram = Conversation(core, FakePlatform(name="test"))
    telegram.platform.admins.add((GROUP.chat_id, anna.user_id))
    matrix = Conversation(core, FakePlatform(name="other", command_prefix="!"))
    matrix.platform.admins.add((ROOM.chat_id, dora.user_id))
    return telegram, matrix


def code_in(text: str) -> str:
    match = re.search(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b", text)
    assert match, text
    return match.group(1)


async def test_a_group_spans_two_platforms(chats, core) -> None:
    telegram, matrix = chats
    await telegram.say(anna, '/registrieren ag "AG Transfer"')
    await telegram.say(bernd, "/beitreten")
    assert "Vorsitz" in await telegram.text(bernd, "/verknuepfen")  # only chairs get codes
    code = code_in(await telegram.text(anna, "/verknuepfen"))
    assert "Adminrechte" in await matrix.text(person("zoe"), f"!verknuepfen {code}", ROOM)
    joined = await matrix.text(dora, f"!verknuepfen {code}", ROOM)
    assert "„AG Transfer“" in joined
    assert "AG Transfer" in await matrix.text(dora, "!einstellungen", ROOM)
    members = await matrix.text(dora, "!mitglieder", ROOM)
    assert "Bernd" in members and "Dora" in members
    again = await matrix.text(dora, f"!verknuepfen {code}", ROOM)
    assert "gehört bereits" in again  # the room is linked now
    # an announcement of the group reaches both chats, once each
    from handlers.context import HandlerContext
    from storage import people

    async with core.services.sessions() as session:
        group = await people.group_for_chat(session, "other", ROOM.chat_id)
        identity = await people.upsert_identity(session, dora, core.services.clock.now())
        ctx = HandlerContext(
            services=core.services,
            session=session,
            message=None,  # type: ignore[arg-type]
            platform=matrix.platform,
            t=None,
            user=identity.user,  # type: ignore[arg-type]
            identity=identity,
            group=group,
            member=None,
        )
        for _ in range(2):
            await ctx.announce(
                dedupe_key="meeting:1",
                purpose="announce",
                message=OutgoingMessage("Sitzung am 15.06."),
            )
        await session.commit()
        rows = list(await session.scalars(select(OutboxMessage)))
    assert sorted((r.platform, r.chat_id) for r in rows) == [
        ("other", ROOM.chat_id),
        ("test", GROUP.chat_id),
    ]


async def test_group_codes_are_single_use_and_expire(chats, core) -> None:
    telegram, matrix = chats
    await telegram.say(anna, '/registrieren ag "AG Transfer"')
    code = code_in(await telegram.text(anna, "/verknuepfen"))
    assert "unbekannt oder abgelaufen" in await matrix.text(dora, "!verknuepfen ABCD-EFGH", ROOM)
    core.services.clock.advance(timedelta(hours=2))
    assert "unbekannt oder abgelaufen" in await matrix.text(dora, f"!verknuepfen {code}", ROOM)
    # account codes do not link groups, and the other way round
    account_code = code_in(await telegram.text(anna, "/verknuepfen", dm(anna)))
    assert "unbekannt" in await matrix.text(dora, f"!verknuepfen {account_code}", ROOM)


async def test_two_accounts_become_one_person(chats, core) -> None:
    telegram, matrix = chats
    await telegram.say(anna, '/registrieren ag "AG Transfer"')
    await telegram.say(anna, "/sprache en", dm(anna))
    code = code_in(await telegram.text(anna, "/link", dm(anna)))
    assert "other one" in await telegram.text(anna, f"/link {code.lower()}", dm(anna))
    code = code_in(await telegram.text(anna, "/link", dm(anna)))
    await matrix.say(anna_elsewhere, "!start", other_dm(anna_elsewhere))
    linked = await matrix.text(anna_elsewhere, f"!link {code.lower()}", other_dm(anna_elsewhere))
    assert "Other, Test" in linked or "Test, Other" in linked
    async with core.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1
        owners = set(await session.scalars(select(Identity.user_id)))
        assert len(owners) == 1
        assert await session.scalar(select(func.count()).select_from(Membership)) == 1
    # the merged person keeps the chair role and the language chosen before
    assert "Vorsitz" in await telegram.text(anna, "/mitglieder") or "chair" in (
        await telegram.text(anna, "/members")
    )
    assert "English" in await matrix.text(anna_elsewhere, "!settings", other_dm(anna_elsewhere))


async def test_linking_in_an_unregistered_group_without_code_explains(chats) -> None:
    _, matrix = chats
    reply = await matrix.text(dora, "!verknuepfen", ROOM)
    assert "!verknuepfen" in reply and "!registrieren" in reply


async def test_a_linked_person_gets_direct_messages_where_they_are_reachable(chats, core) -> None:
    from storage import outbox

    telegram, matrix = chats
    await telegram.say(anna, "/start", dm(anna))  # Telegram private chat is open
    code = code_in(await telegram.text(anna, "/verknuepfen", dm(anna)))
    core.services.clock.advance(timedelta(minutes=30))
    await matrix.say(anna_elsewhere, f"!verknuepfen {code}", other_dm(anna_elsewhere))
    async with core.services.sessions.begin() as session:
        user_id = await session.scalar(select(Identity.user_id))
        for _ in range(2):  # a second enqueue with the same key is a no-op
            await outbox.enqueue_to_person(
                session,
                user_id=user_id,
                dedupe_key="reminder:1",
                purpose="reminder",
                message=OutgoingMessage("Erinnerung"),
                now=core.services.clock.now(),
            )
        rows = list(await session.scalars(select(OutboxMessage)))
    # both private chats are open; the one used last (Matrix, for the code) wins
    assert [(r.platform, r.chat_id, r.status) for r in rows] == [
        ("other", other_dm(anna_elsewhere).chat_id, "pending")
    ]


async def test_a_person_without_private_chat_waits_on_their_account(chats, core) -> None:
    from storage import outbox

    telegram, _ = chats
    await telegram.say(anna, '/registrieren ag "AG Transfer"')
    await telegram.say(bernd, "/beitreten")
    async with core.services.sessions.begin() as session:
        user_id = await session.scalar(select(Identity.user_id).where(Identity.username == "bernd"))
        await outbox.enqueue_to_person(
            session,
            user_id=user_id,
            dedupe_key="reminder:2",
            purpose="reminder",
            message=OutgoingMessage("Erinnerung"),
            now=core.services.clock.now(),
        )
        row = await session.scalar(select(OutboxMessage))
    assert (row.platform, row.status) == ("test", "waiting_for_dm")


async def test_meeting_changes_reach_the_groups_other_chats(chats, core) -> None:
    telegram, matrix = chats
    await telegram.say(anna, '/registrieren ag "AG Transfer"')
    code = code_in(await telegram.text(anna, "/verknuepfen"))
    await matrix.say(dora, f"!verknuepfen {code}", ROOM)
    reply = await telegram.text(anna, "/sitzung 15.06.2021 9-12 Uhr Juni-Sitzung")
    await telegram.say(anna, "/sitzung 15.06.2021 9-12 Uhr Juni-Sitzung")  # a second one
    async with core.services.sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    changes = [r for r in rows if r.purpose == "meeting_change"]
    assert {(r.platform, r.chat_id) for r in changes} == {("other", ROOM.chat_id)}
    assert len(changes) == 2  # one per meeting, none back into the Telegram group
    assert changes[0].payload["text"] == reply
    # Everything else is a calendar invitation to a person, never a post into a group chat.
    others = [r for r in rows if r not in changes]
    assert others and all(r.purpose == "meeting_invitation" and r.user_id for r in others)
    assert GROUP.chat_id not in {r.chat_id for r in rows}
