"""A HEAD to a personal link (link checkers and some mail scanners send one) is answered like
the GET without a body, and like the GET it answers nothing for the person."""

from __future__ import annotations

import aiohttp
from sqlalchemy import select

from bot.feed_server import FeedServer
from storage.models import PollVote, Rsvp
from tests.harness import Conversation, person
from tests.web.answer_links import last_link

anna = person("anna")
POLL = '/terminabfrage "Juni-Sitzung" 15.06. 9-12 Uhr; 17.06. 14-16 Uhr bis 14.06.'


async def test_head_on_a_link_is_the_get_without_a_body(
    chat: Conversation, core, web_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    await chat.say(anna, POLL)
    await chat.say(anna, "/abfragegast 1 Erika Muster erika@example.org")
    await chat.say(anna, '/sitzung 24.06. 10 Uhr "Juli-Sitzung"')
    await chat.say(anna, "/sitzungsgast 1 Erika Muster erika@example.org")
    base = f"http://127.0.0.1:{web_server.port}"
    answer = await last_link(core, "rsvp")  # …/no: the confirming page
    paths = [await last_link(core), answer.rsplit("/", 1)[0], answer]
    for path in paths:
        async with http.get(base + path) as got:
            assert got.status == 200, path
            shown = dict(got.headers)
        async with http.head(base + path) as head:
            assert head.status == 200, path
            assert await head.read() == b""
            for name in ("Content-Type", "Content-Security-Policy", "Cache-Control"):
                assert head.headers[name] == shown[name], (path, name)
            assert head.headers["Referrer-Policy"] == "no-referrer"
    for path in ("/poll/" + "A" * 43, "/rsvp/" + "A" * 43 + "/yes"):
        async with http.head(base + path) as head:
            assert head.status == 404, path
    async with core.services.sessions() as session:
        assert list(await session.scalars(select(PollVote))) == []
        assert list(await session.scalars(select(Rsvp))) == []
