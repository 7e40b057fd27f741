"""The public advisor list over real HTTP (SQLite and PostgreSQL) and in Debian's Chromium:
consent, delisting and relisting, conditional requests, filters, the data for the website."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Page

from bot.app import Core
from bot.core.clock import FixedClock
from bot.feed_server import FeedServer
from bot.web.advisors import MAX_AGE_SECONDS
from handlers.advisors.escalation import run_advisor_escalation
from tests.advisor_registry import ADMIN, advisor_settings
from tests.browser import PHONE, screenshot
from tests.harness import GROUP, Conversation, dm

ADVISORS = (
    # name | e-mail | institution | fields | authorized, then region and consent
    (
        "Berta Beispiel | berta@example.org | RKW Nord | Digitalisierung; Finanzierung "
        "| 15.03.2021",
        "Köln",
        "alle",
    ),
    (
        "Jörg Weiß | joerg@example.org | BIFA | Handwerk | 01.04.2021",
        "München",
        "name, felder, region, institution",
    ),
    (
        "Geheim Person | geheim@example.org | Geheiminstitut | Nachhaltigkeit | 01.04.2021",
        "Geheimregion",
        "felder",
    ),
    (
        "Carla Verborgen | carla@example.org | Stilles Institut | Export | 01.04.2021",
        "Saarland",
        "nichts",
    ),
)
HIDDEN = ("Geheim Person", "geheim@example.org", "Geheiminstitut", "Geheimregion",
          "Carla Verborgen", "carla@example.org", "Stilles Institut", "Saarland", "Export",
          "joerg@example.org")  # fmt: skip


@pytest.fixture
async def core(database_url: str, clock: FixedClock) -> AsyncIterator[Core]:
    """The bot with the advisor registry on (the `web_server` fixture serves it)."""
    clock.set(datetime(2021, 6, 10, 8, 0, tzinfo=UTC))
    core = await Core.create(
        advisor_settings(database_url, advisor_delist_without_exchange=True), clock
    )
    yield core
    await core.close()


@pytest.fixture
async def registry(core: Core) -> Conversation:
    """The admin group registered and the four ADVISORS entered with region and consent."""
    chat = Conversation(core, admins=[(GROUP, ADMIN)])
    await chat.say(ADMIN, '/registrieren ag "Admins"', GROUP)
    for number, (details, region, consent) in enumerate(ADVISORS, start=1):
        assert "Ins Register aufgenommen" in await chat.text(
            ADMIN, f"/beraterneu {details}", dm(ADMIN)
        )
        await chat.say(ADMIN, f"/berateraendern {number} region={region}", dm(ADMIN))
        await chat.say(ADMIN, f"/berateraendern {number} veroeffentlichen={consent}", dm(ADMIN))
    return chat


@pytest.fixture
def base(web_server: FeedServer) -> str:
    return f"http://127.0.0.1:{web_server.port}"


async def fetch(
    http: aiohttp.ClientSession, url: str, **headers: str
) -> tuple[int, str, aiohttp.typedefs.LooseHeaders]:
    async with http.get(url, headers=headers) as response:
        return response.status, await response.text(), response.headers


async def test_only_listed_advisors_and_only_consented_fields_appear(
    registry: Conversation, base: str, http: aiohttp.ClientSession
) -> None:
    status, page, _ = await fetch(http, f"{base}/berater")
    assert status == 200
    assert "Berta Beispiel" in page and "mailto:berta@example.org" in page
    assert "Jörg Weiß" in page and "München" in page and "Handwerk" in page
    assert "Nachhaltigkeit" in page and "Name nicht veröffentlicht" in page
    status, data, headers = await fetch(http, f"{base}/berater.json")
    assert headers["Content-Type"].startswith("application/json")
    status, table, _ = await fetch(http, f"{base}/berater.csv")
    for shown in (page, data, table):
        for secret in HIDDEN:
            assert secret not in shown, secret
    rows = list(csv.DictReader(io.StringIO(table.lstrip("\ufeff"))))
    assert [r["name"] for r in rows] == ["Berta Beispiel", "Jörg Weiß", ""]
    assert rows[2] == {
        "name": "",
        "fields": "Nachhaltigkeit",
        "region": "",
        "institution": "",
        "contact": "",
    }
    # Filtering by an unpublished value finds nobody, on the page and in the data.
    for query in ("q=Geheim", "region=Geheimregion", "institution=Geheiminstitut", "q=Carla"):
        status, found, _ = await fetch(http, f"{base}/berater.json?{query}")
        assert '"count": 0' in found, query
        _, page, _ = await fetch(http, f"{base}/berater?{query}")
        assert "0 von 3 Berater*innen" in page and "Niemand passt" in page


async def test_delisted_advisors_vanish_and_relisted_reappear_with_fresh_tags(
    registry: Conversation, base: str, http: aiohttp.ClientSession, clock: FixedClock
) -> None:
    for path in ("/berater", "/berater.json", "/berater.csv"):
        status, _, headers = await fetch(http, f"{base}{path}")
        etag = headers["ETag"]
        assert headers["Cache-Control"] == f"public, max-age={MAX_AGE_SECONDS}"
        assert MAX_AGE_SECONDS <= 60  # a delisting shows within a minute
        status, body, again = await fetch(http, f"{base}{path}", **{"If-None-Match": etag})
        assert (status, body, again["ETag"]) == (304, "", etag), path
        status, _, _ = await fetch(http, f"{base}{path}", **{"If-None-Match": f'W/{etag}, "x"'})
        assert status == 304
    _, before, headers = await fetch(http, f"{base}/berater.json")
    etag = headers["ETag"]
    clock.set(datetime(2021, 6, 10, 8, 0, 30, tzinfo=UTC))
    await registry.say(ADMIN, "/berateraendern 2 status=delisted", dm(ADMIN))
    status, after, headers = await fetch(http, f"{base}/berater.json", **{"If-None-Match": etag})
    assert status == 200 and headers["ETag"] != etag
    assert "Jörg Weiß" in before and "Jörg Weiß" not in after
    clock.set(datetime(2021, 6, 10, 8, 1, tzinfo=UTC))
    await registry.say(ADMIN, "/berateraendern 2 autorisiert=10.06.2021", dm(ADMIN))
    status, relisted, headers = await fetch(
        http, f"{base}/berater.json", **{"If-None-Match": headers["ETag"]}
    )
    assert status == 200 and "Jörg Weiß" in relisted
    assert headers["ETag"] == etag  # the same list as before the delisting
    # Withdrawing consent takes the entry off as well.
    await registry.say(ADMIN, "/berateraendern 1 veroeffentlichen=nichts", dm(ADMIN))
    _, page, _ = await fetch(http, f"{base}/berater")
    assert "Berta" not in page and "berta@example.org" not in page


async def test_the_daily_run_delists_and_the_next_request_shows_it(
    registry: Conversation, base: str, http: aiohttp.ClientSession, clock: FixedClock
) -> None:
    """Berta's authorization of 15.03.2021 runs out; on 15.08.2023 the daily run (on the
    injected clock) delists her, and the very next request no longer lists her."""
    _, before, headers = await fetch(http, f"{base}/berater.json")
    clock.set(datetime(2023, 8, 15, 4, 0, tzinfo=UTC))
    report = await run_advisor_escalation(registry.core.services, date(2023, 8, 15))
    assert report.delisted == 1
    tag = headers["ETag"]
    status, after, _ = await fetch(http, f"{base}/berater.json", **{"If-None-Match": tag})
    assert status == 200
    assert "Berta Beispiel" in before and "Berta Beispiel" not in after
    assert "Jörg Weiß" in after  # authorized later: not yet due


async def test_headers_for_browsers_caches_and_the_website(
    registry: Conversation, base: str, http: aiohttp.ClientSession
) -> None:
    _, page, headers = await fetch(http, f"{base}/berater", **{"Accept-Language": "en"})
    assert "<h1>Authorized advisors</h1>" in page and 'lang="en"' in page
    assert headers["Vary"] == "Accept-Language"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "Access-Control-Allow-Origin" not in headers
    _, german, german_headers = await fetch(http, f"{base}/berater", **{"Accept-Language": "de"})
    assert "Autorisierte Berater*innen" in german
    assert german_headers["ETag"] != headers["ETag"]  # each language its own tag
    for path, kind in (("/berater.json", "application/json"), ("/berater.csv", "text/csv")):
        _, _, headers = await fetch(http, f"{base}{path}", Origin="https://initiative.example")
        assert headers["Content-Type"].startswith(kind)
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert headers["X-Content-Type-Options"] == "nosniff"
    _, table, headers = await fetch(http, f"{base}/berater.csv")
    assert table.startswith("\ufeffname,fields,region,institution,contact")
    assert headers["Content-Disposition"] == 'attachment; filename="berater.csv"'


async def test_filters_by_field_region_institution_and_name(
    registry: Conversation, base: str, http: aiohttp.ClientSession
) -> None:
    async def names(query: str) -> list[str]:
        async with http.get(f"{base}/berater.json?{query}") as response:
            return [a.get("name", "") for a in (await response.json())["advisors"]]

    assert await names("") == ["Berta Beispiel", "Jörg Weiß", ""]
    assert await names("field=Finanzierung") == ["Berta Beispiel"]
    assert await names("field=handwerk") == ["Jörg Weiß"]
    assert await names("region=K%C3%B6ln") == ["Berta Beispiel"]
    assert await names("institution=BIFA") == ["Jörg Weiß"]
    assert await names("q=joerg") == []  # "ö" is not "oe" …
    assert await names("q=jorg+weiss") == ["Jörg Weiß"]  # … but accents and ß are folded
    assert await names("q=berta&region=M%C3%BCnchen") == []
    _, page, _ = await fetch(http, f"{base}/berater?field=Handwerk&lang=en")
    assert "1 of 3 advisors" in page and "<option selected>Handwerk</option>" in page
    assert 'href="/berater.json?field=Handwerk"' in page
    # What a visitor types comes back escaped, never as markup.
    _, page, _ = await fetch(http, f"{base}/berater?q=%3Cscript%3Ex%3C/script%3E")
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page


async def test_hostile_entries_and_requests(
    registry: Conversation, base: str, http: aiohttp.ClientSession
) -> None:
    """Markup and formulas in an entry stay text; odd requests get sane answers."""
    await registry.say(
        ADMIN,
        '/beraterneu <img src=x onerror="alert(1)"> | evil@example.org | =HYPERLINK("x") '
        "| @SUM(A1) | 01.06.2021",
        dm(ADMIN),
    )
    await registry.say(ADMIN, "/berateraendern 5 veroeffentlichen=alle", dm(ADMIN))
    _, page, _ = await fetch(http, f"{base}/berater")
    assert "<img" not in page and "&lt;img src=x" in page
    _, table, _ = await fetch(http, f"{base}/berater.csv")
    [row] = [
        r for r in csv.DictReader(io.StringIO(table.lstrip("\ufeff"))) if "evil" in r["contact"]
    ]
    assert row["institution"] == '\'=HYPERLINK("x")' and row["fields"] == "'@SUM(A1)"
    async with http.head(f"{base}/berater.json") as response:
        assert response.status == 200 and response.headers["ETag"]
    status, body, _ = await fetch(http, f"{base}/berater.json", **{"If-None-Match": "*"})
    assert (status, body) == (304, "")
    for query in ("q=" + "x" * 5000, "field=Unbekannt", "region=&institution=", "q=%00"):
        status, body, _ = await fetch(http, f"{base}/berater.json?{query}")
        assert status == 200, query
    _, body, _ = await fetch(http, f"{base}/berater?field=Unbekannt")
    assert "0 von 4 Berater*innen" in body


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_in_the_browser_filter_and_see_a_delisting_on_reload(
    registry: Conversation, base: str, browser: Page
) -> None:
    await browser.goto(f"{base}/berater")
    await screenshot(browser, "advisors")
    assert await browser.locator(".advisor").count() == 3
    # Choose a consulting field, submit with Enter in the name field (no script involved).
    await browser.get_by_label("Beratungsfeld", exact=True).focus()
    await browser.get_by_label("Beratungsfeld", exact=True).select_option("Digitalisierung")
    await browser.get_by_label("Name").press("Enter")
    await browser.wait_for_url("**field=Digitalisierung**")
    assert await browser.locator(".advisor h2").all_inner_texts() == ["Berta Beispiel"]
    assert "1 von 3 Berater*innen" in await browser.locator("#count").inner_text()
    await browser.get_by_label("Region").select_option("Köln")
    await browser.get_by_role("button", name="Anzeigen").click()
    await browser.wait_for_url("**region=K*")
    assert await browser.locator(".advisor h2").all_inner_texts() == ["Berta Beispiel"]
    await browser.get_by_role("link", name="Alle anzeigen").click()
    await browser.wait_for_url("**/berater?lang=de")
    # Keyboard only: type into the name field, tab past the three filters to the button.
    await browser.get_by_label("Name").focus()
    await browser.keyboard.type("jörg")
    for _ in range(4):
        await browser.keyboard.press("Tab")
    assert await browser.evaluate("document.activeElement.textContent") == "Anzeigen"
    await browser.keyboard.press("Enter")
    await browser.wait_for_url("**q=j*")
    assert await browser.locator(".advisor h2").all_inner_texts() == ["Jörg Weiß"]
    # An admin delists him in the chat; the same page, reloaded, no longer shows him.
    await registry.say(ADMIN, "/berateraendern 2 status=delisted", dm(ADMIN))
    await browser.reload()
    assert await browser.locator(".advisor").count() == 0
    assert "Niemand passt" in await browser.locator("main").inner_text()
    await browser.goto(f"{base}/berater?lang=en")
    assert await browser.locator(".advisor h2").all_inner_texts() == [
        "Berta Beispiel",
        "Name not published",
    ]
    # Usable on a phone: nothing wider than the screen.
    await browser.set_viewport_size(PHONE)
    width = await browser.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_only_the_configured_website_can_show_the_page_in_a_frame(
    registry: Conversation, base: str, browser: Page, database_url: str, clock: FixedClock
) -> None:
    """The initiative's website (another origin: `localhost` instead of `127.0.0.1`) frames
    the page only when ADVISOR_LIST_FRAME_ORIGINS names it."""

    async def website(request: web.Request) -> web.Response:
        target = request.query["src"]
        return web.Response(
            text=f'<!doctype html><title>Initiative</title><iframe src="{target}"></iframe>',
            content_type="text/html",
        )

    app = web.Application()
    app.router.add_get("/", website)
    runner = web.AppRunner(app)
    await runner.setup()
    listener = web.TCPSite(runner, "127.0.0.1", 0)
    await listener.start()
    origin = f"http://localhost:{runner.addresses[0][1]}"
    allowed = await Core.create(
        advisor_settings(database_url, advisor_list_frame_origins=f"{origin}, https://x.example"),
        clock,
    )
    framed = FeedServer(allowed.services)
    await framed.start("127.0.0.1", 0)
    try:
        for port, shown in ((framed.port, True), (int(base.rsplit(":", 1)[1]), False)):
            await browser.goto(f"{origin}/?src=http://127.0.0.1:{port}/berater")
            frame = browser.frame_locator("iframe")
            if shown:
                await frame.locator("h1").wait_for()
                assert await frame.locator(".advisor h2").count() == 3
            else:
                await browser.wait_for_load_state("load")
                headings = await frame.locator("h1").all_inner_texts()  # Chrome's error page
                assert await frame.locator(".advisor").count() == 0, headings
                assert not any("Berater" in h for h in headings), headings
    finally:
        await framed.stop()
        await allowed.close()
        await runner.cleanup()
