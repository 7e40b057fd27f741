"""Breaks are no TOPs: seven TOPs with two breaks are TOP 1–7 in the agenda, the invitation,
the minutes and every reply, and "/top weiter" steps over a break (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64

import icalendar
import pytest

from tests.harness import Conversation, dm, outbox_rows, person

anna, bernd = person("anna"), person("bernd")


@pytest.fixture
async def chat(chat: Conversation) -> Conversation:
    """Meeting #1 today 10:30–16:00 (the clock stands at 10:00): TOP 1, a lunch break,
    TOP 2, a coffee break, TOP 3, then "Verschiedenes" (TOP 4)."""
    await chat.say(bernd, "/beitreten")
    await chat.say(anna, "/rolle protokoll @bernd")
    await chat.say(anna, '/sitzung 10.06.2021 10:30-16 Uhr "AG-Sitzung"')
    for line in [
        "/tophinzu 1 Begrüßung | @anna | 10:30",
        "/pause 1 Mittagspause | 12:15",
        "/tophinzu 1 Checks für KMU | Dr. Weber (IHK Köln) | 13:15",
        "/pause 1 Pause | 14:45",
        "/tophinzu 1 Weiterbildung | 15:00",
    ]:
        await chat.say(anna, line)
    return chat


async def test_top_next_skips_breaks_and_decisions_keep_the_invited_numbers(
    chat: Conversation, core
) -> None:
    assert "TOP 1: Begrüßung" in await chat.text(bernd, "/top weiter")
    assert "TOP 2: Checks für KMU" in await chat.text(bernd, "/top weiter")
    recorded = await chat.text(bernd, "/beschluss einstimmig Die Checks werden ausgeweitet.")
    assert "TOP 2 Checks für KMU" in recorded
    assert "TOP 3: Weiterbildung" in await chat.text(bernd, "/top weiter")
    await chat.say(bernd, "/notiz Konzept bis Herbst.")
    assert "TOP 4: Verschiedenes" in await chat.text(bernd, "/top weiter")
    assert "letzte Punkt" in await chat.text(bernd, "/top weiter")
    assert "Pause: Mittagspause" in await chat.text(bernd, "/top pause1")
    shown = await chat.text(bernd, "/beschluesse B-2021-01")
    assert "TOP 2 Checks für KMU" in shown
    notes = await chat.text(bernd, "/notizen")
    assert "TOP 3 Weiterbildung" in notes
    minutes = await chat.text(bernd, "/protokoll 1")
    for row in [
        "| 1 | Begrüßung | Anna | 10:30 |",
        "|  | Mittagspause |  | 12:15 |",
        "| 2 | Checks für KMU | Dr. Weber (IHK Köln) | 13:15 |",
        "|  | Pause |  | 14:45 |",
        "| 3 | Weiterbildung |  | 15:00 |",
        "| 4 | Verschiedenes / nächste Termine |  |  |",
        "## TOP 2: Checks für KMU",
        "## TOP 3: Weiterbildung",
    ]:
        assert row in minutes, row
    assert "## TOP 5" not in minutes and "## Mittagspause" not in minutes


async def test_the_invitation_numbers_the_tops_without_the_breaks(chat: Conversation, core) -> None:
    await chat.say(bernd, "/start", dm(bernd))
    await chat.say(bernd, "/einladung 1")  # the current version, with the agenda
    *_, row = [r for r in await outbox_rows(core, "meeting_invitation") if r.chat_id == "bernd"]
    calendar = icalendar.Calendar.from_ical(
        base64.b64decode(row.payload["document"]["content_b64"])
    )
    description = str(calendar.walk("VEVENT")[0]["DESCRIPTION"])
    assert "TOP 2 | 13:15 | Checks für KMU" in description
    assert "☕ | 12:15 | ☕ Mittagspause" in description
    assert "TOP 4 | Verschiedenes / nächste Termine" in description
    assert "TOP 5" not in description
