"""During a meeting: current TOP, notes, attendance; editing and showing one meeting."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from storage.models import Meeting
from tests.harness import OTHER_GROUP, Conversation, person

anna, bernd, clara, dora, emil = (person(n) for n in ("anna", "bernd", "clara", "dora", "emil"))


@pytest.fixture
async def chat(chat: Conversation) -> Conversation:
    """Bernd, Clara and Dora are members, Clara takes the minutes; today's meeting #1 has
    two TOPs."""
    # the clock stands at Thu 10.06.2021 10:00 Berlin
    for member in (bernd, clara, dora):
        await chat.say(member, "/beitreten")
    await chat.say(anna, "/rolle protokoll @clara")
    await chat.say(
        anna, '/sitzung 10.06.2021 10:30-12 Uhr "AG-Sitzung" | https://meet.example.org/ag'
    )
    await chat.say(anna, "/tophinzu 1 Begrüßung | @anna")
    await chat.say(anna, "/tophinzu 1 Bericht der Fachgruppe | Dr. Weber (IHK Köln)")
    return chat


async def test_minute_taker_moves_through_the_tops_and_notes_attach(
    chat: Conversation, core
) -> None:
    assert "Protokoll" in await chat.text(bernd, "/top 1")  # members may not
    assert "Jetzt TOP 1: Begrüßung (Sitzung #1)" in await chat.text(clara, "/top 1")
    assert "Notiz zu TOP 1 gespeichert" in await chat.text(bernd, "/notiz Alle werden begrüßt.")
    assert "Jetzt TOP 2: Bericht der Fachgruppe" in await chat.text(clara, "/top weiter")
    await chat.say(clara, "/notiz Die AG begrüßt den Bericht.")
    await chat.say(clara, "/top next")
    assert "letzte Punkt" in await chat.text(clara, "/top weiter")
    assert "keinen TOP 9" in await chat.text(clara, "/top 9")
    assert "▶ TOP 3" in await chat.text(bernd, "/tagesordnung 1")
    notes = await chat.text(bernd, "/notizen")
    assert notes.index("TOP 1 Begrüßung") < notes.index("• Alle werden begrüßt. (Bernd)")
    assert notes.index("TOP 2 Bericht der Fachgruppe") < notes.index(
        "• Die AG begrüßt den Bericht. (Clara)"
    )
    assert "TOP 3" not in notes
    # two days later there is no meeting "today"; naming it still works
    core.services.clock.advance(timedelta(days=2))
    assert "Heute ist keine Sitzung" in await chat.text(bernd, "/notiz Nachtrag")
    assert "Notiz zu TOP 3" in await chat.text(bernd, "/notiz #1 Nachtrag")
    assert "Nachtrag (Bernd)" in await chat.text(bernd, "/notizen 1")


async def test_attendance_by_mention_rsvp_count_and_guests(chat: Conversation) -> None:
    await chat.say(bernd, "/zusage 1 ja")
    await chat.say(dora, "/zusage 1 ja")
    await chat.say(clara, "/zusage 1 nein")
    assert "Protokoll" in await chat.text(bernd, "/anwesend @bernd")
    recorded = await chat.text(clara, "/anwesend alle mit Zusage")
    assert "Als anwesend eingetragen: Bernd, Dora" in recorded
    recorded = await chat.text(
        clara, "/anwesend @anna @bernd Gäste: Dr. Weber (IHK Köln), Lena Roth (HWK, Kammer)"
    )
    assert "Als anwesend eingetragen: Anna, Dr. Weber (IHK Köln), Lena Roth (HWK, Kammer)" in (
        recorded
    )
    shown = await chat.text(bernd, "/anwesenheit")
    assert "Anwesend: 5 Teilnehmende" in shown
    assert shown.index("• Bernd") < shown.index("Gäste:") < shown.index("• Lena Roth (HWK, Kammer)")
    removed = await chat.text(clara, "/abwesend @dora")
    assert "Von der Liste genommen: Dora" in removed and "• Dora" not in removed
    assert "steht nicht auf der Liste" in await chat.text(clara, "/abwesend Herr Niemand")
    assert "58 Teilnehmende eingetragen" in await chat.text(clara, "/anwesend 58 Teilnehmende")
    assert "Anwesend: 58 Teilnehmende" in await chat.text(bernd, "/anwesenheit #1")
    assert "nicht verstanden" in await chat.text(clara, "/anwesend irgendwer")
    assert "@nobody kenne ich" in await chat.text(clara, "/anwesend @nobody")
    full = await chat.text(bernd, "/sitzunginfo 1")
    assert "Videokonferenz: https://meet.example.org/ag" in full
    assert "Antworten: 2 ja, 0 vielleicht, 1 nein" in full
    assert "TOP 2 | Bericht der Fachgruppe | Dr. Weber (IHK Köln)" in full
    assert "Anwesend: 58 Teilnehmende" in full


async def test_edit_a_meeting_keeps_everything_and_bumps_the_sequence(
    chat: Conversation, core
) -> None:
    await chat.say(bernd, "/zusage 1 ja")
    changed = await chat.text(anna, "/sitzungaendern 1 titel AG-Sitzung Juni")
    assert "Sitzung geändert:\n#1 AG-Sitzung Juni" in changed
    await chat.say(anna, "/sitzungaendern 1 ort Raum 2.14, Haus der Wirtschaft")
    moved = await chat.text(anna, "/sitzungaendern 1 zeit 17.06.2021 9-11 Uhr")
    assert "#1 AG-Sitzung Juni – Do, 17.06.2021, 9:00–11:00 Uhr" in moved
    await chat.say(anna, "/sitzungaendern 1 beschreibung Bitte Folien vorab senden.")
    full = await chat.text(bernd, "/sitzunginfo 1")
    assert "Ort: Raum 2.14, Haus der Wirtschaft" in full
    assert "Bitte Folien vorab senden." in full
    assert "1 ja" in full and "Begrüßung" in full  # replies and agenda stay attached
    async with core.services.sessions() as session:
        meeting = await session.scalar(select(Meeting))
    assert meeting.sequence == 4 and meeting.updated_at == core.services.clock.now()
    assert "nur Vorsitzende" in await chat.text(bernd, "/sitzungaendern 1 titel X")
    assert "vorbei" in await chat.text(anna, "/sitzungaendern 1 zeit 01.06.2021 9 Uhr")
    assert "Titel" in await chat.text(anna, "/sitzungaendern 1 titel")
    assert "Aufruf" in await chat.text(anna, "/sitzungaendern 1 farbe rot")


async def test_another_group_cannot_touch_the_running_meeting(chat: Conversation) -> None:
    await chat.say(clara, "/top 1")
    await chat.say(bernd, "/notiz Intern")
    chat.platform.admins.add((OTHER_GROUP.chat_id, emil.user_id))
    await chat.say(emil, '/registrieren ag "AG Qualität"', OTHER_GROUP)
    for command in (
        "/notiz #1 Fremd",
        "/notizen #1",
        "/top #1 2",
        "/anwesend #1 58",
        "/anwesenheit #1",
        "/abwesend #1 @bernd",
    ):
        answer = await chat.text(emil, command, OTHER_GROUP)
        assert "keine Sitzung #1" in answer, command
    # without a number: the other group has no meeting today, ours stays invisible
    for command in ("/notiz Fremd", "/notizen", "/top 2", "/anwesend 58", "/anwesenheit"):
        answer = await chat.text(emil, command, OTHER_GROUP)
        assert "Heute ist keine Sitzung" in answer, command
        assert "Intern" not in answer
    notes = await chat.text(bernd, "/notizen")
    assert "Intern" in notes and "Fremd" not in notes
    assert "Anwesend" not in await chat.text(bernd, "/sitzunginfo 1")


async def test_every_change_reaches_the_groups_other_chats(chat: Conversation, core) -> None:
    from bot.core.messages import ChatKind, ChatRef, UserRef
    from storage.models import OutboxMessage
    from tests.harness import FakePlatform

    room = ChatRef("other", "!room:example.org", ChatKind.GROUP, "AG Transfer (Matrix)")
    dora_mx = UserRef("other", "@dora:example.org", "Dora", username="@dora:example.org")
    matrix = Conversation(core, FakePlatform(name="other", command_prefix="!"))
    matrix.platform.admins.add((room.chat_id, dora_mx.user_id))
    linked = await chat.text(anna, "/verknuepfen")
    code = re.search(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b", linked).group(1)  # type: ignore[union-attr]
    assert "gehört jetzt zu" in await matrix.text(dora_mx, f"!verknuepfen {code}", room)
    # two edits within the same second are two announcements, not one
    await chat.say(anna, "/sitzungaendern 1 titel Erste Fassung")
    await chat.say(anna, "/sitzungaendern 1 titel Zweite Fassung")
    async with core.services.sessions() as session:
        texts = [
            row.payload["text"]
            for row in await session.scalars(
                select(OutboxMessage).where(OutboxMessage.chat_id == room.chat_id)
            )
        ]
    assert any("Erste Fassung" in t for t in texts)
    assert any("Zweite Fassung" in t for t in texts)


async def test_the_data_export_contains_what_meetings_hold_about_a_person(
    chat: Conversation,
) -> None:
    import json

    from tests.harness import dm

    await chat.say(bernd, "/zusage 1 ja")
    await chat.say(bernd, "/vorschlagen 1 Erfahrungsaustausch | @bernd")
    await chat.say(clara, "/top 1")
    await chat.say(bernd, "/notiz Meine Anmerkung")
    await chat.say(clara, "/anwesend @bernd")
    await chat.say(bernd, "/start", dm(bernd))
    [export] = await chat.say(bernd, "/meinedaten", dm(bernd))
    data = json.loads(export.document.content)
    assert data["meeting_replies"][0]["answer"] == "yes"
    assert data["meeting_replies"][0]["meeting"] == "AG-Sitzung"
    assert len(data["meeting_attendance"]) == 1
    assert data["meeting_notes"][0]["text"] == "Meine Anmerkung"
    assert data["agenda_items"] == [
        {
            "meeting": "AG-Sitzung",
            "starts_at": "2021-06-10T08:30:00+00:00",
            "title": "Erfahrungsaustausch",
            "presenter": True,
            "proposed": True,
        }
    ]


async def test_erasing_a_person_removes_their_name_from_agendas_and_lists(
    chat: Conversation, core
) -> None:
    from tests.harness import dm

    await chat.say(anna, "/tophinzu 1 Bericht | @bernd")
    await chat.say(clara, "/anwesend @bernd")
    await chat.say(bernd, "/notiz Meine Anmerkung")
    await chat.say(bernd, "/start", dm(bernd))
    [question] = await chat.say(bernd, "/datenloeschen", dm(bernd))
    await chat.say(bernd, "", dm(bernd), callback=question.buttons[0][0].data)
    agenda = await chat.text(anna, "/tagesordnung 1")
    assert "TOP 3 | Bericht" in agenda and "Bernd" not in agenda
    assert "Bernd" not in await chat.text(anna, "/anwesenheit")
    notes = await chat.text(anna, "/notizen")
    assert "• Meine Anmerkung\n" in notes + "\n" and "Bernd" not in notes


async def test_english_meeting_work(chat: Conversation) -> None:
    await chat.say(anna, "/language en")
    await chat.say(bernd, "/rsvp 1 yes")
    assert "Now TOP 2: Bericht der Fachgruppe" in await chat.text(clara, "/item 2")
    assert "Note saved for TOP 2." in await chat.text(bernd, "/note Good progress")
    recorded = await chat.text(clara, "/present all who said yes Guests: Dr. Weber (IHK Köln)")
    assert "Recorded as present: Bernd, Dr. Weber (IHK Köln)" in recorded
    shown = await chat.text(bernd, "/attendance")
    assert "Attendance: 2 participants" in shown and "Guests:" in shown
    assert "• Good progress (Bernd)" in await chat.text(bernd, "/notes")
    full = await chat.text(bernd, "/showmeeting 1")
    assert "Video conference: https://meet.example.org/ag" in full
    assert "TOP 3 | Verschiedenes / nächste Termine" in full  # created while German
    assert "There is no meeting #9" in await chat.text(bernd, "/showmeeting 9")
