"""Meetings: schedule, list, postpone, cancel (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from tests.harness import OTHER_GROUP, Conversation, person

anna, bernd, clara = person("anna"), person("bernd"), person("clara")


async def test_schedule_list_postpone_cancel(chat: Conversation) -> None:
    # the clock stands at 10.06.2021 10:00 Berlin
    created = await chat.text(
        anna, '/sitzung 15.06.2021 9-12 Uhr "AG-Sitzung Juni" | https://meet.example.org/ag'
    )
    assert "#1 AG-Sitzung Juni – Di, 15.06.2021, 9:00–12:00 Uhr" in created
    assert "https://meet.example.org/ag" in created
    await chat.say(anna, "/sitzung 08.07.2021 14 Uhr Sommertreffen")
    listed = await chat.text(bernd, "/sitzungen")
    assert listed.index("#1 AG-Sitzung Juni") < listed.index("#2 Sommertreffen")
    moved = await chat.text(anna, "/verschieben 1 22.06.2021 9-12 Uhr")
    assert "#1 AG-Sitzung Juni – Di, 22.06.2021, 9:00–12:00 Uhr" in moved
    cancelled = await chat.text(anna, "/absagen 2")
    assert "#2 Sommertreffen" in cancelled and "abgesagt" in cancelled
    assert "Sommertreffen" not in await chat.text(bernd, "/sitzungen")
    assert "Sommertreffen" in await chat.text(bernd, "/sitzungen alle")


async def test_times_are_stored_in_utc_and_shown_in_the_group_zone(
    chat: Conversation, core
) -> None:
    from sqlalchemy import select

    from storage.models import Meeting

    await chat.say(anna, "/sitzung 01.12.2021 9:00 Winter")  # CET, UTC+1
    async with core.services.sessions() as session:
        meeting = await session.scalar(select(Meeting))
    assert meeting.starts_at.isoformat() == "2021-12-01T08:00:00+00:00"
    await chat.say(anna, "/zeitzone Europe/London")
    assert "8:00 Uhr" in await chat.text(bernd, "/sitzungen")


async def test_bad_input_and_permissions(chat: Conversation, core) -> None:
    assert "nur Vorsitzende" in await chat.text(bernd, "/sitzung 15.06.2021 9 Uhr Test")
    assert "Kalender" in await chat.text(anna, "/sitzung 31.02.2021 9 Uhr Test")
    assert "Uhrzeit" in await chat.text(anna, "/sitzung 15.06.2021 Test")
    assert "Titel" in await chat.text(anna, "/sitzung 15.06.2021 9 Uhr")
    assert "Datum" in await chat.text(anna, "/sitzung Test am 15.06.")
    assert "Nachträglich erfasst" in await chat.text(anna, "/sitzung 01.06.2021 9 Uhr Vergangen")
    assert "keine Sitzung #7" in await chat.text(anna, "/absagen 7")
    assert "keine Sitzung #x" in await chat.text(anna, "/verschieben x 16.06.2021 9 Uhr")
    core.services.clock.advance(timedelta(days=30))
    assert "Keine anstehenden Sitzungen" in await chat.text(bernd, "/sitzungen")


async def test_another_group_cannot_touch_our_meetings(chat: Conversation) -> None:
    await chat.say(anna, "/sitzung 15.06.2021 9 Uhr Intern")
    chat.platform.admins.add((OTHER_GROUP.chat_id, clara.user_id))
    await chat.say(clara, '/registrieren ag "AG Qualität"', OTHER_GROUP)
    assert "keine Sitzung #1" in await chat.text(clara, "/absagen 1", OTHER_GROUP)
    assert "Intern" not in await chat.text(clara, "/sitzungen alle", OTHER_GROUP)
    assert "Intern" in await chat.text(bernd, "/sitzungen")  # still scheduled here


async def test_members_answer_with_buttons_and_can_change_their_mind(chat: Conversation) -> None:
    [scheduled] = await chat.say(anna, "/sitzung 15.06.2021 9-12 Uhr Juni-Sitzung")
    labels = [b.label for row in scheduled.buttons for b in row]
    assert labels == ["Ich komme", "Vielleicht", "Ich kann nicht"]
    yes = scheduled.buttons[0][0].data
    [answer] = await chat.say(bernd, "", callback=yes)
    assert "Bernd: Ich komme für #1" in answer.text and "1 ja" in answer.text
    assert answer.toast
    await chat.say(clara, "/zusage 1 vielleicht")
    changed = await chat.text(bernd, "/zusage 1 nein")
    assert "0 ja, 1 vielleicht, 1 nein" in changed
    assert "Antworten: 0 ja, 1 vielleicht, 1 nein" in await chat.text(anna, "/sitzungen")
    await chat.say(anna, "/absagen 1")
    assert "abgesagt" in await chat.text(bernd, "/zusage 1 ja")
    assert "Aufruf: /zusage" in await chat.text(bernd, "/zusage 1 gerne")


async def test_a_date_decades_ahead_gets_a_clear_answer(chat: Conversation) -> None:
    # year 9999 used to overflow in the invitation's calendar file: "something went wrong"
    far = "liegt mehr als 20 Jahre in der Zukunft"
    assert far in await chat.text(anna, "/sitzung 15.06.9999 9 Uhr X")
    assert far in await chat.text(anna, "/sitzung 11.06.2041 9 Uhr Zu weit")
    assert "#1 Bald" in await chat.text(anna, "/sitzung 10.06.2041 9 Uhr Bald")
    assert far in await chat.text(anna, "/verschieben 1 15.06.9999 9 Uhr")
    assert far in await chat.text(anna, "/sitzungaendern 1 zeit 31.12.9999 9 Uhr")
    assert far in await chat.text(anna, "/serie wöchentlich ab 05.07.9999 9 Uhr X")
    assert far in await chat.text(anna, "/serie montags 9 Uhr bis 31.12.9999 X")
    await chat.say(anna, "/serie montags 9 Uhr Frührunde")
    assert far in await chat.text(anna, "/serieende S1 31.12.9999")
    assert far in await chat.text(anna, '/terminabfrage "X" 15.06.9999 9 Uhr; 16.06. 9 Uhr')
    assert far in await chat.text(anna, '/terminabfrage "X" 15.06. 9 Uhr bis 31.12.9999')
    assert "10.06.2041" in await chat.text(bernd, "/sitzungen")


async def test_a_place_with_a_line_break_gets_a_clear_answer(chat: Conversation) -> None:
    # a link with a line break used to break the calendar file: "something went wrong"
    one_line = "in eine Zeile"
    assert one_line in await chat.text(anna, "/sitzung 15.06.2021 9 Uhr X | https://a\nb")
    assert one_line in await chat.text(anna, "/serie montags 9 Uhr X | Raum 1\r\nHaus 2")
    await chat.say(anna, "/sitzung 15.06.2021 9 Uhr Juni | https://meet.example.org/ag")
    assert one_line in await chat.text(anna, "/sitzungaendern 1 ort https://a\nb")
    await chat.say(anna, "/serie montags 9 Uhr Frührunde")
    assert one_line in await chat.text(anna, "/serieaendern S1 ort Raum 1\nHaus 2")
    assert "https://meet.example.org/ag" in await chat.text(bernd, "/sitzungen")
