"""Authorization deadlines in the advisor's personal calendar feed: the pure date choice,
and the feed served over HTTP as the advisor links, renews and is delisted."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import aiohttp
import icalendar

from bot.core.clock import FixedClock
from bot.feed_server import FeedServer
from handlers.advisors.deadlines_feed import Deadline, authorization_deadlines
from handlers.advisors.policy import AdvisorHistory, DoneStep, EscalationPolicy, Step
from tests.advisor_registry import ADD, ADMIN, ADVISOR
from tests.feeds import feed_token_in
from tests.harness import Conversation, dm

POLICY = EscalationPolicy(policy_start=date(2021, 1, 1))


def test_listed_advisor_sees_expiry_and_delisting_of_the_latest_authorization() -> None:
    history = AdvisorHistory((date(2017, 5, 2), date(2019, 8, 31)))
    assert authorization_deadlines(history, listed=True, expiry_months=24, policy=POLICY) == [
        Deadline("expiry", date(2021, 8, 31), date(2019, 8, 31)),
        Deadline("delisting", date(2022, 1, 31), date(2019, 8, 31)),  # 31 Jan: 29 months on
    ]


def test_without_a_policy_only_the_expiry_is_known() -> None:
    history = AdvisorHistory((date(2020, 2, 29),))
    assert authorization_deadlines(history, listed=True, expiry_months=24, policy=None) == [
        Deadline("expiry", date(2022, 2, 28), date(2020, 2, 29))
    ]


def test_already_expired_at_policy_start_shows_the_legacy_deadline_only() -> None:
    history = AdvisorHistory((date(2018, 6, 1),))  # expired 1 June 2020, before the policy
    assert authorization_deadlines(history, listed=True, expiry_months=24, policy=POLICY) == [
        Deadline("delisting", date(2021, 4, 1), date(2018, 6, 1))
    ]


def test_delisted_advisors_and_done_delistings_show_nothing_more() -> None:
    history = AdvisorHistory((date(2019, 3, 15),))
    assert authorization_deadlines(history, listed=False, expiry_months=24, policy=POLICY) == []
    done = AdvisorHistory(
        (date(2019, 3, 15),), (DoneStep(Step.DELISTING, date(2019, 3, 15), date(2021, 8, 15)),)
    )
    assert [
        d.kind for d in authorization_deadlines(done, listed=True, expiry_months=24, policy=POLICY)
    ] == ["expiry"]
    assert (
        authorization_deadlines(AdvisorHistory(), listed=True, expiry_months=24, policy=POLICY)
        == []
    )


async def feed(
    http: aiohttp.ClientSession, server: FeedServer, token: str, etag: str | None = None
) -> tuple[int, str, list[icalendar.Event]]:
    headers = {"If-None-Match": etag} if etag else {}
    url = f"http://127.0.0.1:{server.port}/calendar/{token}.ics"
    async with http.get(url, headers=headers) as response:
        body = await response.read()
        events = icalendar.Calendar.from_ical(body).walk("VEVENT") if response.status == 200 else []
        return response.status, response.headers["ETag"], events


def deadlines_in(events: list[icalendar.Event]) -> list[tuple[str, date]]:
    return sorted(
        (str(e["SUMMARY"]), e["DTSTART"].dt)
        for e in events
        if str(e["UID"]).startswith("authorization-")
    )


async def test_the_advisors_feed_follows_link_renewal_and_delisting(
    chat: Conversation,
    clock: FixedClock,
    http: aiohttp.ClientSession,
) -> None:
    server = FeedServer(chat.core.services)
    await server.start("127.0.0.1", 0)
    try:
        await chat.say(ADMIN, ADD, dm(ADMIN))  # authorized 15.03.2019
        token = feed_token_in(await chat.text(ADVISOR, "/kalender", dm(ADVISOR)))
        status, etag, events = await feed(http, server, token)
        assert status == 200 and deadlines_in(events) == []  # not linked yet: not theirs

        text = await chat.text(ADMIN, "/beratercode 1", dm(ADMIN))
        code = re.search(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}\b", text).group(0)
        await chat.say(ADVISOR, f"/verknuepfen {code}", dm(ADVISOR))
        status, etag, events = await feed(http, server, token, etag)
        assert status == 200
        assert deadlines_in(events) == [
            ("Autorisierung als Berater*in endet", date(2021, 3, 15)),
            ("Entfernung aus der öffentlichen Berater*innen-Liste", date(2021, 8, 15)),
        ]
        [expiry] = [e for e in events if "endet" in str(e["SUMMARY"])]
        assert "Autorisierung vom 15.03.2019 endet heute" in str(expiry["DESCRIPTION"])
        assert (await feed(http, server, token, etag))[0] == 304  # nothing changed

        await chat.say(ADMIN, '/austausch 24.06.2021 9-12 Uhr "IHK Köln" | Online | 30', dm(ADMIN))
        clock.set(datetime(2021, 6, 25, 8, 0, tzinfo=UTC))
        await chat.say(ADMIN, "/teilnahme 1 1", dm(ADMIN))  # renewed from 24.06.2021
        status, etag, events = await feed(http, server, token, etag)
        assert status == 200
        assert deadlines_in(events) == [
            ("Autorisierung als Berater*in endet", date(2023, 6, 24)),
            ("Entfernung aus der öffentlichen Berater*innen-Liste", date(2023, 11, 24)),
        ]

        await chat.say(ADMIN, "/berateraendern 1 status=delisted", dm(ADMIN))
        status, etag, events = await feed(http, server, token, etag)
        assert status == 200 and deadlines_in(events) == []
    finally:
        await server.stop()
