"""Help and /date, the commands every chat has (handlers/general)."""

from __future__ import annotations

import pytest

from tests.harness import Conversation, person, registered

pytestmark = pytest.mark.unregistered  # the tests register AG Transfer themselves, in English

anna = person("anna")


async def test_impossible_date_is_explained(chat: Conversation) -> None:
    await registered(chat)
    reply = await chat.text(anna, "/date 31.02.2021")
    assert "not a date in the calendar" in reply and "15.06.2021" in reply
    good = await chat.text(anna, "/date Di 15.6.2021 14:00")
    assert "15.06.2021" in good or "2021-06-15" in good


async def test_help_for_one_command(chat: Conversation) -> None:
    await registered(chat)
    text = await chat.text(anna, "/help role")
    assert "Usage: /role <chair|minute-taker|member> [@person]" in text
    assert "Who may: chairs" in text
    assert "don't know the command" in await chat.text(anna, "/help nothing")
