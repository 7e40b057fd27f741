"""Roles follow the platform: a chair because of chat-admin status is one only while the
platform says so; roles a chair granted stay; bots hold no roles."""

from __future__ import annotations

from bot.core.messages import UserRef
from tests.harness import GROUP, person, registered_ag_transfer

anna, bernd, clara = person("anna"), person("bernd"), person("clara")
the_bot = UserRef("test", "999", "AG Bot", username="ag_test_bot", is_bot=True)
other_bot = UserRef("test", "998", "Umfrage-Bot", username="umfrage_bot", is_bot=True)


async def test_a_demoted_chat_admin_is_a_member_again(core) -> None:
    chat = await registered_ag_transfer(core)
    await chat.say(bernd, "/beitreten")
    await chat.say(clara, "/beitreten")
    chat.platform.admins.add((GROUP.chat_id, clara.user_id))
    assert "jetzt die Rolle Protokoll" in await chat.text(clara, "/rolle protokoll @bernd")
    chat.platform.admins.discard((GROUP.chat_id, clara.user_id))
    refused = await chat.text(clara, "/rolle mitglied @bernd")
    assert "nur Vorsitzende" in refused
    assert "Clara (@clara) – Mitglied" in await chat.text(anna, "/mitglieder")
    chat.platform.admins.add((GROUP.chat_id, clara.user_id))  # admin again: chair again
    assert "jetzt die Rolle Mitglied" in await chat.text(clara, "/rolle mitglied @bernd")


async def test_the_registering_admin_loses_the_chair_with_the_admin_rights(core) -> None:
    chat = await registered_ag_transfer(core)
    await chat.say(bernd, "/beitreten")
    await chat.say(anna, "/rolle vorsitz @bernd")  # a granted chair
    chat.platform.admins.discard((GROUP.chat_id, anna.user_id))
    assert "nur Vorsitzende" in await chat.text(anna, "/rolle protokoll @bernd")
    members = await chat.text(bernd, "/mitglieder")
    assert "Anna (@anna) – Mitglied" in members and "Bernd (@bernd) – Vorsitz" in members


async def test_a_granted_role_is_untouched_by_admin_status(core) -> None:
    chat = await registered_ag_transfer(core)
    await chat.say(bernd, "/beitreten")
    await chat.say(anna, "/rolle vorsitz @bernd")
    await chat.say(clara, "/beitreten")
    assert "jetzt die Rolle Protokoll" in await chat.text(bernd, "/rolle protokoll @clara")


async def test_bots_hold_no_roles_and_are_no_members(core) -> None:
    chat = await registered_ag_transfer(core)
    for bot in (the_bot, other_bot):
        refused = await chat.text(anna, "/rolle vorsitz", reply_to=bot)
        assert "Bots können keine Rolle" in refused
    members = await chat.text(anna, "/mitglieder")
    assert "AG Bot" not in members and "Umfrage-Bot" not in members
    assert "hat 1 Mitglied" in members
