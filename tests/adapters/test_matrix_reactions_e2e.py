"""Reactions as buttons on Matrix, against a real Synapse: a date poll's keycap is the date's
own number, the bot reacts with each keycap once however often the poll is edited, and a
member who removes their reaction takes that answer back."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from storage.models import PollOption, PollVote
from tests.matrix_bot import GroupRoom, MatrixBot, notice

POLL = '!terminabfrage "Juni-Sitzung" 15.06.2027 9-12 Uhr; 17.06.2027 14-16 Uhr notfalls'


def reactions(seen: list[object], sender: str, on: str) -> list[str]:
    """The keys of the reactions `sender` made on event `on`, as a client saw them."""
    keys = []
    for event in seen:
        source = getattr(event, "source", {})
        relates = source.get("content", {}).get("m.relates_to", {})
        if (
            source.get("type") == "m.reaction"
            and source.get("sender") == sender
            and relates.get("event_id") == on
        ):
            keys.append(relates.get("key"))
    return keys


async def answers(bot: MatrixBot) -> list[tuple[int, str]]:
    async with bot.core.services.sessions() as session:
        rows = await session.execute(
            select(PollOption.position, PollVote.answer).join(
                PollVote, PollVote.option_id == PollOption.id
            )
        )
        return sorted((position, answer) for position, answer in rows)


async def test_keycaps_are_the_dates_numbers_sent_once_and_taken_back(
    matrix_bot: MatrixBot, matrix_group_room: GroupRoom, caplog: pytest.LogCaptureFixture
) -> None:
    alice, bob, room = matrix_group_room
    bot = matrix_bot.user_id
    await alice.say(room, '!registrieren ag "AG Knöpfe"')
    await alice.wait(notice(bot, room, "AG Knöpfe"))
    await bob.say(room, "!beitreten")
    await alice.wait(notice(bot, room, "Mitglied"))
    await alice.say(room, POLL)
    [poll] = await bob.wait(notice(bot, room, "Juni-Sitzung"))
    # 1️⃣ is date 1 and 2️⃣ is date 2: no key table to read
    assert "1️⃣ ✅" in poll.body and "2️⃣ ✅" in poll.body, poll.body
    assert "3️⃣" not in poll.body, poll.body
    await bob.wait(lambda e: len(reactions(bob.seen, bot, poll.event_id)) >= 2)

    async def tap(key: str) -> str:
        response = await bob.client.room_send(
            room,
            "m.reaction",
            {"m.relates_to": {"rel_type": "m.annotation", "event_id": poll.event_id, "key": key}},
        )
        return response.event_id  # type: ignore[union-attr]

    await tap("2️⃣")
    await bob.wait(lambda e: "m.new_content" in getattr(e, "source", {}).get("content", {}))
    first_tap = await tap("1️⃣")
    await bob.wait(
        lambda e: "m.new_content" in getattr(e, "source", {}).get("content", {}), count=2
    )
    await asyncio.sleep(1)
    await bob.sync()
    assert sorted(reactions(bob.seen, bot, poll.event_id)) == ["1️⃣", "2️⃣"]  # once each
    assert "M_DUPLICATE_ANNOTATION" not in caplog.text
    assert await answers(matrix_bot) == [(1, "yes"), (2, "yes")]

    # bob removes his 1️⃣: his "yes" to date 1 is taken back
    await bob.client.room_redact(room, first_tap)
    await bob.wait(
        lambda e: "m.new_content" in getattr(e, "source", {}).get("content", {}), count=3
    )
    assert await answers(matrix_bot) == [(1, "no"), (2, "yes")]


async def test_a_changed_survey_answer_marks_the_old_reaction_out_of_date(
    matrix_bot: MatrixBot, matrix_group_room: GroupRoom
) -> None:
    """Single choice: tapping 3️⃣ after 1️⃣ makes the answer 3; the bot, no moderator here,
    cannot remove bob's 1️⃣, so it says that reaction is out of date. Removing that stale
    reaction afterwards changes nothing."""
    alice, bob, room = matrix_group_room
    bot = matrix_bot.user_id
    await alice.say(room, '!registrieren ag "AG Umfrage"')
    await alice.wait(notice(bot, room, "AG Umfrage"))
    await bob.say(room, "!beitreten")
    await alice.wait(notice(bot, room, "Mitglied"))
    await alice.say(room, '!umfrage "Wo tagen wir?" Köln; Berlin; online')
    [survey] = await bob.wait(notice(bot, room, "Wo tagen wir?"))
    assert "1️⃣ Köln" in survey.body and "3️⃣ online" in survey.body, survey.body

    async def tap(key: str) -> str:
        response = await bob.client.room_send(
            room,
            "m.reaction",
            {"m.relates_to": {"rel_type": "m.annotation", "event_id": survey.event_id, "key": key}},
        )
        return response.event_id  # type: ignore[union-attr]

    first = await tap("1️⃣")
    await bob.wait(lambda e: "m.new_content" in getattr(e, "source", {}).get("content", {}))
    await tap("3️⃣")
    [stale] = await bob.wait(notice(bot, room, "ist veraltet"))
    assert "1️⃣" in stale.body
    assert await answers(matrix_bot) == [(3, "yes")]
    await bob.client.room_redact(room, first)  # removing the stale one withdraws nothing
    await asyncio.sleep(1.5)
    assert await answers(matrix_bot) == [(3, "yes")]
