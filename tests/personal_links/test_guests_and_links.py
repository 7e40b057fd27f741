"""Guests and personal links in the chat: who may add them, what is refused, revoking, the
German and English commands, and what erasure and account linking do with links."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.personal_links.commands import parse_guest
from storage import linking
from storage import personal_links as link_store
from storage.models import Guest, Identity, PersonalLink, User
from tests.harness import Conversation, dm, outbox_rows, person

anna, bernd = person("anna"), person("bernd")
POLL = '/terminabfrage "Juni-Sitzung" 15.06. 9-12 Uhr; 17.06. 14-16 Uhr'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 Erika Muster erika@example.org", ("3", "Erika Muster", "erika@example.org")),
        ("#3 Erika Muster <erika@example.org>", ("#3", "Erika Muster", "erika@example.org")),
        ("2 „Dr. Erika Muster“, e.m@uni-koeln.de", ("2", "Dr. Erika Muster", "e.m@uni-koeln.de")),
    ],
)
def test_guest_input_is_number_name_address(text: str, expected: tuple[str, str, str]) -> None:
    parsed = parse_guest(text)
    assert parsed is not None and (parsed.number, parsed.name, parsed.address) == expected


@pytest.mark.parametrize("text", ["3 erika@example.org", "3 Erika Muster", "3 Erika x@y", ""])
def test_guest_input_without_name_or_address_is_refused(text: str) -> None:
    assert parse_guest(text) is None


async def test_only_a_chair_adds_guests_and_a_closed_poll_takes_none(chat: Conversation) -> None:
    await chat.say(bernd, "/hilfe")
    await chat.say(anna, POLL)
    await chat.say(bernd, "/abfragegast 1 Erika Muster erika@example.org")  # not a chair
    assert await outbox_rows(chat.core, "personal_link") == []
    example = await chat.text(anna, "/abfragegast 1 erika@example.org")
    assert "/abfragegast 3 Erika Muster erika.muster@example.org" in example
    await chat.say(anna, "/abfrageende 1")
    assert "ist geschlossen" in await chat.text(anna, "/abfragegast 1 Erika M e@example.org")
    assert await outbox_rows(chat.core, "personal_link") == []


async def test_english_commands_and_revoking_by_name(chat: Conversation) -> None:
    await chat.say(anna, "/language en")
    await chat.say(anna, POLL)
    reply = await chat.text(anna, "/pollguest 1 Erika Muster erika@example.org")
    assert "Erika Muster gets a personal link to poll #1 by e-mail" in reply
    assert "Erika Muster" in await chat.text(anna, "/revokelink poll 1")
    assert "Nobody called" in await chat.text(anna, "/revokelink poll 1 Otto")
    assert "no longer work." in await chat.text(anna, "/revokelink poll 1 erika muster")
    assert "Nobody has a personal link to poll #1." in await chat.text(anna, "/revokelink poll 1")
    async with chat.core.services.sessions() as session:
        [link] = list(await session.scalars(select(PersonalLink)))
    assert link.revoked_at is not None
    help_text = await chat.text(anna, "/help pollguest")
    assert "personal link" in help_text


async def test_links_are_stored_hashed_and_every_mails_link_keeps_working(
    chat: Conversation,
) -> None:
    await chat.say(anna, POLL)
    await chat.say(anna, "/abfragegast 1 Erika Muster erika@example.org")
    await chat.say(anna, "/abfragegast 1 Erika Muster erika@example.org")  # sent again
    async with chat.core.services.sessions() as session:
        links = list(await session.scalars(select(PersonalLink).order_by(PersonalLink.id)))
        [guest] = list(await session.scalars(select(Guest)))
    assert len(links) == 2 and all(len(link.token_hash) == 64 and link.outside for link in links)
    mails = await outbox_rows(chat.core, "personal_link")
    assert len(mails) == 2
    first, second = (row.payload["text"] for row in mails)
    token_of = lambda text: text.split("/poll/")[1].split()[0]  # noqa: E731
    assert [link.token_hash for link in links] == [
        link_store.token_hash(token_of(first)),
        link_store.token_hash(token_of(second)),
    ]
    async with chat.core.services.sessions() as session:
        assert await link_store.link_for_token(session, token_of(first)) is not None
        assert await link_store.link_for_token(session, token_of(second)) is not None
    assert all(token_of(text) not in link.token_hash for text in (first, second) for link in links)
    assert guest.name == "Erika Muster"
    listing = await chat.text(anna, "/linksperren abfrage 1")
    assert listing.count("• Erika Muster") == 1  # a person once, however many mails

    # revoking ends all of her links to the poll at once
    await chat.say(anna, "/linksperren abfrage 1 Erika Muster")
    async with chat.core.services.sessions() as session:
        assert await link_store.link_for_token(session, token_of(first)) is None
        assert await link_store.link_for_token(session, token_of(second)) is None
    assert "Niemand" in await chat.text(anna, "/linksperren abfrage 1")


async def test_erasing_a_member_deletes_their_links(chat: Conversation) -> None:
    await chat.say(bernd, "/hilfe")
    await chat.say(bernd, "/start", dm(bernd))
    await chat.say(anna, POLL)
    await chat.say(bernd, "/meinlink")
    await chat.say(bernd, "/meinlink")  # two private messages, two live links
    async with chat.core.services.sessions() as session:
        assert len(list(await session.scalars(select(PersonalLink)))) == 2
    await chat.say(bernd, "/datenloeschen", dm(bernd))
    replies = await chat.say(bernd, "/datenloeschen ja", dm(bernd))
    assert replies
    async with chat.core.services.sessions() as session:
        bernd_left = await session.scalar(select(Identity).where(Identity.username == "bernd"))
        links = list(await session.scalars(select(PersonalLink)))
    assert bernd_left is None and links == []  # erased, and the link with him


async def test_linking_two_accounts_keeps_both_accounts_links(chat: Conversation) -> None:
    await chat.say(anna, POLL)
    now = chat.core.services.clock.now()
    async with chat.core.services.sessions.begin() as session:
        keep, absorb = User(created_at=now), User(created_at=now)
        session.add_all([keep, absorb])
        await session.flush()
        from storage import polls as poll_store

        [poll] = await poll_store.polls_of_group(session, 1, open_only=False)
        older = await link_store.issue(
            session, user_id=keep.id, group_id=1, poll_id=poll.id, now=now
        )
        from datetime import timedelta

        newer = await link_store.issue(
            session, user_id=absorb.id, group_id=1, poll_id=poll.id, now=now + timedelta(1)
        )
        keep_id, poll_id = keep.id, poll.id
        await linking.merge_users(session, keep=keep, absorb=absorb)
        links = list(await session.scalars(select(PersonalLink).order_by(PersonalLink.id)))
        assert [(link.user_id, link.token_hash) for link in links] == [
            (keep_id, link_store.token_hash(older)),
            (keep_id, link_store.token_hash(newer)),
        ]
        assert [link.id for link in await link_store.live_links(session, poll_id=poll_id)] == [
            links[1].id
        ]  # one person now: listed once, with the newest link


async def test_a_chair_erases_a_guest_who_asked_and_their_answers_stay_anonymous(
    chat: Conversation,
) -> None:
    await chat.say(anna, POLL)
    await chat.say(anna, "/abfragegast 1 Erika Muster erika@example.org")
    async with chat.core.services.sessions.begin() as session:
        [guest] = list(await session.scalars(select(Guest)))
        from storage import polls as poll_store

        [poll] = await poll_store.polls_of_group(session, 1, open_only=False)
        await poll_store.set_answers(
            session, poll, guest.user_id, {1: "yes"}, chat.core.services.clock.now()
        )
    assert "✅ Erika Muster" in await chat.text(anna, "/abfragen 1")
    assert "keinen Gast" in await chat.text(anna, "/gastloeschen Otto")
    reply = await chat.text(anna, "/gastloeschen erika muster")
    assert "gelöscht" in reply
    overview = await chat.text(anna, "/abfragen 1")
    assert "Erika" not in overview and "✅ 1" in overview  # still counted, without the name
    async with chat.core.services.sessions() as session:
        assert list(await session.scalars(select(Guest))) == []
        assert list(await session.scalars(select(PersonalLink))) == []
    mails = await outbox_rows(chat.core, "personal_link")
    assert all("Erika" not in str(row.payload) for row in mails)


def test_the_form_becomes_a_ballot_and_unreadable_fields_are_left_out() -> None:
    from handlers.personal_links.pages import ballot_from_form

    date_form = {
        "option-1": ["yes"],
        "option-2": ["maybe"],
        "option-3": ["bogus"],
        "option-x": ["yes"],
        "csrf": ["abc"],
    }
    assert ballot_from_form("date", date_form) == {1: "yes", 2: "maybe"}
    assert ballot_from_form("multiple", {"choice": ["1", "3", "x"]}) == {1: "yes", 3: "yes"}
    assert ballot_from_form("single", {}) == {}


async def test_my_data_lists_my_personal_links_without_their_tokens(chat: Conversation) -> None:
    import json

    await chat.say(bernd, "/hilfe")
    await chat.say(bernd, "/start", dm(bernd))
    await chat.say(anna, POLL)
    await chat.say(bernd, "/meinlink")
    [export] = await chat.say(bernd, "/meinedaten", dm(bernd))
    assert export.document is not None
    data = json.loads(export.document.content)
    [link] = data["personal_links"]
    assert link["poll_id"] is not None and link["revoked_at"] is None
    async with chat.core.services.sessions() as session:
        stored = await session.scalar(select(PersonalLink))
    assert stored.token_hash not in json.dumps(data["personal_links"])

    # a second link (one per message), then the chair revokes his links: both are listed
    await chat.say(bernd, "/meinlink")
    assert "funktionieren nicht mehr" in await chat.text(anna, "/linksperren abfrage 1 Bernd")
    [export] = await chat.say(bernd, "/meinedaten", dm(bernd))
    links = json.loads(export.document.content)["personal_links"]
    assert len(links) == 2 and all(link["revoked_at"] is not None for link in links)
    async with chat.core.services.sessions() as session:
        hashes = list(await session.scalars(select(PersonalLink.token_hash)))
    assert not any(h in export.document.content.decode() for h in hashes)
