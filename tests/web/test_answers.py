"""Answering without the chat, over real HTTP: a guest's poll page and a meeting's answer
links (bot/web/answers.py), and what an attacker gets: the same bare 404 for any token that
does not work, 403 for a post without the page's form token or from another site, and no
answer stored by any GET."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import select, update

from bot.core.clock import FixedClock
from bot.feed_server import FeedServer
from storage.models import Membership, PersonalLink, PollVote, Rsvp
from tests.harness import Conversation, dm, outbox_rows, person
from tests.web.answer_links import csrf_of, last_link, sent_links

anna, bernd = person("anna"), person("bernd")
# the clock stands at Thu 10.06.2021 10:00 Berlin
POLL = '/terminabfrage "Juni-Sitzung" 15.06. 9-12 Uhr; 17.06. 14-16 Uhr notfalls bis 14.06.'
ERIKA = "1 Erika Muster erika.muster@example.org"
SAME_SITE = {"Sec-Fetch-Site": "same-origin"}


@pytest.fixture
async def chat(chat: Conversation) -> Conversation:
    await chat.say(bernd, "/hilfe")
    await chat.say(bernd, "/start", dm(bernd))
    return chat


def base(server: FeedServer) -> str:
    return f"http://127.0.0.1:{server.port}"


async def votes(core) -> list[tuple[int, str]]:
    async with core.services.sessions() as session:
        rows = await session.scalars(select(PollVote).order_by(PollVote.id))
        return [(row.user_id, row.answer) for row in rows]


async def post_form(
    http: aiohttp.ClientSession, url: str, data: dict[str, str], headers: dict[str, str]
) -> aiohttp.ClientResponse:
    async with http.post(url, data=data, headers=headers, allow_redirects=False) as response:
        await response.read()
        return response


async def test_a_guest_answers_the_poll_on_the_page_and_the_chat_shows_it(
    chat: Conversation, core, web_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    await chat.say(anna, POLL)
    reply = await chat.text(anna, "/abfragegast " + ERIKA)
    assert "Erika Muster" in reply and "erika.muster@example.org" not in reply
    [mail] = await outbox_rows(core, "personal_link")
    assert mail.platform == "email" and mail.chat_id == "erika.muster@example.org"
    path = await last_link(core)
    assert len(path.removeprefix("/poll/")) >= 43  # 32 random bytes, URL-safe base64

    await chat.say(bernd, "/abstimmen 2 ja")  # a chat answer shows on the page
    async with http.get(base(web_server) + path) as page:
        body = await page.text()
        assert page.status == 200
    assert "Terminabfrage #1: Juni-Sitzung" in body and "Erika Muster" in body
    assert "Bernd" in body  # not anonymous: names as in the chat
    assert "erika.muster@example.org" not in body
    assert await votes(core) == [(await _user_id(core, "bernd"), "yes")]  # GET stored nothing

    answered = await post_form(
        http,
        base(web_server) + path,
        {"csrf": csrf_of(body), "option-1": "yes", "option-2": "maybe"},
        SAME_SITE,
    )
    assert answered.status == 303 and answered.headers["Location"].endswith("saved=1")
    overview = await chat.text(bernd, "/abfragen 1")
    assert "✅ Erika Muster" in overview and "🟡 Erika Muster" in overview
    assert "2 Personen haben geantwortet." in overview

    # changing the answer on the page replaces it: one ballot per person
    async with http.get(base(web_server) + path) as page:
        body = await page.text()
    assert 'value="maybe" checked' in body
    await post_form(
        http, base(web_server) + path, {"csrf": csrf_of(body), "option-1": "no"}, SAME_SITE
    )
    overview = await chat.text(bernd, "/abfragen 1")
    assert "❌ Erika Muster" in overview and "🟡 Erika Muster" not in overview


async def _user_id(core, username: str) -> int:
    from storage.models import Identity

    async with core.services.sessions() as session:
        return await session.scalar(select(Identity.user_id).where(Identity.username == username))


async def test_forged_revoked_and_misused_tokens_get_the_same_bare_404(
    chat: Conversation, core, web_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    await chat.say(anna, POLL)
    await chat.say(anna, '/sitzung 24.06. 10 Uhr "Juli-Sitzung"')
    await chat.say(anna, "/abfragegast " + ERIKA)
    poll_path = await last_link(core)
    token = poll_path.removeprefix("/poll/")
    await chat.say(anna, "/abfragegast 1 Otto Normal otto@example.org")
    revoked = await last_link(core)
    assert "keinen" not in await chat.text(anna, "/linksperren abfrage 1 Otto Normal")
    listing = await chat.text(anna, "/linksperren abfrage 1")
    assert "Erika Muster" in listing and "Otto Normal" not in listing
    assert "@" not in listing  # names only, never addresses

    async with http.get(base(web_server) + "/nothing-here") as response:
        bare = (response.status, await response.text())
    assert bare[0] == 404
    wrong = [
        "/poll/" + "A" * 43,  # forged
        revoked,  # revoked by the chair
        "/rsvp/" + token,  # a poll's link on the meeting page
        "/rsvp/" + token + "/yes",
        "/poll/" + token[:-1],  # one character short
        "/poll/" + token + "x",
    ]
    for path in wrong:
        async with http.get(base(web_server) + path) as response:
            assert (response.status, await response.text()) == bare, path
    async with http.get(base(web_server) + poll_path) as page:
        body = await page.text()
    # a post to a token that does not work: 404 before anything else, with a valid form token
    response = await post_form(
        http, base(web_server) + revoked, {"csrf": csrf_of(body), "option-1": "yes"}, SAME_SITE
    )
    assert response.status == 404
    assert await votes(core) == []


async def test_a_post_without_the_pages_form_token_or_from_another_site_is_refused(
    chat: Conversation, core, web_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    await chat.say(anna, POLL)
    await chat.say(anna, "/abfragegast " + ERIKA)
    erika = await last_link(core)
    await chat.say(anna, "/abfragegast 1 Otto Normal otto@example.org")
    otto = await last_link(core)
    async with http.get(base(web_server) + otto) as page:
        ottos_token = csrf_of(await page.text())
    async with http.get(base(web_server) + erika) as page:
        erikas_token = csrf_of(await page.text())
    url = base(web_server) + erika
    refused = [
        ({"option-1": "yes"}, SAME_SITE),
        ({"option-1": "yes", "csrf": "0" * 64}, SAME_SITE),
        ({"option-1": "yes", "csrf": ottos_token}, SAME_SITE),  # another link's form
        ({"option-1": "yes", "csrf": erikas_token}, {"Sec-Fetch-Site": "cross-site"}),
        ({"option-1": "yes", "csrf": erikas_token}, {"Origin": "https://evil.example"}),
    ]
    for data, headers in refused:
        response = await post_form(http, url, data, headers)
        assert response.status == 403, (data, headers)
    assert await votes(core) == []


async def test_a_closed_poll_and_a_passed_deadline_take_no_answer(
    chat: Conversation, core, clock: FixedClock, web_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    await chat.say(anna, POLL)
    await chat.say(anna, '/umfrage "Welche Themen?" Digitalisierung; Nachfolge bis 12.06.')
    await chat.say(anna, "/abfragegast " + ERIKA)
    date_poll = await last_link(core)
    await chat.say(anna, "/abfragegast 2 Erika Muster erika.muster@example.org")
    survey = await last_link(core)
    async with http.get(base(web_server) + date_poll) as page:
        form = csrf_of(await page.text())
    async with http.get(base(web_server) + survey) as page:
        survey_form = csrf_of(await page.text())

    await chat.say(anna, "/abfrageende 1")
    async with http.get(base(web_server) + date_poll) as page:
        body = await page.text()
    assert "Abfrage #1 ist geschlossen." in body and 'name="option-1"' not in body
    response = await post_form(
        http, base(web_server) + date_poll, {"csrf": form, "option-1": "yes"}, SAME_SITE
    )
    assert response.status == 409

    clock.advance(timedelta(days=3))  # past the survey's deadline, before the sweep closes it
    response = await post_form(
        http, base(web_server) + survey, {"csrf": survey_form, "choice": "1"}, SAME_SITE
    )
    assert response.status == 409
    assert "Die Frist der Abfrage #2 ist abgelaufen." in await chat.text(bernd, "/abstimmen #2 1")
    assert await votes(core) == []


async def test_a_single_choice_survey_takes_one_choice_on_the_page_as_in_the_chat(
    chat: Conversation, core, web_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    await chat.say(anna, '/umfrage "Welche Themen?" Digitalisierung; Nachfolge; Fachkräfte')
    await chat.say(anna, "/abfragegast " + ERIKA)
    path = await last_link(core)
    async with http.get(base(web_server) + path) as page:
        body = await page.text()
    assert 'type="radio" name="choice"' in body
    data = aiohttp.FormData([("csrf", csrf_of(body)), ("choice", "1"), ("choice", "3")])
    async with http.post(
        base(web_server) + path, data=data, headers=SAME_SITE, allow_redirects=False
    ) as response:
        assert response.status == 409
        assert "In dieser Umfrage ist nur eine Antwort möglich." in await response.text()
    assert await votes(core) == []
    await post_form(
        http, base(web_server) + path, {"csrf": csrf_of(body), "choice": "3"}, SAME_SITE
    )
    assert "3) Fachkräfte – 1 (100 %)" in await chat.text(bernd, "/abfragen 1")


async def test_a_members_own_link_comes_by_private_message_and_stops_when_they_leave(
    chat: Conversation, core, web_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    await chat.say(anna, POLL)
    reply = await chat.text(bernd, "/meinlink")
    assert "privaten Chat" in reply and "/poll/" not in reply  # never in the group
    [message] = await outbox_rows(core, "personal_link")
    assert message.chat_id == "bernd"  # Bernd's private chat
    path = await last_link(core)
    async with http.get(base(web_server) + path) as page:
        assert page.status == 200 and "Bernd" in await page.text()
    async with core.services.sessions.begin() as session:
        await session.execute(
            update(Membership)
            .where(Membership.user_id == await _user_id(core, "bernd"))
            .values(left_at=core.services.clock.now())
        )
    async with http.get(base(web_server) + path) as page:
        assert page.status == 404


async def test_a_meeting_answer_link_asks_first_and_answers_only_on_the_confirming_post(
    chat: Conversation, core, web_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    await chat.say(anna, '/sitzung 24.06. 10-12 Uhr "Juli-Sitzung"')
    reply = await chat.text(anna, "/sitzungsgast " + ERIKA)
    assert "Erika Muster" in reply
    [mail] = await outbox_rows(core, "personal_link")
    links = await sent_links(core)
    assert [link.rsplit("/", 1)[1] for link in links] == ["yes", "maybe", "no"]
    text = mail.payload["text"]
    assert "Zusage: http" in text and "Vielleicht: http" in text and "Absage: http" in text
    yes = links[0]
    for _ in range(3):  # a mail scanner or a link preview fetches the link
        async with http.get(base(web_server) + yes) as page:
            body = await page.text()
            assert page.status == 200
    assert "Zusage bestätigen" in body
    async with core.services.sessions() as session:
        assert list(await session.scalars(select(Rsvp))) == []
    response = await post_form(http, base(web_server) + yes, {"csrf": "0" * 64}, SAME_SITE)
    assert response.status == 403
    response = await post_form(http, base(web_server) + yes, {"csrf": csrf_of(body)}, SAME_SITE)
    assert response.status == 303
    async with core.services.sessions() as session:
        [rsvp] = list(await session.scalars(select(Rsvp)))
        link = await session.scalar(select(PersonalLink))
    assert rsvp.answer == "yes" and rsvp.user_id == link.user_id
    assert "Antworten: 1 ja, 0 vielleicht, 0 nein" in await chat.text(anna, "/sitzungen")


async def test_an_anonymous_poll_shows_counts_but_no_names_on_the_page(
    chat: Conversation, core, web_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    await chat.say(anna, POLL + " anonym")
    await chat.say(bernd, "/abstimmen 1 ja")
    await chat.say(anna, "/abfragegast " + ERIKA)
    async with http.get(base(web_server) + await last_link(core)) as page:
        body = await page.text()
    assert "anonym" in body and "1 Person hat geantwortet." in body
    table = body.split("<table>")[1]
    assert "Bernd" not in table and "Erika" not in table


async def test_a_multiple_choice_survey_takes_several_and_unticking_takes_one_back(
    chat: Conversation, core, web_server: FeedServer, http: aiohttp.ClientSession
) -> None:
    await chat.say(
        anna, '/umfrage "Welche Themen?" Digitalisierung; Nachfolge; Fachkräfte mehrfach'
    )
    await chat.say(anna, "/abfragegast " + ERIKA)
    url = base(web_server) + await last_link(core)
    async with http.get(url) as page:
        body = await page.text()
    assert 'type="checkbox" name="choice"' in body
    form = csrf_of(body)
    data = aiohttp.FormData([("csrf", form), ("choice", "1"), ("choice", "3")])
    async with http.post(url, data=data, headers=SAME_SITE, allow_redirects=False) as response:
        assert response.status == 303
    overview = await chat.text(bernd, "/abfragen 1")
    assert "1) Digitalisierung – 1" in overview and "3) Fachkräfte – 1" in overview
    await post_form(http, url, {"csrf": form, "choice": "3"}, SAME_SITE)  # 1 unticked
    overview = await chat.text(bernd, "/abfragen 1")
    assert "1) Digitalisierung – 0" in overview and "3) Fachkräfte – 1" in overview
