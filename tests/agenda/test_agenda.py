"""The agenda (Tagesordnung) through chat commands, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.harness import OTHER_GROUP, Conversation, person

anna, bernd, clara = person("anna"), person("bernd"), person("clara")
MEETING = '/sitzung 15.06.2021 9-12 Uhr "AG-Sitzung Juni" | https://meet.example.org/ag'


@pytest.fixture
async def chat(chat: Conversation) -> Conversation:
    """Bernd is a member too, and Anna has scheduled meeting #1."""
    await chat.say(bernd, "/beitreten")
    await chat.say(anna, MEETING)
    return chat


def _tops(agenda: str) -> list[str]:
    """'TOP n | … | title | presenter' lines, reduced to 'n title'."""
    found = []
    for line in agenda.splitlines():
        if line.lstrip("▶ ").startswith("TOP "):
            cells = [c.strip() for c in line.lstrip("▶ ").split("|")]
            title = next(c for c in cells[1:] if c and not c[0].isdigit())
            found.append(f"{cells[0].removeprefix('TOP ')} {title}")
    return found


async def test_build_an_agenda_with_presenters_times_and_breaks(chat: Conversation) -> None:
    assert _tops(await chat.text(bernd, "/tagesordnung 1")) == ["1 Verschiedenes / nächste Termine"]
    await chat.say(anna, "/tophinzu 1 Begrüßung | @anna | 9:00")
    added = await chat.text(
        anna, "/tophinzu 1 Bericht der Fachgruppe | Dr. Weber (IHK Köln) | 10:30"
    )
    assert "TOP 2 hinzugefügt" in added
    await chat.say(anna, "/pause 1 Mittagspause | 12:00")
    await chat.say(anna, "/pause 1")
    agenda = await chat.text(bernd, "/tagesordnung 1")
    assert "TOP 1 |  9:00 | Begrüßung | Anna" in agenda
    assert "TOP 2 | 10:30 | Bericht der Fachgruppe | Dr. Weber (IHK Köln)" in agenda
    # Breaks keep their time and place but no TOP number, as in the invitations.
    assert "☕     | 12:00 | Mittagspause" in agenda
    assert "☕     |       | Pause" in agenda
    assert "TOP 3 |       | Verschiedenes / nächste Termine" in agenda
    moved = await chat.text(anna, "/topverschieben 1 pause2 1")
    assert "„Pause“ ist jetzt vor TOP 1" in moved
    assert moved.index("☕     |       | Pause") < moved.index("TOP 1 |  9:00 | Begrüßung")
    assert "bleibt immer" in await chat.text(anna, "/topverschieben 1 3 1")
    await chat.say(anna, "/topaendern 1 2 titel Bericht der Fachgruppe Handwerk")
    await chat.say(anna, "/topaendern 1 2 referent @bernd")
    await chat.say(anna, "/topaendern 1 2 zeit 11:00")
    agenda = await chat.text(bernd, "/tagesordnung 1")
    assert "TOP 2 | 11:00 | Bericht der Fachgruppe Handwerk | Bernd" in agenda
    changed = await chat.text(anna, "/topaendern 1 pause2 zeit 12:15")
    assert "☕ Mittagspause geändert" in changed and "☕     | 12:15 | Mittagspause" in changed
    assert "keine Pause 3" in await chat.text(anna, "/topentfernen 1 pause3")
    removed = await chat.text(anna, "/topentfernen 1 pause1")
    assert "Entfernt: ☕" not in removed and "Entfernt: Pause" in removed
    assert _tops(removed) == [
        "1 Begrüßung",
        "2 Bericht der Fachgruppe Handwerk",
        "3 Verschiedenes / nächste Termine",
    ]
    assert "☕     | 12:15 | Mittagspause" in removed


