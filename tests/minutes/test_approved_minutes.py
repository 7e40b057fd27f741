"""Approved minutes stay approved: nothing they show changes afterwards; a chair records a
later change as an addendum, which the minutes show apart, dated and signed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.harness import Conversation, person

anna, bernd, clara = person("anna"), person("bernd"), person("clara")


async def minutes(chat: Conversation, number: int) -> str:
    """The minutes as the chat shows them (the files that follow carry the same text)."""
    return (await chat.say(clara, f"/protokoll {number}"))[0].text


@pytest.fixture
async def approved(chat: Conversation) -> Conversation:
    """Meeting #1 today with two TOPs, a proposal, a note, attendance, a decision and a task;
    Anna (chair) publishes and approves its minutes; Bernd takes minutes, Clara is a member."""
    for who in (bernd, clara):
        await chat.say(who, "/beitreten")
    await chat.say(anna, "/rolle protokoll @bernd")
    await chat.say(anna, "/sitzung 10.06.2021 10:30-12 Uhr Juni-Sitzung | Zoom")
    await chat.say(anna, "/tophinzu 1 Begrüßung | @anna | 10:30")
    await chat.say(anna, "/tophinzu 1 Checks | 11:00")
    await chat.say(clara, "/vorschlagen 1 Erfahrungsaustausch Saarland")
    await chat.say(bernd, "/top #1 2")
    await chat.say(clara, "/notiz Die Checks laufen gut.")
    await chat.say(bernd, "/anwesend #1 @anna @bernd")
    await chat.say(bernd, "/beschluss einstimmig Der Leitfaden wird beschlossen.")
    await chat.say(bernd, "/aufgabe @clara: Leitfaden verschicken bis 30.06.")
    chat.core.services.clock.advance(timedelta(minutes=30))  # drafts wait for the start
    await chat.say(anna, "/protokollentwurf 1")
    assert "genehmigt" in await chat.text(anna, "/protokollgenehmigen 1 sofort")
    return chat


# (who, command): everything that would change what the approved minutes show
FROZEN = [
    (clara, "/notiz #1 Nachträglich fällt mir noch etwas ein."),
    (bernd, "/notiz #1 Ergänzung der Mitschrift."),
    (anna, "/tophinzu 1 Neuer Punkt | @bernd"),
    (anna, "/pause 1 Kaffee | 11:30"),
    (clara, "/vorschlagen 1 Noch ein Punkt"),
    (anna, "/annehmen 1 P1"),
    (anna, "/ablehnen 1 P1"),
    (anna, "/topaendern 1 1 titel Ganz anders"),
    (anna, "/topaendern 1 2 referent Dr. Weber (IHK Köln)"),
    (anna, "/topentfernen 1 1"),
    (anna, "/topverschieben 1 2 1"),
    (bernd, "/vertagen 1 2"),
    (bernd, "/anwesend #1 @clara"),
    (bernd, "/anwesend #1 58 Teilnehmende"),
    (bernd, "/anwesend #1 Gäste: Dr. Weber (IHK Köln)"),
    (bernd, "/abwesend #1 @bernd"),
    (bernd, "/beschluss #1 einstimmig Noch ein Beschluss."),
    (bernd, "/aenderungsbeschluss B-2021-01 #1 einstimmig Die Frist ist der 30.09."),
    (bernd, "/beschlussaendern B-2021-01 Info: anders"),
    (bernd, "/aufgabe #1 @bernd: Noch etwas tun bis 30.06."),
    (anna, "/sitzungaendern 1 titel Umbenannte Sitzung"),
    (anna, "/sitzungaendern 1 zeit 17.06.2021 10-12 Uhr"),
    (anna, "/sitzungaendern 1 ort Raum 5, Köln"),
    (anna, "/verschieben 1 17.06.2031 10-12 Uhr"),
    (anna, "/absagen 1"),
]


@pytest.mark.parametrize(("who", "command"), FROZEN, ids=[c for _, c in FROZEN])
async def test_approved_minutes_are_frozen(approved: Conversation, who, command: str) -> None:
    before = await approved.text(clara, "/protokoll 1")
    assert "Genehmigt am 10.06.2021" in before
    refused = await approved.text(who, command)
    assert "genehmigt" in refused
    if not command.startswith("/beschlussaendern"):  # which points to an amendment instead
        assert "als Nachtrag fest: /nachtrag 1 …" in refused
    assert await approved.text(clara, "/protokoll 1") == before
    assert "Erfahrungsaustausch Saarland" in await approved.text(clara, "/tagesordnung 1")


async def test_next_meetings_are_those_known_at_approval(approved: Conversation) -> None:
    """ "Nächste Termine" is part of the approved text: a meeting scheduled later is not."""
    before = await minutes(approved, 1)
    assert "Noch keine geplant." in before
    approved.core.services.clock.advance(timedelta(hours=1))
    await approved.say(anna, "/sitzung 08.07.2021 9-10 Uhr Juli-Sitzung")
    assert await minutes(approved, 1) == before


async def test_action_items_keep_their_own_status_after_approval(approved: Conversation) -> None:
    """Doing a task is not changing the minutes: its status still moves, and the minutes show
    where it stands."""
    assert "erledigt" in await approved.text(clara, "/erledigt A-1")
    assert "Leitfaden verschicken – erledigt" in await approved.text(clara, "/protokoll 1")


async def test_chair_adds_an_addendum_shown_apart_in_the_minutes(approved: Conversation) -> None:
    before = await minutes(approved, 1)
    reply = await approved.text(anna, "/nachtrag 1 Frau Weber (IHK Köln) war ebenfalls anwesend.")
    assert "Nachtrag zum genehmigten Protokoll der Sitzung #1 festgehalten" in reply
    approved.core.services.clock.advance(timedelta(days=3))
    await approved.say(anna, "/nachtrag #1 TOP 2: Die Frist ist der 30.09.")
    after = await minutes(approved, 1)
    approved_text, addenda = after.split("## Nachträge (nach der Genehmigung)")
    assert approved_text.rstrip() == before.rstrip()  # the approved text itself is unchanged
    assert "- **Nachgetragen am 10.06.2021 von Anna:** Frau Weber (IHK Köln) war ebenfalls" in (
        addenda
    )
    assert "- **Nachgetragen am 13.06.2021 von Anna:** TOP 2: Die Frist ist der 30.09." in addenda
    assert "Frau Weber" not in await approved.text(clara, "/notizen #1")  # not a note


async def test_only_chairs_add_addenda_and_only_to_approved_minutes(
    approved: Conversation,
) -> None:
    for who in (clara, bernd):
        assert "nur Vorsitzende" in await approved.text(who, "/nachtrag 1 Ich war auch da.")
    assert "Nachträge" not in await approved.text(clara, "/protokoll 1")
    await approved.say(anna, "/sitzung 08.07.2021 9-10 Uhr Juli-Sitzung")
    refused = await approved.text(anna, "/nachtrag 2 Zu früh.")
    assert "noch nicht genehmigt" in refused and "/notiz #2 …" in refused
    assert "Nachträge" not in await approved.text(clara, "/protokoll 2")


async def test_in_english(approved: Conversation) -> None:
    await approved.say(anna, "/language en")
    refused = await approved.text(clara, "/note #1 Too late.")
    assert "nothing in them can be changed any more" in refused and "/addendum 1 …" in refused
    assert "recorded" in await approved.text(anna, "/addendum 1 Ms Weber also attended.")
    text = await approved.text(clara, "/minutes 1")
    assert "## Addenda (after approval)" in text
    assert "**Added on 2021-06-10 by Anna:** Ms Weber also attended." in text
