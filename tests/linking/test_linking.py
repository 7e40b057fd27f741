"""One group across two platforms, one person with two accounts (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.app import Core
from bot.core.messages import ChatKind, ChatRef, OutgoingMessage, UserRef
from storage import outbox
from storage.models import Identity, Membership, OutboxMessage, User
from tests.harness import GROUP, Conversation, FakePlatform, dm, outbox_rows, person

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


async def link_request(core) -> OutgoingMessage:
    """The last confirmation request the bot queued for a code's creator."""
    [*_, row] = await outbox_rows(core, "link_request")
    return outbox.decode_message(row.payload)


async def press(conversation: Conversation, who: UserRef, label: str, chat: ChatRef) -> str:
    """`who` presses the button labelled `label` of the last link request, in `chat`."""
    request = await link_request(conversation.core)
    [data] = [b.data for row in request.buttons for b in row if b.label == label]
    return await conversation.text(who, data, chat, callback=data)


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
    asked = await matrix.text(anna_elsewhere, f"!link {code.lower()}", other_dm(anna_elsewhere))
    assert "bestätigen" in asked
    linked = await press(telegram, anna, "Yes, that is me", dm(anna))
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
    assert "Verknüpft" in await press(telegram, anna, "Ja, das bin ich", dm(anna))
    core.services.clock.advance(timedelta(minutes=1))
    await matrix.say(anna_elsewhere, "!start", other_dm(anna_elsewhere))  # used last
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
        rows = list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "reminder"))
        )
    # both private chats are open; the one used last (Matrix) wins
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


bernd_elsewhere = UserRef("other", "@bernd:example.org", "Bernd B.", username="@bernd:example.org")
mallory = person("mallory")


async def references(core) -> dict[str, list[int]]:
    """Every value of every column that points at a person, found from the schema itself."""
    from storage.models import Base

    columns = [
        fk.parent
        for table in Base.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == "users"
    ]
    found: dict[str, list[int]] = {}
    async with core.services.sessions() as session:
        for column in columns:
            values = await session.scalars(select(column).where(column.is_not(None)))
            found[f"{column.table.name}.{column.name}"] = sorted(values)
    return found


async def test_bernd_loses_nothing_when_he_links_his_accounts(chats, core) -> None:
    telegram, matrix = chats
    await telegram.say(anna, '/registrieren ag "AG Transfer"')
    await telegram.say(bernd, "/beitreten")
    await telegram.say(anna, "/sitzung 10.06.2021 10:30-12 Uhr Juni-Sitzung")
    await telegram.say(bernd, "/zusage 1 ja")
    await telegram.say(anna, '/terminabfrage "Juli" 15.07. 9-12 Uhr; 17.07. 14 Uhr')
    await telegram.say(bernd, "/abstimmen 1 ja")
    await telegram.say(anna, "/aufgabe @bernd: Bögen senden")
    await telegram.say(anna, "/anwesend @bernd")
    # Bernd's new Matrix account makes the code; his Telegram account, with all of the
    # above, redeems it and so is the one merged away.
    code = code_in(await matrix.text(bernd_elsewhere, "!verknuepfen", other_dm(bernd_elsewhere)))
    before = await references(core)
    await telegram.say(bernd, f"/verknuepfen {code}", dm(bernd))
    waiting = await references(core)
    assert waiting["rsvps.user_id"] == before["rsvps.user_id"]  # nothing moves before the
    assert waiting["identities.user_id"] == before["identities.user_id"]  # confirmation
    confirmed = await press(matrix, bernd_elsewhere, "Ja, das bin ich", other_dm(bernd_elsewhere))
    assert "Verknüpft" in confirmed
    after = await references(core)
    async with core.services.sessions() as session:
        [bernd_id] = set(
            await session.scalars(
                select(Identity.user_id).where(Identity.platform_user_id.in_(["bernd"]))
            )
        )
        people_left = set(await session.scalars(select(User.id)))
    for column, values in before.items():
        if column.startswith("link_") or column == "outbox.user_id":
            continue  # the code, the request and the message asking to confirm
        assert len(after[column]) == len(values), column  # no row lost
        assert set(after[column]) <= people_left, column  # none points at a deleted person
    assert after["rsvps.user_id"] == [bernd_id]
    assert after["poll_votes.user_id"] == [bernd_id]
    assert after["action_item_assignees.user_id"] == [bernd_id]
    assert bernd_id in after["attendance.user_id"]
    # and the group sees it: his answer, his vote, his task, his attendance
    info = await telegram.text(anna, "/sitzunginfo 1")
    assert "Bernd" in info
    assert "Bernd" in await telegram.text(anna, "/anwesenheit 1")
    assert "A-1 Bernd" in await telegram.text(anna, "/aufgaben")
    assert "Bernd" in await telegram.text(bernd, "/meineaufgaben", dm(bernd)) or "A-1" in (
        await telegram.text(bernd, "/meineaufgaben", dm(bernd))
    )


