"""One process, two platforms: a working group spanning a Telegram group (fake Bot API)
and a Matrix room (real Synapse), and one person with accounts on both."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from bot.core.messages import OutgoingMessage
from storage import outbox
from storage.models import Identity
from storage.people import group_for_chat
from tests.cross_platform import telegram_and_matrix
from tests.fake_telegram import FakeTelegram
from tests.matrix_bot import PASSWORD, MakePerson, joined, notice
from tests.matrix_server import Synapse

ANNA, GROUP = 2001, -1002000000001
CODE = re.compile(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b")


async def test_group_and_person_span_telegram_and_matrix(
    synapse: Synapse, tmp_path: Path, matrix_person: MakePerson
) -> None:
    bot_id, _ = await synapse.aregister(synapse.unique_localpart("agbot"), PASSWORD)
    async with FakeTelegram() as fake:
        fake.add_user(ANNA, "Anna", "anna")
        fake.add_group(GROUP, "AG Transfer", admins=[ANNA])
        async with telegram_and_matrix(
            fake,
            synapse,
            bot_id,
            tmp_path,
        ) as core:
            alice = await matrix_person(synapse, "alice")  # Anna's Matrix account
            room = await alice.room(bot_id)
            await joined(alice, room, bot_id)

            # the chair registers the Telegram group and links the Matrix room to it
            fake.send_text(GROUP, ANNA, '/registrieren ag "AG Transfer"')
            await fake.wait_for_messages(GROUP, predicate=lambda m: "registriert" in m.text)
            since = len(fake.sent)
            fake.send_text(GROUP, ANNA, "/verknuepfen")
            [code_message] = await fake.wait_for_messages(GROUP, since=since)
            code = CODE.search(code_message.text).group(1)
            await alice.say(room, f"!verknuepfen {code}")
            await alice.wait(notice(bot_id, room, "gehört jetzt zu „AG Transfer“"))

            # an announcement of the group reaches both chats
            async with core.services.sessions.begin() as session:
                group = await group_for_chat(session, "telegram", str(GROUP))
                assert group is not None
                queued = await outbox.enqueue_for_group(
                    session,
                    group.id,
                    dedupe_key="meeting:1",
                    purpose="announce",
                    message=OutgoingMessage("Nächste Sitzung: 15.06.2027, 9–12 Uhr"),
                    now=core.services.clock.now(),
                )
            assert queued == 2
            core.services.wake_outbox()
            await fake.wait_for_messages(GROUP, predicate=lambda m: "Nächste Sitzung" in m.text)
            await alice.wait(notice(bot_id, room, "Nächste Sitzung"))

            # Anna links her two accounts; a reminder to her can now go to Matrix
            since = len(fake.sent)
            fake.send_text(ANNA, ANNA, "/verknuepfen")
            [personal] = await fake.wait_for_messages(ANNA, since=since)
            dm_room = await alice.room(bot_id, direct=True)
            await joined(alice, dm_room, bot_id)
            since = len(fake.sent)
            await alice.say(dm_room, f"!verknuepfen {CODE.search(personal.text).group(1)}")
            await alice.wait(notice(bot_id, dm_room, "bestätigen"))
            # nothing is linked until Anna confirms on Telegram, where the code was made
            [asked] = await fake.wait_for_messages(ANNA, since=since)
            assert "matrix: @alice" in asked.text.lower()  # which account asks
            [yes, _no] = asked.callback_data
            fake.press_button(ANNA, asked.message_id, ANNA, yes)
            await fake.wait_for_messages(ANNA, predicate=lambda m: "Verknüpft" in (m.text or ""))
            async with core.services.sessions() as session:
                owners = set(await session.scalars(select(Identity.user_id)))
            assert len(owners) == 1
