"""A chair because of chat-admin status, in a linked chat where the bot is no admin: nobody
reports the demotion there, so the role must be a derived one, and chair-only private
messages ask the platform first (SQLite and PostgreSQL, through the dialogue harness)."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Core
from bot.core.messages import ChatKind, ChatRef
from bot.core.platform import Standing
from tests.harness import GROUP, Conversation, outbox_rows, person
from tests.linking.test_linking import code_in
from tests.members.test_leaving_groups import person_id

anna, bernd, clara = person("anna"), person("bernd"), person("clara")
LINKED = ChatRef("test", "-300", ChatKind.GROUP, "AG Transfer (Matrix)")


async def bernd_chairs_through_a_linked_chat(chat: Conversation) -> None:
    """Bernd, minute-taker by Anna's grant, links a second chat he is admin of."""
    for who in (bernd, clara):
        await chat.say(who, "/beitreten")
    await chat.say(anna, "/rolle protokoll @bernd")
    code = code_in(await chat.text(anna, "/verknuepfen"))
    chat.platform.admins.add((LINKED.chat_id, bernd.user_id))
    assert "gehört jetzt" in await chat.text(bernd, f"/verknuepfen {code}", LINKED)
    assert "Bernd (@bernd) – Vorsitz" in await chat.text(anna, "/mitglieder")


def demoted_unseen(chat: Conversation, who: object, *chat_ids: str) -> None:
    """No admin any more in these chats, and nobody told the bot; asked, they say so."""
    for chat_id in chat_ids:
        chat.platform.admins.discard((chat_id, who.user_id))  # type: ignore[attr-defined]
        chat.platform.standings[(chat_id, who.user_id)] = Standing.MEMBER  # type: ignore[attr-defined]


async def test_a_chair_from_a_linked_chat_ends_with_the_admin_status_there(
    chat: Conversation,
) -> None:
    await bernd_chairs_through_a_linked_chat(chat)
    demoted_unseen(chat, bernd, LINKED.chat_id)
    await chat.say(bernd, "/hilfe", LINKED)  # the next command there checks again
    assert "Bernd (@bernd) – Mitglied" in await chat.text(anna, "/mitglieder")


async def test_a_demoted_chair_gets_no_objection_notice(chat: Conversation, core: Core) -> None:
    await bernd_chairs_through_a_linked_chat(chat)
    await chat.say(anna, "/sitzung 10.06.2021 10:30-12 Uhr Juni-Sitzung")
    await chat.say(anna, "/beschluss einstimmig Der Leitfaden wird beschlossen.")
    core.services.clock.advance(timedelta(minutes=30))  # drafts wait for the start
    await chat.say(anna, "/protokollentwurf 1")
    demoted_unseen(chat, bernd, GROUP.chat_id, LINKED.chat_id)  # he never writes again
    await chat.say(clara, "/einspruch 1 Die Enthaltung fehlt.")
    told = {row.user_id for row in await outbox_rows(core, "minutes_objection")}
    assert told == {await person_id(core, anna)}
    assert "Bernd (@bernd) – Mitglied" in await chat.text(anna, "/mitglieder")


async def test_a_chair_still_admin_in_one_chat_keeps_the_role(
    chat: Conversation, core: Core
) -> None:
    await bernd_chairs_through_a_linked_chat(chat)
    await chat.say(anna, "/sitzung 10.06.2021 10:30-12 Uhr Juni-Sitzung")
    await chat.say(anna, "/beschluss einstimmig Der Leitfaden wird beschlossen.")
    core.services.clock.advance(timedelta(minutes=30))  # drafts wait for the start
    await chat.say(anna, "/protokollentwurf 1")
    demoted_unseen(chat, bernd, GROUP.chat_id)
    chat.platform.standings[(LINKED.chat_id, bernd.user_id)] = Standing.ADMIN
    await chat.say(clara, "/einspruch 1 Die Enthaltung fehlt.")
    told = {row.user_id for row in await outbox_rows(core, "minutes_objection")}
    assert told == {await person_id(core, anna), await person_id(core, bernd)}
