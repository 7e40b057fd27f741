"""/einladung sends no calendar file for a meeting that has taken place (e.g. one recorded
afterwards): nobody needs a calendar entry for it, and the refusal says why."""

from __future__ import annotations

from tests.harness import Conversation, dm, outbox_rows, person

anna, bernd = person("anna"), person("bernd")


async def test_no_invitation_for_a_meeting_recorded_afterwards(chat: Conversation, core) -> None:
    for who in (anna, bernd):
        await chat.say(who, "/start", dm(who))
    await chat.say(bernd, "/beitreten")
    recorded = await chat.text(anna, "/sitzung 11.02.2021 9-12 Uhr AG-Sitzung Februar")
    assert "nachträglich" in recorded.lower()
    for who, command in ((bernd, "/einladung 1"), (anna, "/einladung #1 alle")):
        refused = await chat.text(who, command)
        assert "#1 hat bereits stattgefunden" in refused, refused
        assert "Kalendereintrag" in refused
    assert await outbox_rows(core, "meeting_invitation") == []


async def test_an_upcoming_meeting_is_still_sent_again(chat: Conversation, core) -> None:
    await chat.say(bernd, "/start", dm(bernd))
    await chat.say(bernd, "/beitreten")
    await chat.say(anna, "/sitzung 08.07.2021 9-10 Uhr Juli-Sitzung")
    before = len(await outbox_rows(core, "meeting_invitation"))
    assert "privat" in await chat.text(bernd, "/einladung 1")
    assert len(await outbox_rows(core, "meeting_invitation")) == before + 1
