"""Registering a working group, its settings and the user's own (handlers/groups)."""

from __future__ import annotations

import pytest

from tests.harness import OTHER_GROUP, Conversation, dm, person, registered

pytestmark = pytest.mark.unregistered  # the tests register AG Transfer themselves, in English

anna, bernd, clara = person("anna"), person("bernd"), person("clara", language="en")


async def test_register_needs_chat_admin_and_makes_chair(chat: Conversation) -> None:
    refused = await chat.text(bernd, '/register ag "AG Transfer"')
    assert "admin" in refused.lower() or "Admin" in refused
    await registered(chat)
    settings = await chat.text(bernd, "/settings")
    assert "AG Transfer" in settings and "Europe/Berlin" in settings
    members = await chat.text(anna, "/members")
    assert "Anna (@anna) – chair" in members
    assert "Bernd (@bernd) – member" in members
    again = await chat.text(anna, "/register fachgruppe Other")
    assert "already registered" in again


async def test_register_with_german_command_and_quotes(chat: Conversation) -> None:
    await chat.say(anna, "/registrieren fachgruppe „Fachgruppe Handwerk“")
    await chat.say(anna, "/sprache en")
    assert "Fachgruppe Handwerk" in await chat.text(anna, "/einstellungen")
    assert "expert group" in await chat.text(anna, "/settings")


async def test_language_follows_group_and_user_settings(chat: Conversation) -> None:
    await chat.say(anna, '/register ag "AG Transfer"')
    german = await chat.text(bernd, "/help")
    english_dm = await chat.text(clara, "/help", dm(clara))  # Telegram app language en
    assert "/hilfe" in german and "/help" in english_dm
    await chat.say(clara, "/language de", dm(clara))
    assert "/hilfe" in await chat.text(clara, "/help", dm(clara))
    await chat.say(anna, "/language en")
    assert "/help –" in await chat.text(bernd, "/hilfe")


async def test_user_settings_in_dm(chat: Conversation) -> None:
    await chat.say(clara, "/start", dm(clara))
    assert "London" in await chat.text(clara, "/timezone london", dm(clara))
    assert "don't know the time zone" in await chat.text(clara, "/timezone Mars/Base", dm(clara))
    assert "Europe/London" in await chat.text(clara, "/settings", dm(clara))


async def test_group_settings_need_chair(chat: Conversation) -> None:
    await registered(chat)
    assert "Only chairs" in await chat.text(bernd, "/timezone Europe/Vienna")
    assert "Europe/Vienna" in await chat.text(anna, "/timezone europe/vienna")


async def test_groups_are_isolated(chat: Conversation) -> None:
    await registered(chat)
    chat.platform.admins.add((OTHER_GROUP.chat_id, clara.user_id))
    await chat.say(clara, '/register ag "AG Qualität"', OTHER_GROUP)
    other = await chat.text(clara, "/members", OTHER_GROUP)
    assert "Anna" not in other and "Clara" in other
    # a chair of one group has no power in the other (which speaks German)
    assert "nur Vorsitzende" in await chat.text(anna, "/role chair @anna", OTHER_GROUP)