async def test_when_both_accounts_answered_the_latest_answer_counts(chats, core) -> None:
    telegram, matrix = chats
    await telegram.say(anna, '/registrieren ag "AG Transfer"')
    code = code_in(await telegram.text(anna, "/verknuepfen"))
    await matrix.say(dora, f"!verknuepfen {code}", ROOM)
    await telegram.say(bernd, "/beitreten")
    await matrix.say(bernd_elsewhere, "!beitreten", ROOM)
    await telegram.say(anna, "/sitzung 10.06.2021 10:30-12 Uhr Juni-Sitzung")
    await telegram.say(anna, '/terminabfrage "Juli" 15.07. 9-12 Uhr; 17.07. 14 Uhr')
    await telegram.say(bernd, "/zusage 1 ja")
    await telegram.say(bernd, "/abstimmen 1 ja 2 nein")
    core.services.clock.advance(timedelta(minutes=5))
    await matrix.say(bernd_elsewhere, "!zusage 1 nein", ROOM)  # his latest word
    await matrix.say(bernd_elsewhere, "!abstimmen 2 ja", ROOM)
    await telegram.say(anna, "/anwesend @bernd")
    await matrix.say(dora, "!anwesend @bernd:example.org", ROOM)
    await telegram.say(anna, "/aufgabe @bernd: Bögen senden")
    code = code_in(await telegram.text(bernd, "/verknuepfen", dm(bernd)))
    await matrix.say(bernd_elsewhere, f"!verknuepfen {code}", other_dm(bernd_elsewhere))
    assert "Verknüpft" in await press(telegram, bernd, "Ja, das bin ich", dm(bernd))
    from storage.models import Attendance, PollVote, Rsvp

    async with core.services.sessions() as session:
        [bernd_id] = set(
            await session.scalars(
                select(Identity.user_id).where(
                    Identity.platform_user_id.in_(["bernd", bernd_elsewhere.user_id])
                )
            )
        )
        rsvps = list(await session.scalars(select(Rsvp)))
        votes = list(await session.scalars(select(PollVote)))
        present = list(await session.scalars(select(Attendance.user_id)))
        memberships = list(
            await session.scalars(select(Membership).where(Membership.user_id == bernd_id))
        )
    assert [(r.user_id, r.answer) for r in rsvps] == [(bernd_id, "no")]
    assert [v.answer for v in votes] == ["yes"]  # the later ballot, not a mix of both
    assert present.count(bernd_id) == 1
    assert len(memberships) == 1


async def test_nothing_is_linked_until_the_codes_creator_confirms(chats, core) -> None:
    telegram, matrix = chats
    code = code_in(await telegram.text(anna, "/verknuepfen", dm(anna)))
    await matrix.say(anna_elsewhere, "!start", other_dm(anna_elsewhere))
    asked = await matrix.text(anna_elsewhere, f"!verknuepfen {code}", other_dm(anna_elsewhere))
    assert "bestätigen" in asked and "Verknüpft" not in asked
    request = await link_request(core)
    assert "Anna M." in request.text and "Other: @anna:example.org" in request.text
    [row] = await outbox_rows(core, "link_request")
    assert (row.platform, row.chat_id) == ("test", "anna")  # the creator's private chat
    async with core.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 2
    # a third person with the button data is refused, and nothing changes
    assert "Nur die Person" in await press(telegram, mallory, "Ja, das bin ich", dm(mallory))
    # the other account cannot confirm itself either
    assert "Nur die Person" in await press(
        matrix, anna_elsewhere, "Ja, das bin ich", other_dm(anna_elsewhere)
    )
    async with core.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 3
    assert "Verknüpft" in await press(telegram, anna, "Ja, das bin ich", dm(anna))
    async with core.services.sessions() as session:
        assert len(set(await session.scalars(select(Identity.user_id)))) == 2  # + mallory
    assert "beantwortet" in await press(telegram, anna, "Ja, das bin ich", dm(anna))


