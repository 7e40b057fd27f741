"""Participants add up: members by @name, people not in the chat by name and organisation,
guests and head counts give one number in the chat and in the minutes."""

from __future__ import annotations

import pytest

from tests.harness import Conversation, person

anna, bernd, clara = person("anna"), person("bernd"), person("clara")
NAMED = [(f"Person {n}", f"Organisation {n}") for n in range(1, 18)]  # 17 not in the chat


@pytest.fixture
async def chat(chat: Conversation) -> Conversation:
    """Meeting #1 today at 10:30 (the clock stands at 10:00); Bernd takes the minutes."""
    await chat.say(bernd, "/beitreten")
    await chat.say(anna, "/rolle protokoll @bernd")
    await chat.say(anna, '/sitzung 10.06.2021 10:30-12 Uhr "AG-Sitzung"')
    return chat


async def test_nineteen_named_participants_are_nineteen_in_chat_and_minutes(
    chat: Conversation,
) -> None:
    await chat.say(bernd, "/anwesend @anna @bernd")
    pasted = "\n".join(f"{name}, {organisation}" for name, organisation in NAMED)
    recorded = await chat.text(bernd, f"/anwesend\n{pasted}")
    assert "Anwesend: 19 Teilnehmende" in recorded
    assert "• Person 3, Organisation 3" in recorded
    more = await chat.text(bernd, "/anwesend Dr. Weber, IHK Köln; Lena Roth, HWK")
    assert "Anwesend: 21 Teilnehmende" in more
    await chat.say(bernd, "/anwesend Gäste: Herr Gast (Stiftung)")
    assert "Anwesend: 22 Teilnehmende" in await chat.text(bernd, "/anwesenheit")
    minutes = await chat.text(bernd, "/protokoll 1")
    assert "**Teilnehmende (22):** Anna; Bernd; Person 1, Organisation 1; " in minutes
    assert "Dr. Weber, IHK Köln; Lena Roth, HWK" in minutes
    assert "**Gäste:** Herr Gast (Stiftung)" in minutes
    removed = await chat.text(bernd, "/abwesend Dr. Weber, IHK Köln")
    assert "genommen: Dr. Weber" in removed and "Anwesend: 21 Teilnehmende" in removed


async def test_a_username_without_its_at_sign_is_asked_back(chat: Conversation) -> None:
    answer = await chat.text(bernd, "/anwesend zoe")
    assert "nicht verstanden" in answer and "IHK Köln; Lena Roth, HWK" in answer
    assert "noch keine Anwesenheit" in await chat.text(bernd, "/anwesenheit")
    # a single word that is a member's display name is that member (Matrix users type it)
    assert "Als anwesend eingetragen: Anna" in await chat.text(bernd, "/anwesend anna")


async def test_a_head_count_says_its_number_once(chat: Conversation) -> None:
    await chat.say(bernd, "/anwesend 58 Teilnehmende")
    minutes = await chat.text(bernd, "/protokoll 1")
    assert "**Teilnehmende:** 58" in minutes
    assert "58 Teilnehmende" not in minutes
    await chat.say(bernd, "/anwesend Dr. Weber, IHK Köln")
    minutes = await chat.text(bernd, "/protokoll 1")
    assert "**Teilnehmende (58):** Dr. Weber, IHK Köln" in minutes
