"""A decision travels across platforms: the sending group on Telegram (fake Bot API), the
receiving group in a Matrix room (real Synapse), one bot process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.clock import FixedClock
from tests.cross_platform import telegram_and_matrix
from tests.fake_telegram import FakeTelegram
from tests.matrix_bot import PASSWORD, MakePerson, joined, notice
from tests.matrix_server import Synapse

ANNA, GROUP = 2001, -1002000000017
START = datetime(2021, 6, 10, 8, 0, tzinfo=UTC)


async def test_assignment_from_telegram_reaches_a_matrix_group_and_its_answer_returns(
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
            FixedClock(START),
            matrix_messages_per_second=20,  # what the README asks once the limit is lifted
        ) as core:
            fake.send_text(ANNA, ANNA, "/start")  # Anna's private chat, for what she is told
            await fake.wait_for_messages(ANNA)

            # the AG Qualitätssicherung meets in a Matrix room, chaired by its creator
            alice = await matrix_person(synapse, "alice")
            room = await alice.room(bot_id)
            await joined(alice, room, bot_id)
            await alice.say(room, '!registrieren ag "AG Qualitätssicherung"')
            await alice.wait(notice(bot_id, room, "AG Qualitätssicherung"))
            await alice.say(room, "!alias QS")
            await alice.wait(notice(bot_id, room, "erreichen jetzt"))

            # the AG Transfer on Telegram assigns work to "AG QS" and approves its minutes
            for text, answer in [
                ('/registrieren ag "AG Transfer"', "registriert"),
                ("/sitzung 10.06.2021 10:30-12 Uhr Juni-Sitzung", "Juni-Sitzung"),
                (
                    "/beschluss einstimmig Auftrag an AG QS: Die Prüfbögen werden überarbeitet.",
                    "in den Eingang von AG Qualitätssicherung",
                ),
                ("/protokollentwurf 1", "Einspr"),
                ("/protokollgenehmigen 1 sofort", "genehmigt"),
            ]:
                if text.startswith("/protokollentwurf"):
                    core.services.clock.advance(timedelta(minutes=30))  # the meeting began
                since = len(fake.sent)
                fake.send_text(GROUP, ANNA, text)
                await fake.wait_for_messages(
                    GROUP, since=since, predicate=lambda m, a=answer: a in (m.text or "")
                )

            # it arrives in the Matrix room, with the Matrix way to write the commands
            [arrived] = await alice.wait(notice(bot_id, room, "Eingang E-1 von AG Transfer"))
            assert "Die Prüfbögen werden überarbeitet." in arrived.body
            assert "!uebernehmen E-1" in arrived.body

            # the receiving chair takes it onto her next agenda; the sending chair is told
            await alice.say(room, "!sitzung 24.06.2021 10-12 Uhr QS-Sitzung")
            await alice.wait(notice(bot_id, room, "QS-Sitzung"))
            await alice.say(room, "!uebernehmen E-1")
            await alice.wait(notice(bot_id, room, "steht auf der Tagesordnung der Sitzung #1"))
            [told] = await fake.wait_for_messages(
                ANNA, predicate=lambda m: "bearbeitet" in (m.text or "")
            )
            assert "AG Qualitätssicherung hat Ihren Beschluss B-2021-01 bearbeitet" in told.text