async def test_members_propose_and_chairs_accept_or_reject(chat: Conversation) -> None:
    [proposal] = await chat.say(bernd, "/vorschlagen 1 Erfahrungsaustausch Saarland | @bernd")
    assert "Vorschlag P1 für Sitzung #1: Erfahrungsaustausch Saarland" in proposal.text
    labels = [b.label for row in proposal.buttons for b in row]
    assert labels == ["Annehmen", "Ablehnen"]
    assert "nur Vorsitzende" in await chat.text(bernd, "", callback=proposal.buttons[0][0].data)
    agenda = await chat.text(bernd, "/tagesordnung 1")
    assert "P1 Erfahrungsaustausch Saarland | Bernd – von Bernd, offen" in agenda
    accepted = await chat.text(anna, "", callback=proposal.buttons[0][0].data)
    assert "Vorschlag P1 ist jetzt TOP 1" in accepted
    assert _tops(accepted) == [
        "1 Erfahrungsaustausch Saarland",
        "2 Verschiedenes / nächste Termine",
    ]
    assert "bereits angenommen" in await chat.text(anna, "/annehmen 1 P1")
    await chat.say(bernd, "/vorschlagen 1 Grillfest")
    rejected = await chat.text(anna, "/ablehnen 1 P2")
    assert "Vorschlag P2 wurde abgelehnt: Grillfest" in rejected
    assert "P2 Grillfest – von Bernd, abgelehnt" in await chat.text(bernd, "/tagesordnung 1")
    assert "keinen Vorschlag P7" in await chat.text(anna, "/annehmen 1 P7")


async def test_bad_agenda_input_gets_helpful_answers(chat: Conversation) -> None:
    assert "nur Vorsitzende" in await chat.text(bernd, "/tophinzu 1 Mein Punkt")
    assert "Titel" in await chat.text(anna, "/tophinzu 1 | @anna")
    assert "@nobody kenne ich" in await chat.text(anna, "/tophinzu 1 Punkt | @nobody")
    assert "höchstens" in await chat.text(anna, "/tophinzu 1 a | b | 9:00 | d")
    assert "keinen TOP 9" in await chat.text(anna, "/topentfernen 1 9")
    assert "keine Sitzung #4" in await chat.text(anna, "/tagesordnung 4")
    assert "Zahl" in await chat.text(anna, "/topverschieben 1 1 oben")
    assert "25:99" in await chat.text(anna, "/topaendern 1 1 zeit 25:99")
    await chat.say(anna, "/absagen 1")
    assert "abgesagt" in await chat.text(anna, "/tophinzu 1 Zu spät")


async def test_english_group_gets_the_english_last_item(chat: Conversation) -> None:
    await chat.say(anna, "/sprache en")
    await chat.say(anna, "/meeting 17.06.2021 9:00-10:00 Check-in")
    agenda = await chat.text(bernd, "/agenda 2")
    assert "Agenda of #2 Check-in" in agenda
    assert "TOP 1 | Any other business / next dates" in agenda


async def test_another_group_cannot_read_or_change_our_agenda(chat: Conversation) -> None:
    await chat.say(anna, "/tophinzu 1 Vertraulich")
    chat.platform.admins.add((OTHER_GROUP.chat_id, clara.user_id))
    await chat.say(clara, '/registrieren ag "AG Qualität"', OTHER_GROUP)
    for command in (
        "/tagesordnung 1",
        "/tophinzu 1 Fremd",
        "/vorschlagen 1 Fremd",
        "/annehmen 1 P1",
        "/topentfernen 1 1",
        "/topverschieben 1 1 2",
        "/topaendern 1 1 titel Fremd",
        "/vertagen 1 1",
        "/sitzunginfo 1",
        "/sitzungaendern 1 titel Fremd",
    ):
        answer = await chat.text(clara, command, OTHER_GROUP)
        assert "keine Sitzung #1" in answer, command
        assert "Vertraulich" not in answer
    assert _tops(await chat.text(bernd, "/tagesordnung 1")) == [
        "1 Vertraulich",
        "2 Verschiedenes / nächste Termine",
    ]


async def test_a_carried_over_top_returns_on_the_next_agenda(chat: Conversation) -> None:
    await chat.say(anna, "/tophinzu 1 Weiterbildungskonzept | @bernd")
    assert "Protokoll" in await chat.text(bernd, "/vertagen 1 1")  # minute-takers and chairs
    marked = await chat.text(anna, "/vertagen 1 1")
    assert "wird in der nächsten Sitzung wieder aufgenommen" in marked
    assert "TOP 1 | Weiterbildungskonzept | Bernd ↻" in await chat.text(bernd, "/tagesordnung 1")
    await chat.say(anna, "/sitzung 29.06.2021 9-12 Uhr AG-Sitzung Juli")
    assert _tops(await chat.text(bernd, "/tagesordnung 2")) == [
        "1 Weiterbildungskonzept",
        "2 Verschiedenes / nächste Termine",
    ]
