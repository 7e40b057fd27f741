"""A guest's web answer edits the poll in a Matrix room (real Synapse, m.replace), as the
answers given in the room do: the page is one more way in, not a copy of the poll."""

from __future__ import annotations

from typing import Any

import aiohttp

from bot.feed_server import FeedServer
from tests.matrix_bot import GroupRoom, MatrixBot, Person, notice
from tests.polls.test_polls_matrix_e2e import edit_of, react
from tests.web.answer_links import csrf_of, last_link

POLL = '!terminabfrage "Juni-Sitzung" 15.06.2031 9-12 Uhr; 17.06.2031 14 Uhr'


async def erika_answers_on_the_web(
    matrix_bot: MatrixBot,
    http: aiohttp.ClientSession,
    alice: Person,
    room: str,
    poll_event_id: str,
) -> Any:
    """Erika opens her link, answers date 1 yes and date 2 no; the poll's edit in the room."""
    server = FeedServer(matrix_bot.core.services)
    await server.start("127.0.0.1", 0)
    try:
        url = f"http://127.0.0.1:{server.port}" + await last_link(matrix_bot.core)
        async with http.get(url) as page:
            form = csrf_of(await page.text())
        async with http.post(
            url,
            data={"csrf": form, "option-1": "yes", "option-2": "no"},
            headers={"Sec-Fetch-Site": "same-origin"},
            allow_redirects=False,
        ) as response:
            assert response.status == 303
        [edited] = await alice.wait(
            edit_of(matrix_bot.user_id, room, poll_event_id, "Erika Muster")
        )
    finally:
        await server.stop()
    return edited


async def test_a_web_answer_edits_the_poll_in_the_matrix_room(
    matrix_bot: MatrixBot, matrix_group_room: GroupRoom, http: aiohttp.ClientSession
) -> None:
    alice, bob, room = matrix_group_room
    await alice.say(room, '!registrieren ag "AG Matrix"')
    await alice.wait(notice(matrix_bot.user_id, room, "AG Matrix"))
    await alice.say(room, POLL)
    [poll] = await alice.wait(notice(matrix_bot.user_id, room, "Terminabfrage #1"))
    await react(bob, room, poll.event_id, "1️⃣")
    await alice.wait(edit_of(matrix_bot.user_id, room, poll.event_id, "✅ 1 · ❌ 0"))
    await alice.say(room, "!abfragegast 1 Erika Muster erika@example.org")
    await alice.wait(notice(matrix_bot.user_id, room, "Erika Muster"))

    edited = await erika_answers_on_the_web(matrix_bot, http, alice, room, poll.event_id)
    body = edited.source["content"]["m.new_content"]["body"]
    assert "✅ 2 · ❌ 0" in body and "2 Personen haben geantwortet." in body


async def test_a_web_answer_edits_the_poll_in_the_room_it_was_started_before_any_reaction(
    matrix_bot: MatrixBot, matrix_group_room: GroupRoom, http: aiohttp.ClientSession
) -> None:
    """The bot keeps the poll's event id when it sends it: no reaction needed to teach it."""
    alice, _bob, room = matrix_group_room
    await alice.say(room, '!registrieren ag "AG Matrix"')
    await alice.wait(notice(matrix_bot.user_id, room, "AG Matrix"))
    await alice.say(room, POLL)
    [poll] = await alice.wait(notice(matrix_bot.user_id, room, "Terminabfrage #1"))
    await alice.say(room, "!abfragegast 1 Erika Muster erika@example.org")
    await alice.wait(notice(matrix_bot.user_id, room, "Erika Muster"))

    edited = await erika_answers_on_the_web(matrix_bot, http, alice, room, poll.event_id)
    body = edited.source["content"]["m.new_content"]["body"]
    assert "✅ 1 · ❌ 0" in body and "1 Person hat geantwortet." in body
