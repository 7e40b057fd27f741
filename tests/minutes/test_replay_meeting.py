"""A complete meeting replayed from the date poll to approved minutes, the way a Fachgruppe
would run it; the generated Markdown is compared with tests/minutes/expected/replay-minutes.md
character by character (German quotation marks, en dashes, umlauts and ß included)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import icalendar

from bot.app import Core
from bot.core.clock import FixedClock
from tests.harness import GROUP, Conversation, dm, outbox_rows, person

EXPECTED = Path(__file__).parent / "expected" / "replay-minutes.md"
anna, bernd, clara, dora = person("anna"), person("bernd"), person("clara"), person("dora")

BEFORE = [  # Thu 10.06.2021 10:00 Berlin
    (anna, "/registrieren ag „AG Qualitätssicherung“"),
    (bernd, "/beitreten"),
    (clara, "/beitreten"),
    (dora, "/beitreten"),
    (anna, "/rolle protokoll @bernd"),
    (anna, "/terminabfrage „Sitzung im Juni“ 22.06. 9–15 Uhr; 24.06. 13–17 Uhr notfalls"),
    (bernd, "/abstimmen 1 ja 2 nein"),
    (clara, "/abstimmen 1 ja 2 notfalls"),
    (dora, "/abstimmen 1 notfalls 2 ja"),
    (anna, "/abfrageende 1"),
    (anna, "/terminwahl 1 1"),
    (anna, "/sitzungaendern 1 ort https://zoom.example.org/j/123"),
    (anna, "/sitzung 08.07.2021 9–10 Uhr Jour fixe"),
    (anna, "/tophinzu 1 Begrüßung und Tagesordnung | @anna | 9:00"),
    (anna, "/tophinzu 1 Konzept „Digital Mentor“ | Dr. Weber (IHK Köln) | 9:15"),
    (anna, "/pause 1 Mittagspause | 12:15"),
    (anna, "/tophinzu 1 Qualitätsstandards für Beratungsbögen | @clara | 13:00"),
    (anna, "/pause 1 Pause | 14:30"),
    (bernd, "/zusage 1 ja"),
    (clara, "/zusage 1 ja"),
]
DURING = [  # Tue 22.06.2021, from 9:05
    (bernd, "/anwesend alle mit Zusage @anna"),
    (bernd, "/anwesend Dr. Weber, IHK Köln; Lena Roth, Handwerkskammer Saarland"),
    (bernd, "/anwesend Gäste: Jürgen Groß (Stiftung)"),
    (bernd, "/top weiter"),
    (bernd, "/notiz Anna begrüßt die Teilnehmenden; die Tagesordnung wird angenommen."),
    (bernd, "/top weiter"),
    (clara, "/notiz Das Konzept „Digital Mentor“ wurde in 12 Betrieben erprobt."),
    (
        bernd,
        "/beschluss einstimmig Die AG empfiehlt dem Strategiekreis, das Konzept "
        "„Digital Mentor“ bundesweit einzuführen.",
    ),
    (bernd, "/top weiter"),
    (bernd, "/notiz Die Bögen sollen vor dem 15.09. überarbeitet sein."),
    (bernd, "/beschluss Auftrag an AG Transfer: Drehbuch für die Schulung erstellen"),
    (bernd, "/aufgabe @clara, Lena Roth: Bögen überarbeiten bis 15.09.2021"),
    (bernd, "/vertagen 1 3"),
    (bernd, "/top weiter"),
    (bernd, "/notiz Nächste Sitzung als Videokonferenz."),
]
AFTER = [  # the day after
    (anna, "/protokollentwurf 1 0"),
    (anna, "/protokollgenehmigen 1"),
]


async def replay(chat: Conversation, clock: FixedClock, steps, at: datetime) -> None:
    clock.set(at)
    for who, text in steps:
        replies = await chat.say(who, text)
        assert replies, text
        for reply in replies:
            assert "schiefgegangen" not in reply.text and "nicht verstanden" not in reply.text, (
                text,
                reply.text,
            )


async def test_a_whole_meeting_from_the_poll_to_approved_minutes(core: Core) -> None:
    clock: FixedClock = core.services.clock  # type: ignore[assignment]
    chat = Conversation(core, admins=[(GROUP, anna)])
    for who in (anna, bernd, clara, dora):
        await chat.say(who, "/start", dm(who))
    await replay(chat, clock, BEFORE, datetime(2021, 6, 10, 8, 0, tzinfo=UTC))
    # the poll's pick invited everyone, in the first version of the meeting
    invitations = await outbox_rows(core, "meeting_invitation")
    first = [r for r in invitations if r.payload["text"].startswith("Einladung: Sitzung im Juni")]
    assert sorted(r.chat_id for r in first) == ["anna", "bernd", "clara", "dora"]
    event = icalendar.Calendar.from_ical(
        base64.b64decode(first[0].payload["document"]["content_b64"])
    ).walk("VEVENT")[0]
    assert event["SEQUENCE"] == 0 and str(event["SUMMARY"]) == "Sitzung im Juni"
    await replay(chat, clock, DURING, datetime(2021, 6, 22, 7, 5, tzinfo=UTC))
    await replay(chat, clock, AFTER, datetime(2021, 6, 23, 8, 0, tzinfo=UTC))
    text, markdown, _, _ = await chat.say(clara, "/protokoll 1")
    assert markdown.document.filename == "Protokoll-AG-Qualitaetssicherung-2021-06-22.md"
    assert markdown.document.content.decode() == text.text
    assert text.text == EXPECTED.read_text(encoding="utf-8")
