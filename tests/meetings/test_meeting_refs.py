"""Every command that refers to a meeting takes "#1" and a bare "1" (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.harness import Conversation, person

anna, bernd, clara = person("anna"), person("bernd"), person("clara")

# (who, command with {m} for the meeting reference, what the answer shows)
STEPS = [
    ("anna", "/sitzunginfo {m}", "AG-Sitzung"),
    ("anna", "/tagesordnung {m}", "Verschiedenes"),
    ("anna", "/tophinzu {m} Bericht | 9:00", "TOP 1"),
    ("anna", "/pause {m} Mittagspause | 12:00", "Mittagspause"),
    ("anna", "/topaendern {m} 1 zeit 9:15", "9:15"),
    ("clara", "/vorschlagen {m} Thema", "P1"),
    ("anna", "/annehmen {m} P1", "TOP 2"),
    ("anna", "/topverschieben {m} 2 1", "TOP 1"),
    ("anna", "/topentfernen {m} 1", "Entfernt"),
    ("bernd", "/zusage {m} ja", "1 ja"),
    ("bernd", "/einladung {m}", "private Nachricht"),
    ("bernd", "/top {m} 1", "TOP 1: Bericht"),
    ("bernd", "/notiz {m} Alles gut.", "TOP 1"),
    ("bernd", "/notizen {m}", "Alles gut."),
    ("bernd", "/anwesend {m} @anna @bernd", "Anna, Bernd"),
    ("bernd", "/abwesend {m} @anna", "Anna"),
    ("bernd", "/anwesenheit {m}", "Bernd"),
    ("bernd", "/beschluss {m} einstimmig Der Leitfaden gilt.", "für #1"),
    ("bernd", "/aufgabe {m} @clara: Leitfaden senden", "A-1"),
    ("anna", "/vertagen {m} 1", "nächsten Sitzung"),
    ("anna", "/sitzungaendern {m} ort IHK Köln", "IHK Köln"),
    ("clara", "/protokoll {m}", "# Protokoll: AG-Sitzung"),
]


@pytest.fixture
async def chat(chat: Conversation) -> Conversation:
    """Meeting #1 on 15.06.2021 – no meeting today (10.06.); Bernd takes the minutes."""
    for who in (bernd, clara):
        await chat.say(who, "/beitreten")
    await chat.say(anna, "/rolle protokoll @bernd")
    await chat.say(anna, '/sitzung 15.06.2021 9-12 Uhr "AG-Sitzung"')
    return chat


@pytest.mark.parametrize("ref", ["#1", "1"])
async def test_meeting_commands_take_hash_and_bare_numbers(
    chat: Conversation, core, ref: str
) -> None:
    for who, command, expected in STEPS:
        answer = await chat.text(person(who), command.format(m=ref))
        assert expected in answer, (command.format(m=ref), answer)
    # a vote "1:0:0" is no meeting number, even on a day without a meeting
    assert "Heute ist keine Sitzung" in await chat.text(bernd, "/beschluss 1:0:0 Text")
    core.services.clock.advance(timedelta(days=6))  # after the start
    for who, command, expected in [
        ("anna", "/protokollentwurf {m}", "Einspruch bis"),
        ("clara", "/einspruch {m} Fehlt etwas.", "festgehalten"),
        ("anna", "/einsprueche {m}", "Fehlt etwas."),
    ]:
        answer = await chat.text(person(who), command.format(m=ref))
        assert expected in answer, (command.format(m=ref), answer)


async def test_a_bare_number_stays_text_on_a_meeting_day(chat: Conversation, core) -> None:
    await chat.say(anna, '/sitzung 10.06.2021 10:30-12 Uhr "Heute"')  # meeting #2 today
    await chat.say(anna, "/tophinzu 2 Bericht")
    await chat.say(bernd, "/top 1")
    assert "TOP 1" in await chat.text(bernd, "/notiz 1 Betrieb macht mit.")
    notes = await chat.text(bernd, "/notizen 2")
    assert "1 Betrieb macht mit." in notes
    assert "#2: 58 Teilnehmende" in await chat.text(bernd, "/anwesend 58 Teilnehmende")
