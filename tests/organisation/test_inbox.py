"""Recommendations and assignments reach the addressed group's inbox once the sender's
minutes are approved, and nothing else of the sending group leaves it (SQLite and
PostgreSQL, through the dispatcher)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.messages import ChatKind, ChatRef
from tests.harness import GROUP, OTHER_GROUP, Conversation, outbox_rows, person

anna, bernd, clara, dora, emil = (person(n) for n in ("anna", "bernd", "clara", "dora", "emil"))
THIRD_GROUP = ChatRef("test", "-300", ChatKind.GROUP, "FG Handwerk")
ASSIGNMENT = "/beschluss einstimmig Auftrag an AG QS: Die Prüfbögen werden überarbeitet."
PRIVATE = "Der interne Leitfaden bleibt vertraulich."


@pytest.fixture
async def chat(chat: Conversation) -> Conversation:
    """AG Transfer in GROUP (Anna chairs, Bernd a member) with meeting #1 today and three
    decisions: one internal, an assignment to the AG QS, a recommendation to an unregistered
    body. AG Qualitätssicherung in OTHER_GROUP (Clara chairs, alias QS; Dora a member);
    Fachgruppe Handwerk in THIRD_GROUP (Emil chairs), addressed by nothing."""
    chat.platform.admins |= {(OTHER_GROUP.chat_id, clara.user_id), ("-300", emil.user_id)}
    await chat.say(clara, '/registrieren ag "AG Qualitätssicherung"', OTHER_GROUP)
    await chat.say(clara, "/alias QS", OTHER_GROUP)
    await chat.say(dora, "/beitreten", OTHER_GROUP)
    await chat.say(emil, '/registrieren fachgruppe "Fachgruppe Handwerk"', THIRD_GROUP)
    await chat.say(bernd, "/beitreten")
    await chat.say(anna, "/sitzung 10.06.2021 10:30-12 Uhr Juni-Sitzung")
    await chat.say(anna, f"/beschluss einstimmig {PRIVATE}")
    return chat


# When meetings #1 (10.06.2021 10:30) and #2 (17.06.2021 10:00, Berlin) begin: drafts wait
# for the start, so the clock is moved there first.
STARTS = {1: datetime(2021, 6, 10, 8, 30, tzinfo=UTC), 2: datetime(2021, 6, 17, 8, 0, tzinfo=UTC)}


def meeting_began(chat: Conversation, number: int = 1) -> None:
    clock = chat.core.services.clock
    clock.set(max(clock.now(), STARTS[number]))


async def approve(chat: Conversation, number: int = 1) -> None:
    meeting_began(chat, number)
    await chat.say(anna, f"/protokollentwurf {number}")
    assert "genehmigt" in await chat.text(anna, f"/protokollgenehmigen {number} sofort")


async def inbox_rows(chat: Conversation) -> list:
    return await outbox_rows(chat.core, "inbox_item")


async def test_recording_says_where_a_decision_will_go(chat: Conversation) -> None:
    reply = await chat.text(anna, ASSIGNMENT)
    assert "Sobald das Protokoll genehmigt ist, geht B-2021-02 in den Eingang von AG " in reply
    assert "Qualitätssicherung" in reply
    unknown = await chat.text(anna, "/beschluss Empfehlung an Leitungskreis: Mehr Geld.")
    assert "„Leitungskreis“ ist keine beim Bot registrierte Gruppe" in unknown
    assert "B-2021-03 Empfehlung an Leitungskreis" in unknown  # accepted as text


async def test_only_approved_decisions_for_the_addressee_arrive(chat: Conversation) -> None:
    await chat.say(anna, ASSIGNMENT)
    await chat.say(anna, "/beschluss Empfehlung an Leitungskreis: Mehr Geld.")
    await chat.say(anna, "/notiz Vertraulicher Diskussionsstand.")
    meeting_began(chat)
    await chat.say(anna, "/protokollentwurf 1")
    assert await inbox_rows(chat) == []  # a draft is not approved
    assert "Der Eingang ist leer" in await chat.text(clara, "/eingang", OTHER_GROUP)
    replies = await chat.say(anna, "/protokollgenehmigen 1 sofort")
    approved = replies[0].text.split("\n\n")[0]  # the headline above the formatted minutes
    assert "B-2021-02 ging in den Eingang von AG Qualitätssicherung (E-1)." in approved
    assert "B-2021-01" not in approved and "B-2021-03" not in approved

    rows = await inbox_rows(chat)
    assert [(r.platform, r.chat_id) for r in rows] == [("test", "-200")]
    text = rows[0].payload["text"]
    assert "Eingang E-1 von AG Transfer: Auftrag an AG QS" in text
    assert "Die Prüfbögen werden überarbeitet." in text
    assert "Beschluss B-2021-02 der Gruppe AG Transfer" in text
    assert "Sitzung #1 „Juni-Sitzung“ am 10.06.2021, Protokoll genehmigt" in text
    assert "/uebernehmen E-1" in text and "/zurueckweisen E-1" in text
    listed = await chat.text(dora, "/eingang", OTHER_GROUP)
    assert "E-1 AG Transfer B-2021-02: Die Prüfbögen werden überarbeitet." in listed

    # nothing else of AG Transfer reached another group's chat
    for row in await outbox_rows(chat.core):
        if row.chat_id in ("-200", "-300"):
            assert PRIVATE not in str(row.payload) and "Vertraulich" not in str(row.payload)
            assert "Leitungskreis" not in str(row.payload)
    assert not [r for r in await outbox_rows(chat.core) if r.chat_id == "-300"]
    assert "Der Eingang ist leer" in await chat.text(emil, "/eingang", THIRD_GROUP)
    assert "keinen Eingang E-1" in await chat.text(emil, "/eingang E-1", THIRD_GROUP)


async def test_approving_forwards_once(chat: Conversation) -> None:
    await chat.say(anna, ASSIGNMENT)
    await approve(chat)
    await chat.say(anna, "/protokollgenehmigen 1 sofort")
    assert len(await inbox_rows(chat)) == 1


async def test_chair_takes_an_item_onto_the_next_agenda(chat: Conversation) -> None:
    await chat.say(anna, ASSIGNMENT)
    await approve(chat)
    no_meeting = await chat.text(clara, "/uebernehmen E-1", OTHER_GROUP)
    assert "noch keine Sitzung geplant" in no_meeting
    await chat.say(clara, "/sitzung 24.06.2021 10-12 Uhr QS-Sitzung", OTHER_GROUP)
    reply = await chat.text(clara, "/uebernehmen E-1", OTHER_GROUP)
    assert "E-1 steht auf der Tagesordnung der Sitzung #1 am 24.06.2021 als TOP 1" in reply
    agenda = await chat.text(dora, "/tagesordnung 1", OTHER_GROUP)
    assert "Auftrag an AG QS (AG Transfer, B-2021-02): Die Prüfbögen" in agenda
    assert "AG Transfer" in agenda.split("Die Prüfbögen")[1]  # the presenter
    assert "Der Eingang ist leer" in await chat.text(dora, "/eingang", OTHER_GROUP)
    assert "bereits erledigt" in await chat.text(clara, "/uebernehmen E-1", OTHER_GROUP)

    told = await outbox_rows(chat.core, "inbox_status")
    assert len(told) == 1 and told[0].user_id is not None  # the sending chair, privately
    assert told[0].chat_id in (None, anna.user_id)  # her private chat, once she opens one
    assert (
        "AG Qualitätssicherung hat Ihren Beschluss B-2021-02 bearbeitet: auf der "
        in (told[0].payload["text"])
    )
    listed = await chat.text(bernd, "/beschluesse")
    assert "→ AG Qualitätssicherung: auf der Tagesordnung" in listed
    shown = await chat.text(bernd, "/beschluesse B-2021-02")
    assert "→ AG Qualitätssicherung: auf der Tagesordnung" in shown


async def test_chair_turns_an_item_into_an_action_item(chat: Conversation) -> None:
    await chat.say(anna, ASSIGNMENT)
    await approve(chat)
    reply = await chat.text(clara, "/alsaufgabe E-1 Dr. Weber", OTHER_GROUP)
    assert "E-1 ist jetzt Aufgabe A-1 für Dr. Weber." in reply
    assert "Die Prüfbögen werden überarbeitet." in await chat.text(dora, "/aufgaben", OTHER_GROUP)
    assert "Prüfbögen" not in await chat.text(bernd, "/aufgaben")  # not the sender's task
    assert "→ AG Qualitätssicherung: als Aufgabe übernommen" in (
        await chat.text(bernd, "/beschluesse")
    )


async def test_chair_declines_with_a_reason(chat: Conversation) -> None:
    await chat.say(anna, ASSIGNMENT)
    await approve(chat)
    reply = await chat.text(clara, "/zurueckweisen E-1 Nicht unsere Zuständigkeit.", OTHER_GROUP)
    assert "E-1 abgelehnt; AG Transfer erfährt Ihre Begründung." in reply
    assert "abgelehnt: Nicht unsere Zuständigkeit." in await chat.text(bernd, "/beschluesse")
    told = await outbox_rows(chat.core, "inbox_status")
    assert "abgelehnt: Nicht unsere Zuständigkeit." in told[0].payload["text"]


async def test_only_the_receiving_groups_chair_acts_on_an_item(chat: Conversation) -> None:
    await chat.say(anna, ASSIGNMENT)
    await approve(chat)
    await chat.say(clara, "/sitzung 24.06.2021 10-12 Uhr QS-Sitzung", OTHER_GROUP)
    # a member of the receiving group, by command and by the message's button
    assert "nur Vorsitzende" in await chat.text(dora, "/uebernehmen E-1", OTHER_GROUP)
    button = "/uebernehmen E-1"
    pressed = await chat.text(dora, "Eingang E-1", OTHER_GROUP, callback=button, message_id="9")
    assert "nur Vorsitzende" in pressed
    # the sending group's chair, with a forged button in her own chat: E-1 is not hers
    forged = await chat.text(anna, "Eingang E-1", GROUP, callback=button, message_id="9")
    assert "keinen Eingang E-1" in forged
    # a chair of an uninvolved group
    assert "keinen Eingang E-1" in await chat.text(emil, "/zurueckweisen E-1 Nein.", THIRD_GROUP)
    assert "keinen Eingang E-1" in await chat.text(emil, "/alsaufgabe E-1", THIRD_GROUP)
    assert await outbox_rows(chat.core, "inbox_status") == []
    assert "E-1" in await chat.text(dora, "/eingang", OTHER_GROUP)  # still open


async def test_an_amendment_follows_the_forwarded_decision(chat: Conversation) -> None:
    await chat.say(anna, ASSIGNMENT)
    await approve(chat)
    await chat.say(anna, "/sitzung 17.06.2021 10-12 Uhr Nächste Sitzung")
    chat.core.services.clock.advance(timedelta(days=7, hours=1))
    reply = await chat.text(
        anna, "/aenderungsbeschluss B-2021-02 #2 einstimmig Die Frist ist der 30.09."
    )
    assert "Er ändert B-2021-02." in reply
    assert len(await inbox_rows(chat)) == 1  # not before its own minutes are approved
    await approve(chat, 2)
    rows = await inbox_rows(chat)
    assert len(rows) == 2 and rows[1].chat_id == "-200"
    assert "Eingang E-2: AG Transfer hat den Beschluss aus E-1 geändert" in rows[1].payload["text"]
    assert "Die Frist ist der 30.09." in rows[1].payload["text"]
    shown = await chat.text(dora, "/eingang E-2", OTHER_GROUP)
    assert "AG Transfer hat den Beschluss aus E-1 geändert" in shown
    assert "Sitzung #2 „Nächste Sitzung“ am 17.06.2021" in shown and "Stand: offen" in shown


async def test_an_ambiguous_addressee_is_asked_about(chat: Conversation) -> None:
    chat.platform.admins.add(("-400", "franz"))
    nord = ChatRef("test", "-400", ChatKind.GROUP, "AG Qualität Nord")
    await chat.say(person("franz"), '/registrieren ag "AG Qualität Nord"', nord)
    reply = await chat.text(anna, "/beschluss Auftrag an AG Qualität: Bögen sammeln.")
    assert "„AG Qualität“ kann gemeint sein: AG Qualitätssicherung, AG Qualität Nord" in reply
    assert "/adressat B-2021-02 AG Qualitätssicherung" in reply
    assert "nur Protokollführende" in await chat.text(bernd, "/adressat B-2021-02 AG Qualität Nord")
    chosen = await chat.text(anna, "/adressat B-2021-02 AG Qualität Nord")
    assert "geht B-2021-02 in den Eingang von AG Qualität Nord" in chosen
    await approve(chat)
    assert [r.chat_id for r in await inbox_rows(chat)] == ["-400"]


async def test_aliases_are_set_by_the_groups_chair_and_unique(chat: Conversation) -> None:
    assert "nur Vorsitzende" in await chat.text(dora, "/alias Qualität", OTHER_GROUP)
    assert "QS" in await chat.text(dora, "/alias", OTHER_GROUP)
    assert "bezeichnet schon eine andere Gruppe" in await chat.text(anna, "/alias QS")
    assert "bezeichnet schon eine andere Gruppe" in await chat.text(
        anna, "/alias AG Qualitätssicherung"
    )
    assert "erreichen jetzt AG Transfer" in await chat.text(anna, "/alias Transfer-AG")
    assert "bezeichnet AG Qualitätssicherung nicht mehr" in await chat.text(
        clara, "/aliasentfernen QS", OTHER_GROUP
    )
    reply = await chat.text(anna, ASSIGNMENT)
    assert "„AG QS“ ist keine beim Bot registrierte Gruppe" in reply


async def test_the_privacy_notice_says_what_reaches_other_groups(chat: Conversation) -> None:
    notice = await chat.text(bernd, "/datenschutz")
    assert "Zwischen Gruppen: Eine Empfehlung oder ein Auftrag Ihrer Gruppe" in notice
    assert "erreicht diese, sobald das Protokoll genehmigt ist" in notice


async def test_a_group_registered_before_approval_still_gets_it(chat: Conversation) -> None:
    reply = await chat.text(anna, "/beschluss Auftrag an AG Neu: Konzept schreiben.")
    assert "„AG Neu“ ist keine beim Bot registrierte Gruppe" in reply
    chat.platform.admins.add(("-500", "gina"))
    new = ChatRef("test", "-500", ChatKind.GROUP, "AG Neu")
    await chat.say(person("gina"), '/registrieren ag "AG Neu"', new)
    await approve(chat)
    assert [r.chat_id for r in await inbox_rows(chat)] == ["-500"]


async def test_the_receiving_group_reads_it_in_its_language(chat: Conversation) -> None:
    await chat.say(clara, "/sprache en", OTHER_GROUP)
    await chat.say(anna, ASSIGNMENT)
    await approve(chat)
    [row] = await inbox_rows(chat)
    text = row.payload["text"]
    assert "Inbox E-1 from AG Transfer: Assignment to AG QS" in text
    assert "/takeup E-1" in text and "/decline E-1" in text
    assert [data for _, data in row.payload["buttons"][0]] == ["/takeup E-1", "/intotask E-1"]
    [[(label, data)]] = row.payload["buttons"][1:]
    assert (label, data) == ("Decline (with a reason)", "/decline E-1")
    asked = await chat.text(clara, "Inbox E-1", OTHER_GROUP, callback=data, message_id="7")
    assert "reason" in asked and "/decline" in asked  # how to give the reason


async def test_an_addressee_still_ambiguous_at_approval_stays_text(chat: Conversation) -> None:
    chat.platform.admins.add(("-400", "franz"))
    nord = ChatRef("test", "-400", ChatKind.GROUP, "AG Qualität Nord")
    await chat.say(person("franz"), '/registrieren ag "AG Qualität Nord"', nord)
    await chat.say(anna, "/beschluss Auftrag an AG Qualität: Bögen sammeln.")
    meeting_began(chat)
    await chat.say(anna, "/protokollentwurf 1")
    approved = await chat.text(anna, "/protokollgenehmigen 1 sofort")
    assert "B-2021-02 bleibt in dieser Gruppe: „AG Qualität“ passt auf mehrere Gruppen " in (
        approved
    )
    assert await inbox_rows(chat) == []
