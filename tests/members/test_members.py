"""Roles: who chairs, who takes minutes, who may grant them (handlers/members)."""

from __future__ import annotations

import pytest

from tests.harness import GROUP, OTHER_GROUP, Conversation, person, registered

pytestmark = pytest.mark.unregistered  # the tests register AG Transfer themselves, in English

anna, bernd, clara = person("anna"), person("bernd"), person("clara", language="en")


async def test_roles_are_granted_by_chairs_only(chat: Conversation) -> None:
    await registered(chat)
    await chat.say(bernd, "/join")
    denied = await chat.text(bernd, "/role chair @bernd")
    assert "Only chairs may do that" in denied
    granted = await chat.text(anna, "/role minute-taker @bernd")
    assert "Bernd (@bernd) is now minute-taker" in granted
    by_reply = await chat.text(anna, "/role chair", reply_to=bernd)
    assert "is now chair" in by_reply
    members = await chat.text(anna, "/members")
    assert "Bernd (@bernd) – chair" in members


async def test_last_chair_cannot_step_down(chat: Conversation) -> None:
    await registered(chat)
    reply = await chat.text(anna, "/role member @anna")
    assert "only chair" in reply


async def test_chat_admin_becomes_chair_on_demand(chat: Conversation) -> None:
    await registered(chat)
    await chat.say(clara, "/join")
    chat.platform.admins.add((GROUP.chat_id, clara.user_id))
    assert "is now minute-taker" in await chat.text(clara, "/role minute-taker @anna")


async def test_explicit_role_beats_chat_admin_default(chat: Conversation) -> None:
    await registered(chat)
    chat.platform.admins.add((GROUP.chat_id, bernd.user_id))
    await chat.say(anna, "/role chair @bernd")
    await chat.say(bernd, "/role member @bernd")  # bernd steps down explicitly
    assert "Only chairs" in await chat.text(bernd, "/role chair @bernd")


async def test_unknown_person_and_missing_target(chat: Conversation) -> None:
    await registered(chat)
    assert "don't know @zoe" in await chat.text(anna, "/role member @zoe")
    assert "Whom do you mean" in await chat.text(anna, "/role member")


async def test_a_chair_cannot_pull_in_members_of_another_group(chat: Conversation) -> None:
    await registered(chat)
    chat.platform.admins.add((OTHER_GROUP.chat_id, clara.user_id))
    await chat.say(clara, '/register ag "AG Qualität"', OTHER_GROUP)
    await chat.say(bernd, "/join", OTHER_GROUP)  # bernd is known, but only in the other group
    reply = await chat.text(anna, "/role member @bernd")
    assert "don't know @bernd" in reply
    assert "Bernd" not in await chat.text(anna, "/members")