async def test_the_codes_creator_can_refuse(chats, core) -> None:
    telegram, matrix = chats
    await telegram.say(anna, '/registrieren ag "AG Transfer"')
    code = code_in(await telegram.text(anna, "/verknuepfen", dm(anna)))
    await matrix.say(anna_elsewhere, f"!verknuepfen {code}", other_dm(anna_elsewhere))
    assert "getrennt" in await press(telegram, anna, "Nein, ablehnen", dm(anna))
    assert "beantwortet" in await press(telegram, anna, "Ja, das bin ich", dm(anna))
    async with core.services.sessions() as session:
        assert len(set(await session.scalars(select(Identity.user_id)))) == 2
        # the refused account got nothing of Anna's: not her chair role
        assert await session.scalar(select(func.count()).select_from(Membership)) == 1


async def test_two_accounts_on_one_platform_are_never_linked_by_code(chats, core) -> None:
    telegram, _ = chats
    code = code_in(await telegram.text(anna, "/verknuepfen", dm(anna)))
    refused = await telegram.text(mallory, f"/verknuepfen {code}", dm(mallory))
    assert "gleichen Plattform" in refused
    assert await outbox_rows(core, "link_request") == []
    async with core.services.sessions() as session:
        assert len(set(await session.scalars(select(Identity.user_id)))) == 2


@pytest.fixture
async def admin_core(database_url: str, clock) -> AsyncIterator[Core]:
    """A bot whose settings list Zoe (Telegram) as admin."""
    from bot.core.settings import load_settings

    settings = load_settings(database_url=database_url, _env_file=None, admin_users="test:zoe")
    core = await Core.create(settings, clock)
    yield core
    await core.close()


async def test_an_admin_can_undo_a_link(admin_core) -> None:
    core = admin_core
    telegram = Conversation(core, FakePlatform(name="test"))
    telegram.platform.admins.add((GROUP.chat_id, anna.user_id))
    matrix = Conversation(core, FakePlatform(name="other", command_prefix="!"))
    zoe = person("zoe")
    await telegram.say(anna, '/registrieren ag "AG Transfer"')
    code = code_in(await telegram.text(anna, "/verknuepfen", dm(anna)))
    await matrix.say(anna_elsewhere, f"!verknuepfen {code}", other_dm(anna_elsewhere))
    await press(telegram, anna, "Ja, das bin ich", dm(anna))
    command = "/verknuepfungloesen @anna:example.org"
    assert "nur Admins" in await telegram.text(anna, command, dm(anna))
    assert "privaten Chat" in await telegram.text(zoe, command)  # not before a working group
    undone = await telegram.text(zoe, command, dm(zoe))
    assert "Other: @anna:example.org" in undone
    async with core.services.sessions() as session:
        owners = {i.platform_user_id: i.user_id for i in await session.scalars(select(Identity))}
        # the split account is on its own: none of the group's roles go with it
        members = set(await session.scalars(select(Membership.user_id)))
    assert owners[anna.user_id] != owners[anna_elsewhere.user_id]
    assert owners[anna.user_id] in members and owners[anna_elsewhere.user_id] not in members
    assert "Vorsitz" in await telegram.text(anna, "/mitglieder")
    assert "nicht mit einem anderen" in await telegram.text(zoe, command, dm(zoe))


async def test_a_confirmation_never_merges_more_than_the_account_it_showed(chats, core) -> None:
    """Mallory's Matrix account redeems Anna's and Bernd's codes; Bernd confirms first. Anna's
    request, shown for that one account, must not now merge Bernd's whole person into her."""
    telegram, matrix = chats
    mallory_elsewhere = UserRef("other", "@mallory:example.org", "Mallory", username="@mallory")
    where = other_dm(mallory_elsewhere)
    anna_code = code_in(await telegram.text(anna, "/verknuepfen", dm(anna)))
    bernd_code = code_in(await telegram.text(bernd, "/verknuepfen", dm(bernd)))
    await matrix.say(mallory_elsewhere, f"!verknuepfen {anna_code}", where)
    anna_asked = await link_request(core)
    await matrix.say(mallory_elsewhere, f"!verknuepfen {bernd_code}", where)
    assert "Verknüpft" in await press(telegram, bernd, "Ja, das bin ich", dm(bernd))
    [data] = [b.data for b in anna_asked.buttons[0] if b.label == "Ja, das bin ich"]
    late = await telegram.text(anna, data, dm(anna), callback=data)
    assert "beantwortet oder abgelaufen" in late
    async with core.services.sessions() as session:
        owners = {i.platform_user_id: i.user_id for i in await session.scalars(select(Identity))}
    assert owners["anna"] != owners["bernd"] == owners[mallory_elsewhere.user_id]
