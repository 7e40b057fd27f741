"""Roles follow the platform: a chair because of chat-admin status is one only while the
platform says so; roles a chair granted stay; bots hold no roles."""

from __future__ import annotations

from bot.core.messages import UserRef
from tests.harness import person, registered_ag_transfer

anna, bernd, clara = person("anna"), person("bernd"), person("clara")
the_bot = UserRef("test", "999", "AG Bot", username="ag_test_bot", is_bot=True)
other_bot = UserRef("test", "998", "Umfrage-Bot", username="umfrage_bot", is_bot=True)


async def test_bots_hold_no_roles_and_are_no_members(core) -> None:
    chat = await registered_ag_transfer(core)
    for bot in (the_bot, other_bot):
        refused = await chat.text(anna, "/rolle vorsitz", reply_to=bot)
        assert "Bots können keine Rolle" in refused
    members = await chat.text(anna, "/mitglieder")
    assert "AG Bot" not in members and "Umfrage-Bot" not in members
    assert "hat 1 Mitglied" in members
