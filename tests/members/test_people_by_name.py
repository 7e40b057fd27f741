"""Every command that takes people finds them the same way: @username, a full Matrix ID, or a
display name typed as it is shown, several words included (Matrix users rarely know their
ID; Telegram users may have no username)."""

from __future__ import annotations

from bot.core.messages import UserRef
from tests.harness import Conversation, person

anna, bernd = person("anna"), person("bernd")
clara = UserRef("test", "clara", "Clara Conrad", username=None, language_code="de")


async def test_a_role_is_given_by_a_display_name_of_several_words(chat: Conversation) -> None:
    await chat.say(clara, "/beitreten")
    answer = await chat.text(anna, "/rolle protokoll Clara Conrad")
    assert "Clara Conrad hat in „AG Transfer“ jetzt die Rolle Protokoll" in answer
    assert "Clara Conrad – Protokoll" in await chat.text(anna, "/mitglieder")


async def test_an_unknown_name_is_refused_for_a_role(chat: Conversation) -> None:
    answer = await chat.text(anna, "/rolle protokoll Doris Dorn")
    assert "Doris Dorn" in answer and "kenne" in answer
    assert "Protokoll" not in await chat.text(anna, "/mitglieder")


async def test_absent_takes_a_member_off_by_her_display_name(chat: Conversation) -> None:
    await chat.say(clara, "/beitreten")
    await chat.say(bernd, "/beitreten")
    await chat.say(anna, '/sitzung 10.06.2021 10:30-12 Uhr "AG-Sitzung"')
    recorded = await chat.text(anna, "/anwesend Clara Conrad @bernd")
    assert "Anwesend: 2 Teilnehmende" in recorded, recorded
    removed = await chat.text(anna, "/abwesend Clara Conrad")
    assert "genommen: Clara Conrad" in removed and "Anwesend: 1 Teilnehmende" in removed
    assert "Clara Conrad" not in await chat.text(anna, "/anwesenheit")
