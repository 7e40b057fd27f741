"""The web foundation every page stands on: security headers, language, form tokens, static
files, escaping — over real HTTP on 127.0.0.1 and in Debian's headless Chromium."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Page

from bot.web.security import CONTENT_SECURITY_POLICY
from bot.web.site import Site, install
from bot.web.templating import TEMPLATE_DIR, Templates

FORM = """{% extends "base.html" %}
{% block title %}{{ _("Language") }}{% endblock %}
{% block content %}
<h1>{{ heading }}</h1>
<form method="post" action="/try">
<input type="hidden" name="csrf" value="{{ csrf }}">
<label for="word">Word</label><input id="word" name="word" type="text">
<button type="submit">Send</button>
</form>
{% endblock %}
"""


def pages(site: Site) -> list[web.RouteDef]:
    """A page with a form, and the post it sends: what a real page module does."""

    async def show(request: web.Request) -> web.Response:
        heading = request.query.get("heading", "Hallo")
        token = await site.csrf.token("try")
        return site.templates.render(request, "form.html", heading=heading, csrf=token)

    async def post(request: web.Request) -> web.Response:
        form = await site.csrf.form(request, "try")
        return site.templates.render(
            request, "error.html", heading="ok", message=str(form.get("word"))
        )

    return [web.get("/try", show), web.post("/try", post)]


@pytest.fixture
async def server(core, tmp_path: Path) -> AsyncIterator[str]:
    (tmp_path / "form.html").write_text(FORM)
    app = web.Application()
    site = install(app, core.services, pages=())
    site = dataclasses.replace(site, templates=Templates((TEMPLATE_DIR, tmp_path)))
    app.router.add_routes(pages(site))
    runner = web.AppRunner(app)
    await runner.setup()
    listener = web.TCPSite(runner, "127.0.0.1", 0)
    await listener.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def token_from(http: aiohttp.ClientSession, base: str) -> str:
    async with http.get(f"{base}/try") as response:
        body = await response.text()
    return body.split('name="csrf" value="')[1].split('"')[0]


async def test_every_answer_carries_the_security_headers(
    server: str, http: aiohttp.ClientSession
) -> None:
    for path, status in (("/try", 200), ("/static/style.css", 200), ("/nothing", 404)):
        async with http.get(f"{server}{path}") as response:
            assert response.status == status, path
            assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Referrer-Policy"] == "no-referrer"
            assert response.headers["X-Frame-Options"] == "DENY"
    async with http.get(f"{server}/try") as response:
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"


async def test_text_is_escaped(server: str, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{server}/try", params={"heading": "<script>alert(1)</script>"}) as r:
        body = await r.text()
    assert "<script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


@pytest.mark.parametrize(
    ("query", "accept", "expected"),
    [
        ("", "", "de"),
        ("", "en-US,en;q=0.9", "en"),
        ("", "fr-FR, en;q=0.5, de;q=0.8", "de"),
        ("?lang=en", "de-DE", "en"),
        ("?lang=xx", "en", "en"),
    ],
)
async def test_language_is_the_visitors_choice_then_their_browsers(
    server: str, http: aiohttp.ClientSession, query: str, accept: str, expected: str
) -> None:
    async with http.get(f"{server}/try{query}", headers={"Accept-Language": accept}) as r:
        body = await r.text()
        assert r.headers["Content-Language"] == expected
    assert f'<html lang="{expected}">' in body
    other = "en" if expected == "de" else "de"
    assert f'hreflang="{other}"' in body  # the switch to the other language


async def test_a_form_posts_only_with_its_token_and_from_this_site(
    core, server: str, http: aiohttp.ClientSession
) -> None:
    token = await token_from(http, server)
    refused = [
        ({"word": "x"}, {}),
        ({"word": "x", "csrf": "0" * 64}, {}),
        ({"word": "x", "csrf": token}, {"Origin": "https://evil.example"}),
        ({"word": "x", "csrf": token}, {"Sec-Fetch-Site": "cross-site"}),
    ]
    for data, headers in refused:
        async with http.post(f"{server}/try", data=data, headers=headers) as response:
            assert response.status == 403, (data, headers)
    same_site = {"Origin": server, "Sec-Fetch-Site": "same-origin"}
    async with http.post(
        f"{server}/try", data={"word": "Kuchen", "csrf": token}, headers=same_site
    ) as response:
        assert response.status == 200
        assert "Kuchen" in await response.text()


async def test_a_form_token_survives_a_restart(core, server: str, tmp_path: Path) -> None:
    """The key is the installation's, kept in the database: a fresh process signs alike."""
    first = install(web.Application(), core.services, pages=())
    again = install(web.Application(), core.services, pages=())
    assert await first.csrf.token("poll-7") == await again.csrf.token("poll-7")
    assert await first.csrf.token("poll-7") != await first.csrf.token("poll-8")


async def test_the_page_works_in_a_real_browser_under_its_policy(
    server: str, browser: Page
) -> None:
    violations: list[str] = []
    browser.on("console", lambda message: violations.append(message.text))
    await browser.goto(f"{server}/try?lang=en")
    assert await browser.get_attribute("html", "lang") == "en"
    # The stylesheet loaded under the CSP: the button has the accent colour.
    colour = await browser.eval_on_selector(
        "button", "element => getComputedStyle(element).backgroundColor"
    )
    assert colour == "rgb(11, 83, 148)"
    await browser.get_by_label("Word").fill("Kuchen")
    await browser.keyboard.press("Enter")
    await browser.wait_for_selector("h1:text('ok')")
    assert "Kuchen" in await browser.inner_text("main")
    assert violations == []
