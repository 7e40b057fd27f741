"""The poll message in the chat where the poll was started follows answers given elsewhere
from the start: its id is kept when the bot sends it, so a web answer (or a typed one) edits
it before anyone pressed a button on it (the real Telegram adapter on the fake Bot API)."""

from __future__ import annotations

import asyncio

import aiohttp

from storage import polls as poll_store
from tests.fake_telegram import FakeTelegram
from tests.telegram_bot import ANNA, BERND, CLARA, GROUP, TelegramBot, converse, registered_group
from tests.web.answer_links import csrf_of, last_link

POLL = '/terminabfrage "Juni-Sitzung" 15.06.2031 9-12 Uhr; 17.06.2031 14-16 Uhr bis 10.06.2031'
SAME_SITE = {"Sec-Fetch-Site": "same-origin"}


async def shown_in(bot: TelegramBot) -> dict[tuple[str, str], str]:
    """Where poll #1 is known to be shown, once the adapter has kept the sent reply's id
    (right after Telegram answered the sendMessage)."""
    for _ in range(100):
        async with bot.core.services.sessions() as session:
            if shown := await poll_store.shown_in(session, 1):
                return shown
        await asyncio.sleep(0.05)
    return {}


async def test_a_web_answer_edits_the_poll_where_it_was_started_before_any_press(
    telegram_bot: TelegramBot, telegram: FakeTelegram, bot_pages: str, http: aiohttp.ClientSession
) -> None:
    await registered_group(telegram)
    [poll] = await converse(telegram, GROUP, ANNA, POLL)
    assert await shown_in(telegram_bot) == {("telegram", str(GROUP)): str(poll.message_id)}
    await converse(telegram, GROUP, ANNA, "/abfragegast 1 Erika Muster erika@example.org")

    url = bot_pages + await last_link(telegram_bot.core)
    async with http.get(url) as page:
        form = csrf_of(await page.text())
    answered = await http.post(
        url,
        data={"csrf": form, "option-1": "yes", "option-2": "no"},
        headers=SAME_SITE,
        allow_redirects=False,
    )
    assert answered.status == 303
    await telegram.wait_until(
        lambda: "✅ Erika Muster" in (poll.text or ""),
        timeout=10,
        what="the poll message where it was started, edited with Erika's web answer",
    )
    assert "1 Person hat geantwortet." in (poll.text or "")
    assert poll.buttons  # still answerable in the chat

    # the other way round: a typed answer edits it too, and a press still does
    since = len(telegram.sent)
    await converse(telegram, GROUP, CLARA, "/abstimmen 2 ja")
    await telegram.wait_until(
        lambda: "✅ Clara" in (poll.text or ""), timeout=10, what="Clara's typed answer"
    )
    telegram.press_button(GROUP, poll.message_id, BERND, poll.buttons[0]["callback_data"])
    await telegram.wait_until(
        lambda: "3 Personen haben geantwortet." in (poll.text or ""),
        timeout=10,
        what="Bernd's press, edited in place",
    )
    assert "✅ Erika Muster, Bernd" in (poll.text or "")
    polls_sent = [m for m in telegram.sent[since:] if "Terminabfrage #1" in (m.text or "")]
    assert len(polls_sent) == 1  # the typed answer's own reply; no copy of the poll besides


async def test_a_poll_reply_that_went_through_the_outbox_is_kept_too(
    telegram_bot: TelegramBot, telegram: FakeTelegram, bot_pages: str, http: aiohttp.ClientSession
) -> None:
    """Telegram refused the poll's first send (a 500): the outbox sends it later, under the
    same key, and keeps its id there, so it is edited all the same."""
    await converse(telegram, GROUP, ANNA, '/registrieren ag "AG Transfer"')
    telegram.fail_next("sendMessage", 500)
    [poll] = await converse(telegram, GROUP, ANNA, POLL)
    assert "Terminabfrage #1" in (poll.text or "")
    assert await shown_in(telegram_bot) == {("telegram", str(GROUP)): str(poll.message_id)}
    await converse(telegram, GROUP, ANNA, "/abfragegast 1 Erika Muster erika@example.org")
    url = bot_pages + await last_link(telegram_bot.core)
    async with http.get(url) as page:
        form = csrf_of(await page.text())
    await http.post(
        url, data={"csrf": form, "option-2": "yes"}, headers=SAME_SITE, allow_redirects=False
    )
    await telegram.wait_until(
        lambda: "✅ Erika Muster" in (poll.text or ""), timeout=10, what="the queued poll, edited"
    )
