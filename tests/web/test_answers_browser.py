"""Answering without the chat in a real browser (Debian's headless Chromium): a guest answers
a date poll on its page and the poll message in the Telegram group (the fake Bot API) is
edited to show the answer; a guest opens an invitation's Zusage link and confirms. The
screenshots (desktop and phone width) go to docs/screenshots/ for the README."""

from __future__ import annotations

import re

from playwright.async_api import Page
from sqlalchemy import select

from storage.models import Rsvp
from tests.browser import screenshot
from tests.fake_telegram import FakeTelegram
from tests.telegram_bot import ANNA, BERND, GROUP, TelegramBot, converse, registered_group
from tests.web.answer_links import last_link

POLL = '/terminabfrage "Juni-Sitzung" 15.06.2031 9-12 Uhr; 17.06.2031 14-16 Uhr notfalls'


def watch_console(browser: Page) -> list[str]:
    """Console messages: a CSP violation or a script error would show here."""
    seen: list[str] = []
    browser.on("console", lambda message: seen.append(message.text))
    return seen


async def test_a_guest_answers_on_the_page_and_the_telegram_poll_shows_it(
    telegram_bot: TelegramBot, telegram: FakeTelegram, bot_pages: str, browser: Page
) -> None:
    await registered_group(telegram)
    [poll] = await converse(telegram, GROUP, ANNA, POLL + " bis 10.06.2031")
    telegram.press_button(GROUP, poll.message_id, BERND, poll.buttons[0]["callback_data"])
    await telegram.wait_until(lambda: "✅ Bernd" in (poll.text or ""), timeout=10, what="Bernd")
    await converse(telegram, GROUP, ANNA, "/abfragegast 1 Erika Muster erika@example.org")
    path = await last_link(telegram_bot.core)
    console = watch_console(browser)

    await browser.goto(bot_pages + path)
    assert await browser.title() == "Terminabfrage #1: Juni-Sitzung"
    assert await browser.locator("legend").first.inner_text() == "1) So, 15.06.2031, 9:00–12:00 Uhr"
    await browser.get_by_role("group", name="1) So, 15.06.2031").get_by_label("ja").check()
    await browser.get_by_role("group", name="2) Di, 17.06.2031").get_by_label("notfalls").check()
    await screenshot(browser, "answer-poll")
    await browser.get_by_role("button", name="Antwort speichern").click()
    await browser.wait_for_url("**saved=1")
    assert "Danke, Ihre Antwort ist gespeichert." in await browser.inner_text("main")
    assert "Erika Muster" in await browser.locator("table").inner_text()

    await telegram.wait_until(
        lambda: "✅ Bernd, Erika Muster" in (poll.text or ""),
        timeout=10,
        what="the Telegram poll message edited with Erika's answer",
    )
    assert "🟡 Erika Muster" in (poll.text or "")
    assert "2 Personen haben geantwortet." in (poll.text or "")
    assert console == []

    # the keyboard alone answers too: Tab to the "nein" of the first date, Space, Enter
    await browser.goto(bot_pages + path + "?lang=en")
    assert await browser.get_attribute("html", "lang") == "en"
    no = browser.get_by_role("group", name=re.compile(r"^1\) ")).get_by_label("no")
    await no.focus()
    await browser.keyboard.press("Space")
    await browser.keyboard.press("Enter")
    await browser.wait_for_url("**saved=1**")
    await telegram.wait_until(
        lambda: "❌ Erika Muster" in (poll.text or ""), timeout=10, what="Erika's changed answer"
    )


async def test_a_guest_opens_the_zusage_link_and_confirms(
    telegram_bot: TelegramBot, telegram: FakeTelegram, bot_pages: str, browser: Page
) -> None:
    await registered_group(telegram)
    await converse(telegram, GROUP, ANNA, '/sitzung 20.06.2031 10-12 Uhr "Juli-Sitzung" | Köln')
    await converse(telegram, GROUP, ANNA, "/sitzungsgast 1 Erika Muster erika@example.org")
    yes = await last_link(telegram_bot.core, "rsvp")
    assert yes.endswith("/no")  # the last of Zusage / Vielleicht / Absage
    yes = yes.removesuffix("/no") + "/yes"
    console = watch_console(browser)

    await browser.goto(bot_pages + yes)
    assert await browser.title() == "Juli-Sitzung"
    assert "Sie antworten als Erika Muster." in await browser.inner_text("main")
    await screenshot(browser, "answer-invitation")
    async with telegram_bot.core.services.sessions() as session:
        assert list(await session.scalars(select(Rsvp))) == []  # opening the link answered nothing
    await browser.get_by_role("button", name="Zusage bestätigen").click()
    await browser.wait_for_url("**saved=1")
    main = await browser.inner_text("main")
    assert "Danke, Ihre Antwort ist gespeichert." in main and "Ihre Antwort: Ich komme" in main
    async with telegram_bot.core.services.sessions() as session:
        [rsvp] = list(await session.scalars(select(Rsvp)))
    assert rsvp.answer == "yes"
    [listing] = await converse(telegram, GROUP, ANNA, "/sitzungen")
    assert "Antworten: 1 ja, 0 vielleicht, 0 nein" in (listing.text or "")
    assert console == []
