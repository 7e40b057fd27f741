"""Date polls and surveys through the dispatcher (SQLite and PostgreSQL): create, answer by
button and by command, close, pick the date, deadlines with an injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.core.messages import Reply
from handlers.polls.deadlines import run_poll_deadlines
from storage.models import Meeting, OutboxMessage, Poll
from storage.outbox import decode_message
from tests.harness import GROUP, OTHER_GROUP, Conversation, dm, outbox_rows, person

anna, bernd, clara, dora = person("anna"), person("bernd"), person("clara"), person("dora")
# the clock stands at Thu 10.06.2021 10:00 Berlin
POLL = '/terminabfrage "Juni-Sitzung" 15.06. 9-12 Uhr; 17.06. 14-16 Uhr; 22.06. 10 Uhr'


@pytest.fixture
async def chat(chat: Conversation) -> Conversation:
    """Bernd, Clara and Dora write in the group and have opened their private chats."""
    for member in (bernd, clara, dora):
        await chat.say(member, "/hilfe")  # they write in the group: members
        await chat.say(member, "/start", dm(member))  # and open a private chat
    return chat


def button(reply: Reply, label_part: str) -> str:
    found = [b.data for row in reply.buttons for b in row if label_part in b.label]
    assert found, f"no button with {label_part!r} in {reply.buttons}"
    return found[0]


async def test_date_poll_answer_with_buttons_change_close_and_pick(
    chat: Conversation, core
) -> None:
    [created] = await chat.say(anna, POLL + " notfalls bis 14.06.")
    assert "Terminabfrage #1: Juni-Sitzung" in created.text
    assert "1) Di, 15.06.2021, 9:00–12:00 Uhr" in created.text
    assert "3) Di, 22.06.2021, 10:00 Uhr" in created.text
    assert "Antworten bis Mo, 14.06.2021, 23:59 Uhr" in created.text
    assert [len(row) for row in created.buttons] == [3, 3, 3]  # one row per slot
    assert [b.label for b in created.buttons[0]] == ["1 ✅ ja", "1 🟡 notfalls", "1 ❌ nein"]

    [answered] = await chat.say(bernd, "", callback=button(created, "1 ✅"))
    assert answered.edit and answered.toast == "Gespeichert"
    assert "✅ Bernd" in answered.text and "1 Person hat geantwortet." in answered.text
    await chat.say(clara, "", callback=button(created, "1 🟡"))
    await chat.say(clara, "", callback=button(created, "2 ✅"))
    [changed] = await chat.say(bernd, "", callback=button(created, "1 ❌"))  # changes his mind
    lines = changed.text.splitlines()
    first = lines.index("1) Di, 15.06.2021, 9:00–12:00 Uhr")
    assert lines[first + 1] == "    ✅ 0 · 🟡 1 · ❌ 1"
    assert lines[first + 2] == "    🟡 Clara  ❌ Bernd"
    assert "2) Do, 17.06.2021, 14:00–16:00 Uhr ⭐" in changed.text  # Clara can without trouble
    assert "2 Personen haben geantwortet." in changed.text

    typed = await chat.text(dora, "/abstimmen 2 3 ja 1 nein")  # console/Matrix fallback
    assert "✅ Clara, Dora" in typed

    assert "nur Vorsitzende" in await chat.text(bernd, "/abfrageende 1")
    [closed] = await chat.say(anna, "/abfrageende 1")
    assert (
        "geschlossen" in closed.text and "Vorschlag: Do, 17.06.2021, 14:00–16:00 Uhr" in closed.text
    )
    assert "Abfrage #1 ist geschlossen" in await chat.text(bernd, "/abstimmen #1 1 ja")
    assert "keine offene Abfrage" in await chat.text(bernd, "/abstimmen 1 ja")
    pick = button(closed, "⭐")
    assert pick == "/pickdate #1 2"
    assert "nur Vorsitzende" in await chat.text(bernd, "", callback=pick)
    edited, announced = await chat.say(anna, "", callback=pick)
    assert edited.edit and "2) Do, 17.06.2021, 14:00–16:00 Uhr ⭐ 📌" in edited.text
    assert "steht fest: Do, 17.06.2021, 14:00–16:00 Uhr (Sitzung #1)" in announced.text
    assert [b.label for b in announced.buttons[0]] == ["Ich komme", "Vielleicht", "Ich kann nicht"]
    async with core.services.sessions() as session:
        meeting = await session.scalar(select(Meeting))
    assert meeting.title == "Juni-Sitzung"
    assert meeting.starts_at.isoformat() == "2021-06-17T12:00:00+00:00"
    assert "#1 Juni-Sitzung" in await chat.text(bernd, "/sitzungen")
    agenda = await chat.text(bernd, "/tagesordnung 1")  # the meeting got its agenda draft
    assert "Verschiedenes" in agenda
    assert "steht bereits fest" in await chat.text(anna, "/terminwahl 1 1")
    # every person who answered gets a direct message, once
    notes = await outbox_rows(core, "poll_result")
    assert sorted(row.chat_id for row in notes) == ["bernd", "clara", "dora"]
    assert "steht fest" in decode_message(notes[0].payload).text


async def test_deadline_reminds_non_voters_once_then_closes(chat: Conversation, core) -> None:
    clock = core.services.clock
    await chat.say(anna, POLL + " bis 14.06. 18 Uhr")
    await chat.say(bernd, "/abstimmen 1 ja")
    await run_poll_deadlines(core.services, clock.now())  # 3 days ahead: nothing yet
    assert await outbox_rows(core, "poll_reminder") == []

    clock.set(clock.now().replace(day=13, hour=15))  # 25 h before the deadline (16:00 UTC)
    await run_poll_deadlines(core.services, clock.now())
    assert await outbox_rows(core, "poll_reminder") == []
    clock.advance(timedelta(hours=2))  # 23 h before: remind Anna, Clara, Dora, not Bernd
    await run_poll_deadlines(core.services, clock.now())
    await run_poll_deadlines(core.services, clock.now())
    clock.advance(timedelta(hours=5))
    await run_poll_deadlines(core.services, clock.now())
    reminders = await outbox_rows(core, "poll_reminder")
    assert sorted(row.user_id for row in reminders) == sorted(
        await user_ids(core, "anna", "clara", "dora")
    )
    text = decode_message(reminders[0].payload).text
    assert "Juni-Sitzung" in text and "Mo, 14.06.2021, 18:00 Uhr" in text

    assert "Juni-Sitzung" in await chat.text(bernd, "/abfragen")
    clock.set(clock.now().replace(day=14, hour=16, minute=0))  # 18:00 Berlin
    await run_poll_deadlines(core.services, clock.now())
    await run_poll_deadlines(core.services, clock.now() + timedelta(hours=1))
    closed = await outbox_rows(core, "poll")
    closing = [row for row in closed if "geschlossen" in decode_message(row.payload).text]
    assert len(closing) == 1 and closing[0].chat_id == GROUP.chat_id
    message = decode_message(closing[0].payload)
    assert "Vorschlag: Di, 15.06.2021, 9:00–12:00 Uhr" in message.text
    assert message.buttons[0][0].data == "/pickdate #1 1"
    assert "geschlossen" in await chat.text(clara, "/abstimmen #1 2 ja")
    assert "Keine offenen" in await chat.text(bernd, "/abfragen")
    assert len(await outbox_rows(core, "poll_reminder")) == 3  # no reminder after closing


async def test_a_late_sweep_closes_without_reminding(chat: Conversation, core) -> None:
    clock = core.services.clock
    await chat.say(anna, POLL + " bis 12.06.")
    clock.advance(timedelta(days=5))  # the bot was down over the whole reminder window
    await run_poll_deadlines(core.services, clock.now())
    assert await outbox_rows(core, "poll_reminder") == []
    async with core.services.sessions() as session:
        poll = await session.scalar(select(Poll))
    assert poll.status == "closed"


async def user_ids(core, *names: str) -> list[int]:
    from storage.models import Identity

    async with core.services.sessions() as session:
        return list(
            await session.scalars(
                select(Identity.user_id).where(Identity.platform_user_id.in_(names))
            )
        )


async def test_other_groups_cannot_see_or_answer(chat: Conversation) -> None:
    await chat.say(anna, POLL)
    chat.platform.admins.add((OTHER_GROUP.chat_id, clara.user_id))
    await chat.say(clara, '/registrieren ag "AG Qualität"', OTHER_GROUP)
    assert "keine Abfrage #1" in await chat.text(clara, "/abfragen 1", OTHER_GROUP)
    assert "keine offene Abfrage" in await chat.text(bernd, "/abstimmen 1 ja", OTHER_GROUP)
    assert "keine Abfrage #1" in await chat.text(bernd, "/abstimmen #1 1 ja", OTHER_GROUP)
    assert "keine Abfrage #1" in await chat.text(clara, "", OTHER_GROUP, callback="/vote #1 1 yes")
    assert "keine Abfrage #1" in await chat.text(clara, "/abfrageende 1", OTHER_GROUP)
    assert "#1 Juni-Sitzung" not in await chat.text(clara, "/abfragen", OTHER_GROUP)
    assert "Bernd" not in await chat.text(anna, "/abfragen 1")
    assert "nur Vorsitzende" in await chat.text(bernd, POLL)
    assert "Gruppenchat" in await chat.text(bernd, "/abstimmen 1 ja", dm(bernd))


async def test_anonymous_poll_shows_counts_only(chat: Conversation) -> None:
    [created] = await chat.say(anna, POLL + " anonym")
    assert "anonym" in created.text
    [answered] = await chat.say(bernd, "", callback=button(created, "1 ✅"))
    await chat.say(clara, "/abstimmen 1 nein")
    shown = await chat.text(anna, "/abfragen 1")
    assert "✅ 1 · ❌ 1" in shown
    assert "Bernd" not in answered.text and "Bernd" not in shown and "Clara" not in shown


async def test_bad_input_gets_clear_answers(chat: Conversation) -> None:
    async def error(text: str) -> str:
        return await chat.text(anna, text)

    assert "Uhrzeit" in await error('/terminabfrage "X" 15.06.; 16.06. 9 Uhr')
    assert "Kalender" in await error('/terminabfrage "X" 15.06. 9 Uhr; 31.02. 9 Uhr')
    assert "„quatsch“" in await error('/terminabfrage "X" 15.06. 9 Uhr; quatsch')
    assert "vorbei" in await error('/terminabfrage "X" 01.06.2021 9 Uhr')
    assert "Frist" in await error('/terminabfrage "X" 15.06. 9 Uhr bis 20.06.')
    assert "Titel" in await error("/terminabfrage 15.06. 9 Uhr")
    assert "doppelt" in await error('/terminabfrage "X" 15.06. 9 Uhr; 15.06. 9 Uhr')
    assert "Anführungszeichen" in await error('/terminabfrage "X 15.06. 9 Uhr')
    assert "Beispiel: /terminabfrage" in await error('/terminabfrage "X" morgen')
    assert "mindestens 2" in await error('/umfrage "Welche Themen?" Digitalisierung')
    assert "Frage" in await error("/umfrage Themen Digitalisierung Nachfolge")
    await chat.say(anna, POLL)
    assert "keine Option 4" in await chat.text(bernd, "/abstimmen 4 ja")
    assert "notfalls" in await chat.text(bernd, "/abstimmen 1 notfalls")  # not offered
    assert "z. B. /abstimmen 2 ja" in await chat.text(bernd, "/abstimmen ja 1")
    async with chat.core.services.sessions() as session:
        assert len(list(await session.scalars(select(Poll)))) == 1


async def test_surveys_single_and_multiple_choice_with_percentages(chat: Conversation) -> None:
    [single] = await chat.say(anna, '/umfrage "Wo tagen wir?" Köln; Berlin; online')
    assert "Umfrage #1: Wo tagen wir?" in single.text
    await chat.say(bernd, "", callback=button(single, "Köln"))
    [changed] = await chat.say(bernd, "", callback=button(single, "online"))  # replaces
    assert "1) Köln – 0 (0 %)" in changed.text and "3) online – 1 (100 %) ⭐" in changed.text
    await chat.say(clara, "/abstimmen 3")
    shown = await chat.text(anna, "/abfragen 1")
    assert "1) Köln – 0 (0 %)" in shown and "3) online – 2 (100 %) ⭐" in shown
    assert "nur eine Antwort" in await chat.text(clara, "/abstimmen 1 2")

    [multi] = await chat.say(
        anna, "/umfrage Welche Themen? Digitalisierung, Nachfolge, Fachkräfte mehrfach"
    )
    assert "mehrere Antworten möglich" in multi.text
    await chat.say(bernd, "", callback=button(multi, "Digitalisierung"))
    await chat.say(bernd, "", callback=button(multi, "Nachfolge"))
    await chat.say(clara, "/abstimmen #2 1")
    [toggled] = await chat.say(bernd, "", callback=button(multi, "Nachfolge"))  # takes it back
    assert "1) Digitalisierung – 2 (100 %) ⭐" in toggled.text
    assert "2) Nachfolge – 0 (0 %)" in toggled.text
    await chat.say(dora, "/abstimmen #2 3")
    result = await chat.text(anna, "/abfrageende 2")
    assert "1) Digitalisierung – 2 (67 %) ⭐" in result and "3) Fachkräfte – 1 (33 %)" in result
    assert "Umfrage" in await chat.text(anna, "/terminwahl 2 1")


async def test_poll_reaches_the_groups_other_chats_with_fitting_buttons(
    chat: Conversation, core
) -> None:
    """A Matrix room linked to the group gets the poll with a keyboard its reactions can
    show (1️⃣…🔟) and the `!` command hint."""
    from storage.models import GroupChat

    async with core.services.sessions.begin() as session:
        session.add(
            GroupChat(
                group_id=1,
                platform="matrix",
                chat_id="!room:localhost",
                created_at=core.services.clock.now(),
            )
        )
    # Reactions are keycaps: one "yes" per slot, so 2️⃣ is date 2 (never "4️⃣ = 2 ✅ ja").
    await chat.say(anna, POLL + " notfalls")
    await chat.say(anna, POLL.replace('"Juni', '"Juli') + "; 23.06. 9 Uhr notfalls")
    rows = await outbox_rows(core, "poll")
    assert [row.chat_id for row in rows] == ["!room:localhost", "!room:localhost"]
    small, big = (decode_message(row.payload) for row in rows)
    assert [b.data for row in small.buttons for b in row] == [
        "/vote #1 1 yes",
        "/vote #1 2 yes",
        "/vote #1 3 yes",
    ]
    assert small.buttons[0][0].undo == "/vote #1 1 no"
    assert [b.data for row in big.buttons for b in row] == [
        "/vote #2 1 yes",
        "/vote #2 2 yes",
        "/vote #2 3 yes",
        "/vote #2 4 yes",
    ]
    assert "!abstimmen #2 1 2 ja" in big.text


def test_matrix_button_limit_matches_the_adapter() -> None:
    from bot.adapters import platform_traits
    from bot.adapters.matrix import KEYCAPS
    from bot.core.settings import load_settings

    assert platform_traits(load_settings(_env_file=None))["matrix"].max_buttons == len(KEYCAPS)


async def test_my_data_contains_my_poll_answers_and_deletion_removes_them(
    chat: Conversation, core
) -> None:
    import json

    from storage.models import Identity, PollVote

    await chat.say(anna, POLL)
    await chat.say(bernd, "/abstimmen 1 ja 2 nein")
    [export] = await chat.say(bernd, "/meinedaten", dm(bernd))
    assert export.document is not None
    answers = json.loads(export.document.content)["poll_answers"]
    assert [(a["poll"], a["option"], a["answer"]) for a in answers] == [(1, 1, "yes"), (1, 2, "no")]
    assert answers[0]["title"] == "Juni-Sitzung" and answers[0]["group"] == "AG Transfer"
    [question] = await chat.say(bernd, "/datenloeschen", dm(bernd))
    await chat.say(bernd, "", dm(bernd), callback=question.buttons[0][0].data)
    async with core.services.sessions() as session:
        votes = list(await session.scalars(select(PollVote).order_by(PollVote.id)))
        names = await session.scalars(
            select(Identity.display_name).where(Identity.user_id.in_([v.user_id for v in votes]))
        )
        # the answers stay counted, but belong to nobody with a name or account any more
        assert [v.answer for v in votes] == ["yes", "no"] and list(names) == []


async def test_answers_edit_the_poll_in_the_groups_other_chats(chat: Conversation, core) -> None:
    """The poll posted to the group's Matrix room is edited there when someone answers on
    Telegram, and the message a button was pressed on is edited when the room answers."""
    from bot.core.messages import EDIT_MESSAGE_ID, ChatKind, ChatRef, IncomingMessage
    from storage.models import GroupChat

    room = ChatRef("matrix", "!room:localhost", ChatKind.GROUP, "AG Transfer")
    async with core.services.sessions.begin() as session:
        session.add(
            GroupChat(
                group_id=1,
                platform="matrix",
                chat_id=room.chat_id,
                created_at=core.services.clock.now(),
            )
        )
    [created] = await chat.say(anna, POLL)
    async with core.services.sessions.begin() as session:  # the worker delivered the post
        post = await session.scalar(select(OutboxMessage).where(OutboxMessage.purpose == "poll"))
        post.status, post.platform_message_id = "sent", "$poll-event"

    async def press(who, where, message_id: str, data: str) -> list[Reply]:
        incoming = IncomingMessage(where, who, "", message_id=message_id, callback_data=data)
        return await core.dispatcher.handle(incoming, chat.platform)

    await press(bernd, GROUP, "42", button(created, "1 ✅"))
    await press(clara, GROUP, "42", button(created, "2 ✅"))  # only the newest edit stays queued
    edits = await outbox_rows(core, "poll_sync")
    assert [(r.chat_id, r.status) for r in edits] == [(room.chat_id, "pending")]
    edit = decode_message(edits[0].payload)
    assert edit.extra[EDIT_MESSAGE_ID] == "$poll-event"
    assert "✅ Bernd" in edit.text and "✅ Clara" in edit.text and edit.buttons
    assert "!abstimmen" in edit.text  # in the room's own command prefix

    await press(dora, room, "$poll-event", button(created, "3 ✅"))  # answered in the room
    to_group = [r for r in await outbox_rows(core, "poll_sync") if r.chat_id == GROUP.chat_id]
    assert len(to_group) == 1
    group_edit = decode_message(to_group[0].payload)
    assert group_edit.extra[EDIT_MESSAGE_ID] == "42" and "✅ Dora" in group_edit.text

    await chat.say(anna, "/abfrageende 1")
    latest = {r.chat_id: decode_message(r.payload) for r in await outbox_rows(core, "poll_sync")}
    assert set(latest) == {GROUP.chat_id, room.chat_id}
    assert all("geschlossen" in m.text and not m.buttons for m in latest.values())


async def test_a_date_that_has_passed_is_no_longer_suggested(chat: Conversation, core) -> None:
    await chat.say(anna, '/terminabfrage "Juni-Sitzung" 11.06. 9 Uhr; 17.06. 14 Uhr bis 16.06.')
    await chat.say(bernd, "/abstimmen 1 2 ja")
    await chat.say(clara, "/abstimmen 1 ja 2 nein")
    assert "1) Fr, 11.06.2021, 9:00 Uhr ⭐" in await chat.text(anna, "/abfragen 1")
    core.services.clock.advance(timedelta(days=2))  # 11.06. has passed
    [closed] = await chat.say(anna, "/abfrageende 1")
    assert "Vorschlag: Do, 17.06.2021, 14:00 Uhr" in closed.text
    assert "2) Do, 17.06.2021, 14:00 Uhr ⭐" in closed.text and "9:00 Uhr ⭐" not in closed.text
    assert [b.data for row in closed.buttons for b in row] == ["/pickdate #1 2"]
    assert "vorbei" in await chat.text(anna, "/terminwahl 1 1")


async def test_a_short_poll_is_reminded_of_halfway(chat: Conversation, core) -> None:
    clock = core.services.clock
    await chat.say(anna, POLL + " bis 10.06. 18 Uhr")  # open for 8 hours, all within a day
    await run_poll_deadlines(core.services, clock.now())
    assert await outbox_rows(core, "poll_reminder") == []
    clock.advance(timedelta(hours=4))
    await run_poll_deadlines(core.services, clock.now())
    assert len(await outbox_rows(core, "poll_reminder")) == 4  # Anna, Bernd, Clara, Dora


async def test_an_english_group(chat: Conversation) -> None:
    await chat.say(anna, "/language en")
    [created] = await chat.say(
        anna, '/datepoll "June meeting" 2021-06-15 09:00-12:00; 2021-06-17 14:00 ifneedbe'
    )
    assert "Date poll #1: June meeting" in created.text
    assert "1) Tue 2021-06-15, 09:00–12:00" in created.text
    assert [b.label for b in created.buttons[0]] == ["1 ✅ yes", "1 🟡 if need be", "1 ❌ no"]
    assert "/vote #1 1 2 yes (answers: yes|ifneedbe|no)" in created.text
    answered = await chat.text(bernd, "/vote 2 ifneedbe 1 no")
    assert "🟡 Bernd" in answered and "1 person answered." in answered
    closed = await chat.text(anna, "/closepoll 1")
    assert "Suggested: Thu 2021-06-17, 14:00" in closed
    assert "is fixed: Thu 2021-06-17, 14:00 (meeting #1)" in await chat.text(anna, "/pickdate 1 2")


async def test_a_forged_vote_button_on_a_meeting_message_does_not_overwrite_it(
    chat: Conversation, core
) -> None:
    """Button data can be forged: `/vote #1 1 yes` pressed on a meeting's message is counted,
    but only the poll's own message is edited with the poll's view."""
    from bot.core.messages import ChatKind, ChatRef
    from storage import polls as poll_store
    from storage.models import GroupChat

    room = ChatRef("matrix", "!room:localhost", ChatKind.GROUP, "AG Transfer")
    async with core.services.sessions.begin() as session:
        session.add(
            GroupChat(
                group_id=1,
                platform="matrix",
                chat_id=room.chat_id,
                created_at=core.services.clock.now(),
            )
        )
    [meeting] = await chat.say(anna, "/sitzung 15.06.2021 9 Uhr Juni-Sitzung")
    [created] = await chat.say(anna, POLL)
    async with core.services.sessions.begin() as session:  # the worker delivered the post
        post = await session.scalar(select(OutboxMessage).where(OutboxMessage.purpose == "poll"))
        post.status, post.platform_message_id = "sent", "$poll-event"

    # In the group (the poll's message there is not known yet) on the meeting's message "7":
    [forged] = await chat.say(bernd, meeting.text, callback="/vote #1 1 yes", message_id="7")
    assert not forged.edit and forged.toast == "Gespeichert"
    assert "✅ Bernd" in forged.text  # the vote counts; the meeting's message stays
    # In the room, where the poll's message is known, on another message:
    [forged] = await chat.say(
        dora, "", room, callback="/vote #1 2 yes", message_id="$meeting-event"
    )
    assert not forged.edit and "✅ Dora" in forged.text
    # The poll's own messages are still edited, and only they are remembered as the poll's.
    [pressed] = await chat.say(
        clara, created.text, callback=button(created, "1 ✅"), message_id="42"
    )
    assert pressed.edit and "✅ Bernd, Clara" in pressed.text
    [pressed] = await chat.say(
        clara, "", room, callback=button(created, "2 ✅"), message_id="$poll-event"
    )
    assert pressed.edit
    async with core.services.sessions() as session:
        poll = await session.scalar(select(Poll))
        shown = await poll_store.shown_in(session, poll.id)
    assert shown == {("test", GROUP.chat_id): "42", ("matrix", room.chat_id): "$poll-event"}

    # Fixing the date by a forged button on the meeting's message: fixed, nothing overwritten.
    await chat.say(anna, "/abfrageende 1")
    view, announced = await chat.say(anna, meeting.text, callback="/pickdate #1 1", message_id="7")
    assert not view.edit and "📌" in view.text and "steht fest" in announced.text
    # (a press on the poll's own closed message is edited: test_polls_telegram_e2e)
