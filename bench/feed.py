"""Calendar feed requests over HTTP against bare icalendar serialisation of the same events.

Two feeds: a group with 1,000 meetings, and a person in 20 groups (50 meetings each). The
feed server (bot/feed_server.py) runs in this process on 127.0.0.1 with a real aiohttp
client; the database is a fresh SQLite file (or --database-url).

Measured per feed, medians over --rounds requests, all in the same run:
- bare_ms: the same events, already in memory, as plain icalendar Events (the same
  properties, VTIMEZONEs added by icalendar) serialised with `to_ical()`. No database, no
  HTTP: the floor any icalendar-based feed pays when it builds.
- ms_per_request: an unconditional GET as calendar apps send it repeatedly. The server
  answers from its cache of serialized feeds, keyed by the validator (ETag): it runs the
  validator's aggregate queries and sends the cached bytes. This is what `ratio` is
  based on: a steady-state request, *not* a rebuild.
- rebuild_ms: a GET right after a meeting changed, so the feed is rebuilt from the
  database: load the rows, write the changed meeting, reuse the other events' kept text
  (handlers/calendar/fragments.py). `rebuild_ratio` compares that with bare_ms;
  `rebuild_one_change_ratio` is the same figure under the name issue #18 gives it
  (goal <= 0.1). `identical_to_whole` checks that body against a whole rebuild.
- full_rebuild_ms: the same GET with the kept texts dropped first, i.e. every event
  serialised again (what every rebuild cost before); `full_rebuild_ratio` against bare_ms.
- ms_304 / rebuilds_on_304: conditional GETs with the current ETag must answer 304
  without building the feed; the builder counts every real build.

Last line of output: one JSON object (top-level figures are the worse of the two feeds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from icalendar import Calendar, Event, vCalAddress  # noqa: E402
from sqlalchemy import update  # noqa: E402

from bot.app import Core  # noqa: E402
from bot.core.clock import FixedClock  # noqa: E402
from bot.core.enums import FeedKind  # noqa: E402
from bot.core.settings import load_settings  # noqa: E402
from bot.feed_server import FeedServer  # noqa: E402
from handlers.calendar.fragments import FragmentCache  # noqa: E402
from storage import calendar as feeds  # noqa: E402
from storage.models import Group, Meeting, Membership, User  # noqa: E402

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


async def populate(core: Core, *, group_meetings: int, groups: int, per_group: int) -> dict:
    """One big group, and one person in `groups` groups; returns their feed tokens."""
    async with core.services.sessions() as session, session.begin():
        person = User(language="de", created_at=NOW)
        session.add(person)
        await session.flush()
        all_groups = []
        for index in range(groups + 1):
            group = Group(
                name=f"AG {index}",
                kind="ag",
                timezone="Europe/Berlin",
                language="de",
                created_at=NOW,
            )
            session.add(group)
            all_groups.append(group)
        await session.flush()
        big, *small = all_groups
        for group in small:
            session.add(Membership(group_id=group.id, user_id=person.id, created_at=NOW))
        for group, count in [(big, group_meetings), *[(g, per_group) for g in small]]:
            for number in range(1, count + 1):
                start = NOW + timedelta(days=number, hours=1)
                session.add(
                    Meeting(
                        group_id=group.id,
                        number=number,
                        title=f"Sitzung {number} der {group.name}",
                        starts_at=start,
                        ends_at=start + timedelta(hours=3),
                        location="https://meet.example.org/ag",
                        created_at=NOW,
                        updated_at=NOW,
                    )
                )
        group_token = await feeds.issue(session, FeedKind.GROUP, big.id, NOW)
        person_token = await feeds.issue(session, FeedKind.PERSON, person.id, NOW)
        return {
            "group": (group_token, [big.id]),
            "person": (person_token, [g.id for g in small]),
        }


async def load_meetings(core: Core, group_ids: list[int]) -> list[Meeting]:
    async with core.services.sessions() as session:
        return await feeds.meetings_of_groups(session, group_ids)


def bare_once(meetings: list[Meeting]) -> float:
    """The same meetings as plain icalendar events with the same properties the feed
    writes, serialised; rows already in memory. Milliseconds."""
    berlin = ZoneInfo("Europe/Berlin")
    started = time.perf_counter()
    calendar = Calendar()
    calendar.add("prodid", "-//bench//")
    calendar.add("version", "2.0")
    for meeting in meetings:
        event = Event()
        event.add("uid", f"meeting-{meeting.id}@bench")
        event.add("dtstamp", meeting.updated_at)
        event.add("dtstart", meeting.starts_at.astimezone(berlin))
        event.add("dtend", meeting.ends_at.astimezone(berlin))
        event.add("sequence", meeting.sequence)
        event.add("summary", meeting.title)
        event.add(
            "description",
            f"AG, Sitzung #{meeting.number}\n\nLink: {meeting.location}\n\n/zusage 1 ja",
        )
        event.add("location", meeting.location)
        event.add("url", meeting.location)
        event.add("last-modified", meeting.updated_at)
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
        organizer = vCalAddress("mailto:noreply@bench")
        organizer.params["CN"] = "AG"
        event.add("organizer", organizer)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    calendar.to_ical()
    return (time.perf_counter() - started) * 1000


async def timed_get(http: aiohttp.ClientSession, url: str, **headers: str) -> tuple[float, int]:
    started = time.perf_counter()
    async with http.get(url, headers=headers) as response:
        await response.read()
        status = response.status
    return (time.perf_counter() - started) * 1000, status


async def touch_one_meeting(core: Core, group_ids: list[int], stamp: datetime) -> None:
    async with core.services.sessions() as session, session.begin():
        await session.execute(
            update(Meeting)
            .where(Meeting.group_id == group_ids[0], Meeting.number == 1)
            .values(updated_at=stamp, sequence=Meeting.sequence + 1)
        )


async def same_as_whole(
    core: Core, server: FeedServer, token: str, http: aiohttp.ClientSession, url: str
) -> bool:
    """The served body (after one change, from kept texts) equals a whole rebuild."""
    async with http.get(url) as response:
        served = await response.read()
    async with core.services.sessions() as session:
        feed = await feeds.feed_for_token(session, token)
        assert feed is not None
        scope = await server.builder.scope(session, feed)
        assert scope is not None
        return served == await server.builder.render_whole(session, scope)


async def measure(
    core: Core, server: FeedServer, token: str, group_ids: list[int], rounds: int
) -> dict[str, float | int]:
    url = f"http://127.0.0.1:{server.port}/calendar/{token}.ics"
    builder = server.builder
    async with aiohttp.ClientSession() as http:
        # Rebuilds: each request follows a change, so the cache cannot answer. The bare
        # serialisation runs in the same rounds, so the machine's drift hits both alike.
        meetings = await load_meetings(core, group_ids)
        rebuilds, full_rebuilds, bare = [], [], []
        stamp = NOW
        for _ in range(rounds):
            # Whole: no kept texts (the first round's GET also fills them).
            stamp += timedelta(minutes=1)
            await touch_one_meeting(core, group_ids, stamp)
            builder.fragments = FragmentCache(builder.fragments.max_bytes)
            before = builder.rebuilds
            elapsed, status = await timed_get(http, url)
            assert status == 200 and builder.rebuilds == before + 1
            full_rebuilds.append(elapsed)
            # One change: the other events' text is kept from the previous build.
            stamp += timedelta(minutes=1)
            await touch_one_meeting(core, group_ids, stamp)
            written = builder.fragments.misses
            elapsed, status = await timed_get(http, url)
            assert status == 200 and builder.rebuilds == before + 2
            assert builder.fragments.misses - written == 1, "one change, one event written"
            rebuilds.append(elapsed)
            bare.append(bare_once(meetings))
        identical = await same_as_whole(core, server, token, http, url)
        # Steady state: unconditional GETs of an unchanged feed.
        warm = []
        for _ in range(rounds):
            elapsed, status = await timed_get(http, url)
            assert status == 200
            warm.append(elapsed)
        async with http.get(url) as response:
            etag = response.headers["ETag"]
            body = await response.read()
        # Conditional GETs: 304 from the validator alone.
        before = builder.rebuilds
        not_modified = []
        for _ in range(rounds):
            elapsed, status = await timed_get(http, url, **{"If-None-Match": etag})
            assert status == 304
            not_modified.append(elapsed)
        rebuilds_on_304 = builder.rebuilds - before
    bare_ms = statistics.median(bare)
    ms_per_request = statistics.median(warm)
    rebuild_ms = statistics.median(rebuilds)
    full_rebuild_ms = statistics.median(full_rebuilds)
    return {
        "events": body.count(b"BEGIN:VEVENT"),
        "bytes": len(body),
        "ms_per_request": round(ms_per_request, 2),
        "bare_ms": round(bare_ms, 2),
        "ratio": round(ms_per_request / bare_ms, 3),
        "rebuild_ms": round(rebuild_ms, 2),
        "rebuild_ratio": round(rebuild_ms / bare_ms, 3),
        "rebuild_one_change_ratio": round(rebuild_ms / bare_ms, 3),
        "full_rebuild_ms": round(full_rebuild_ms, 2),
        "full_rebuild_ratio": round(full_rebuild_ms / bare_ms, 3),
        "identical_to_whole": identical,
        "ms_304": round(statistics.median(not_modified), 2),
        "rebuilds_on_304": rebuilds_on_304,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        url = args.database_url or f"sqlite:///{Path(workdir) / 'feed.db'}"
        settings = load_settings(database_url=url, _env_file=None)
        core = await Core.create(settings, FixedClock(NOW))
        server = FeedServer(core.services)
        await server.start("127.0.0.1", 0)
        try:
            feeds_ = await populate(core, group_meetings=1000, groups=20, per_group=50)
            results = {}
            for name, (token, group_ids) in feeds_.items():
                results[name] = await measure(core, server, token, group_ids, args.rounds)
                print(name, json.dumps(results[name]))
        finally:
            await server.stop()
            await core.close()
    worst = max(results.values(), key=lambda r: r["ratio"])
    summary = {
        "ms_per_request": worst["ms_per_request"],
        "bare_ms": worst["bare_ms"],
        "ratio": worst["ratio"],
        "rebuild_ratio": max(r["rebuild_ratio"] for r in results.values()),
        "rebuilds_on_304": sum(int(r["rebuilds_on_304"]) for r in results.values()),
        "rebuild_one_change_ratio": max(r["rebuild_one_change_ratio"] for r in results.values()),
        "full_rebuild_ratio": max(r["full_rebuild_ratio"] for r in results.values()),
        "identical_to_whole": all(r["identical_to_whole"] for r in results.values()),
        "group_1000_meetings": results["group"],
        "person_20_groups": results["person"],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    asyncio.run(main())
