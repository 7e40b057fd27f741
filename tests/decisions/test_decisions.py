"""Decisions and action items through the dispatcher (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from storage import agenda
from storage.models import Decision, Meeting
from tests.harness import OTHER_GROUP, Conversation, dm, person

anna, bernd, clara, dora = person("anna"), person("bernd"), person("clara"), person("dora")


@pytest.fixture
async def chat(chat: Conversation) -> Conversation:
    """AG Transfer: anna chairs, bernd takes minutes, clara is a member; a meeting runs."""
    for who in (bernd, clara):
        await chat.say(who, "/beitreten")
    await chat.say(anna, "/rolle protokoll @bernd")
    # the clock stands at 10.06.2021 10:00 Berlin
    await chat.say(anna, "/sitzung 10.06.2021 10:30-12 Uhr Juni-Sitzung")
    return chat


async def add_tops(core, titles: list[str], current: int | None = None) -> None:
    """TOPs through the agenda storage the meetings commands use; TOP `current` is current."""
    async with core.services.sessions() as session:
        meeting = await session.scalar(select(Meeting).where(Meeting.number == 1))
        items = [
            await agenda.add_item(
                session, meeting, title=title, now=datetime(2021, 6, 1, tzinfo=UTC)
            )
            for title in titles
        ]
        if current is not None:
            meeting.current_agenda_item_id = items[current - 1].id
        await session.commit()


async def test_record_numbered_per_year_linked_to_current_top(chat: Conversation, core) -> None:
    await add_tops(core, ["Begrüßung", "Checks"], current=2)
    first = await chat.text(bernd, "/beschluss einstimmig Die AG beschließt den Leitfaden.")
    assert "B-2021-01" in first and "TOP 2 Checks" in first and "einstimmig" in first
    second = await chat.text(
        bernd, "/beschluss 12:0:1 Empfehlung an Strategiekreis: Die Checks werden ausgeweitet."
    )
    assert "B-2021-02 Empfehlung an Strategiekreis" in second
    assert "12 dafür, 0 dagegen, 1 Enthaltung" in second
    third = await chat.text(
        bernd, "/beschluss dafür 9 dagegen 2 Enthaltung 0 Auftrag an AG Qualitätssicherung: Bögen"
    )
    assert "B-2021-03 Auftrag an AG Qualitätssicherung (9 dafür, 2 dagegen" in third
    async with core.services.sessions() as session:
        rows = list(await session.scalars(select(Decision).order_by(Decision.number)))
    assert [(d.year, d.number, d.kind) for d in rows] == [
        (2021, 1, "decision"),
        (2021, 2, "recommendation"),
        (2021, 3, "assignment"),
    ]
    assert all(d.agenda_item_id == rows[0].agenda_item_id is not None for d in rows)
    # A meeting next year starts a new series of numbers.
    await chat.say(anna, "/sitzung 14.01.2022 9-10 Uhr Januar")
    assert "B-2022-01" in await chat.text(bernd, "/beschluss #2 Info: Neues Jahr")


async def test_list_search_and_show(chat: Conversation, core) -> None:
    await add_tops(core, ["Begrüßung", "Checks"], current=1)
    await chat.say(bernd, "/beschluss einstimmig Der Leitfaden Digitalisierung wird beschlossen.")
    await chat.say(bernd, "/beschluss Die AG empfiehlt dem Strategiekreis, Checks auszuweiten.")
    listed = await chat.text(clara, "/beschluesse")
    assert listed.index("B-2021-02") < listed.index("B-2021-01")  # newest first
    found = await chat.text(clara, "/beschluesse strategiekreis CHECKS")
    assert "B-2021-02" in found and "B-2021-01" not in found
    assert "Kein Beschluss enthält" in await chat.text(clara, "/beschluesse 100%_x")
    await chat.say(bernd, "/beschluss Info: Die Übergabe an die ÖFFENTLICHKEIT folgt.")
    umlauts = await chat.text(clara, "/beschluesse übergabe öffentlichkeit")
    assert "B-2021-03" in umlauts and "B-2021-01" not in umlauts
    assert "B-2021-02" in await chat.text(bernd, "/beschluss B-2021-02")  # shows, not records
    shown = await chat.text(clara, "/beschluesse B-2021-1")
    assert "B-2021-01" in shown and "#1 Juni-Sitzung" in shown and "TOP 1 Begrüßung" in shown


async def test_frozen_after_approval_amendment_instead(chat: Conversation, core) -> None:
    await chat.say(bernd, "/beschluss einstimmig Die Frist ist der 30.06.")
    changed = await chat.text(bernd, "/beschlussaendern B-2021-01 12:0:0 Die Frist ist der 31.07.")
    assert "31.07." in changed and "12 dafür" in changed
    core.services.clock.advance(timedelta(minutes=30))  # drafts wait for the start
    await chat.say(anna, "/protokollentwurf 1")
    await chat.say(anna, "/protokollgenehmigen 1 sofort")
    refused = await chat.text(bernd, "/beschlussaendern B-2021-01 einstimmig Anders")
    assert "nicht mehr geändert" in refused and "/aenderungsbeschluss B-2021-01" in refused
    assert "kann nichts mehr" in await chat.text(bernd, "/beschluss #1 Nachtrag")
    await chat.say(anna, "/sitzung 17.06.2021 9-10 Uhr Folgesitzung")
    amended = await chat.text(
        bernd, "/aenderungsbeschluss B-2021-01 #2 einstimmig Die Frist ist der 31.08."
    )
    assert "B-2021-02" in amended and "B-2021-01" in amended
    shown = await chat.text(clara, "/beschluesse B-2021-01")
    assert "Die Frist ist der 31.07." in shown and "Geändert durch: B-2021-02" in shown
    assert "endgültig" in shown.lower()


async def test_decision_errors_are_helpful(chat: Conversation, core) -> None:
    assert "nur Protokollführende" in await chat.text(clara, "/beschluss einstimmig Text")
    assert "Text des Beschlusses" in await chat.text(bernd, "/beschluss einstimmig")
    assert "Es fehlt noch" in await chat.text(bernd, "/beschluss")
    assert "höchstens" in await chat.text(bernd, "/beschluss 99999999999999999999:0:0 Text")
    assert "keine Sitzung #9" in await chat.text(bernd, "/beschluss #9 Text")
    await chat.say(anna, "/sitzung 17.06.2021 9 Uhr Fällt aus")
    await chat.say(anna, "/absagen 2")
    assert "abgesagt" in await chat.text(bernd, "/beschluss #2 Text")
    assert "abgesagt" in await chat.text(bernd, "/aufgabe #2 Anna: Text")
    assert "keinen Beschluss B-2021-05" in await chat.text(bernd, "/beschluesse B-2021-05")
    core.services.clock.advance(timedelta(days=3))  # the meeting is long over
    assert "Heute ist keine Sitzung" in await chat.text(bernd, "/beschluss Text")


async def test_action_items(chat: Conversation, core) -> None:
    await add_tops(core, ["Begrüßung", "Bögen"], current=2)
    await chat.say(clara, "/start", dm(clara))
    await chat.say(bernd, "/beschluss einstimmig Bögen werden gesammelt.")
    recorded = await chat.text(
        bernd, "/aufgabe @clara, Handwerkskammer Köln: Bögen an Anna senden bis 15.06. zu B-2021-01"
    )
    assert "A-1 Clara, Handwerkskammer Köln: Bögen an Anna senden" in recorded
    assert "fällig 15.06.2021 (zu B-2021-01)" in recorded and "TOP 2 Bögen" in recorded
    await chat.say(bernd, "/aufgabe Anna: Termin koordinieren")
    assert "@niemand" in await chat.text(bernd, "/aufgabe @niemand: x")
    assert "Kalender" in await chat.text(bernd, "/aufgabe Anna: x bis 31.02.2021")
    assert "wer es tut" in await chat.text(bernd, "/aufgabe Termin koordinieren")
    listed = await chat.text(clara, "/aufgaben")
    assert "A-1" in listed and "A-2" in listed
    assert "Keine Aufgabe ist überfällig" in await chat.text(clara, "/aufgaben ueberfaellig")
    core.services.clock.advance(timedelta(days=7))
    overdue = await chat.text(clara, "/aufgaben ueberfaellig")
    assert "A-1" in overdue and "A-2" not in overdue and "überfällig" in overdue
    mine = await chat.text(clara, "/meineaufgaben", dm(clara))
    assert "AG Transfer: A-1" in mine and "A-2" not in mine
    # Only assignees and chairs change the status.
    assert "Nur die Zuständigen" in await chat.text(bernd, "/erledigt A-1")
    assert "erledigt" in await chat.text(clara, "/erledigt A-1")
    assert "verworfen" in await chat.text(anna, "/aufgabenstatus A-2 verworfen")
    assert "Keine offenen Aufgaben" in await chat.text(clara, "/aufgaben")
    assert "A-1" in await chat.text(clara, "/aufgaben alle")
    assert "keine offenen Aufgaben" in await chat.text(clara, "/meineaufgaben", dm(clara))


async def test_another_group_cannot_read_or_change_anything(chat: Conversation, core) -> None:
    await chat.say(bernd, "/beschluss einstimmig Geheimer Beschluss")
    await chat.say(bernd, "/aufgabe @clara: Geheime Aufgabe")
    await chat.say(anna, "/sitzung 17.06.2021 9-10 Uhr Geheime Folgesitzung")  # our #2
    chat.platform.admins.add((OTHER_GROUP.chat_id, dora.user_id))
    await chat.say(dora, '/registrieren ag "AG Qualität"', OTHER_GROUP)
    await chat.say(dora, "/sitzung 10.06.2021 10:30-12 Uhr Eigene", OTHER_GROUP)

    async def other(text: str) -> str:
        return await chat.text(dora, text, OTHER_GROUP)

    assert "Geheim" not in await other("/beschluesse")
    assert "Kein Beschluss enthält" in await other("/beschluesse Geheim")
    assert "keinen Beschluss B-2021-01" in await other("/beschluesse B-2021-01")
    assert "keinen Beschluss" in await other("/beschlussaendern B-2021-01 einstimmig Gehackt")
    assert "keinen Beschluss" in await other("/aenderungsbeschluss B-2021-01 einstimmig Gehackt")
    assert "Geheim" not in await other("/aufgaben alle")
    assert "keine Aufgabe A-1" in await other("/erledigt A-1")
    assert "keine Aufgabe A-1" in await other("/aufgabenstatus A-1 verworfen")
    assert "@clara" in await other("/aufgabe @clara: Fremd")  # not a member there
    protocol = await other("/protokoll 1")
    assert "Geheim" not in protocol and "Eigene" in protocol
    assert "keine Sitzung #2" in await other("/protokoll 2")
    for command in ("/protokollentwurf 2", "/einspruch 2 x", "/einsprueche 2"):
        assert "keine Sitzung #2" in await other(command)
    assert "keine Sitzung #2" in await other("/protokollgenehmigen 2 sofort")
    # our group is untouched
    assert "Geheimer Beschluss" in await chat.text(clara, "/beschluesse B-2021-01")
    assert "Geheime Aufgabe" in await chat.text(clara, "/aufgaben")


async def test_personal_data_export_and_erasure(chat: Conversation, core) -> None:
    import json

    from storage.models import ActionItemAssignee, MinutesObjection

    await chat.say(bernd, "/beschluss einstimmig Bögen werden gesammelt.")
    await chat.say(bernd, "/aufgabe @clara, IHK Köln: Bögen senden bis 30.06.")
    core.services.clock.advance(timedelta(minutes=30))  # drafts wait for the start
    await chat.say(anna, "/protokollentwurf 1")
    await chat.say(clara, "/einspruch 1 Mein Name ist falsch geschrieben.")
    await chat.say(clara, "/start", dm(clara))
    [export] = await chat.say(clara, "/meinedaten", dm(clara))
    data = json.loads(export.document.content)
    assert data["action_items_assigned"][0]["number"] == "A-1"
    assert data["minutes_objections"][0]["text"] == "Mein Name ist falsch geschrieben."
    [bernds] = await chat.say(bernd, "/meinedaten", dm(bernd))
    assert json.loads(bernds.document.content)["decisions_recorded"] == ["B-2021-01"]
    await chat.say(clara, "/datenloeschen ja", dm(clara))
    async with core.services.sessions() as session:
        assert await session.scalar(select(MinutesObjection)) is None
        left = await session.scalars(select(ActionItemAssignee).order_by(ActionItemAssignee.id))
        # the item stays with the organisation, and Clara only as a nameless former member
        assert [(a.user_id, a.name) for a in left] == [
            (None, "ehemaliges Mitglied"),
            (None, "IHK Köln"),
        ]


async def test_a_nul_character_is_dropped_not_a_database_error(chat: Conversation, core) -> None:
    """PostgreSQL refuses NUL in text columns; Matrix clients can send it."""
    assert "B-2021-01 Beschluss: ab" in await chat.text(bernd, "/beschluss a\x00b")
    assert "A-1 Anna: cd" in await chat.text(bernd, "/aufgabe Anna: c\x00d")


async def test_two_processes_recording_at_once_get_different_numbers(
    chat: Conversation, core, database_url: str
) -> None:
    """Two bot processes on one PostgreSQL pick the same next number; the second one waits
    for the first commit, is refused by the unique constraint and takes the next number."""
    import asyncio
    from collections.abc import Coroutine
    from typing import Any

    from sqlalchemy.ext.asyncio import AsyncSession

    from storage import minutes

    if not database_url.startswith("postgresql"):
        pytest.skip("one SQLite file has one writer at a time")
    async with core.services.sessions() as first, core.services.sessions() as second:
        meeting = await first.scalar(select(Meeting).where(Meeting.number == 1))

        def record(session: AsyncSession) -> Coroutine[Any, Any, Decision]:
            return minutes.create_decision(
                session,
                group_id=meeting.group_id,
                year=2021,
                meeting_id=meeting.id,
                agenda_item_id=None,
                kind="decision",
                addressee=None,
                text="gleichzeitig",
                outcome="no_vote",
                votes=(None, None, None),
                amends_decision_id=None,
                user_id=None,
                now=datetime(2021, 6, 10, 8, tzinfo=UTC),
            )

        one = await record(first)
        other = asyncio.create_task(record(second))
        await asyncio.sleep(0.3)
        assert not other.done()  # waits for the first transaction
        await first.commit()
        two = await asyncio.wait_for(other, timeout=10)
        await second.commit()
    assert (one.number, two.number) == (1, 2)


async def test_the_outcome_is_shown_only_when_one_was_given(chat: Conversation) -> None:
    """The groups write "Beschluss: …"; "(ohne Abstimmung)" claims no vote took place."""
    plain = await chat.text(bernd, "/beschluss Der Leitfaden wird beschlossen.")
    assert "B-2021-01 Beschluss: Der Leitfaden wird beschlossen." in plain
    stated = await chat.text(bernd, "/beschluss ohne Abstimmung: Die AG nimmt es zur Kenntnis.")
    assert "B-2021-02 Beschluss (ohne Abstimmung): Die AG nimmt es zur Kenntnis." in stated
    minutes = await chat.text(clara, "/protokoll 1")
    assert "- **B-2021-01** Beschluss: Der Leitfaden wird beschlossen." in minutes
    assert "- **B-2021-02** Beschluss (ohne Abstimmung): Die AG nimmt es" in minutes
