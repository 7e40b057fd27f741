"""The digest across platforms: the AG Transfer decides on Telegram (fake Bot API), the
digest arrives formatted in a Matrix room an admin made its destination (real Synapse)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.clock import FixedClock
from handlers.organisation.digest_jobs import send_digest
from tests.cross_platform import telegram_and_matrix
from tests.fake_telegram import FakeTelegram
from tests.matrix_bot import PASSWORD, MakePerson, joined, notice
from tests.matrix_server import Synapse

ANNA, GROUP = 2001, -1002000000017
START = datetime(2021, 6, 10, 8, 0, tzinfo=UTC)
MONDAY = datetime(2021, 6, 14, 4, 0, tzinfo=UTC)


async def test_a_telegram_groups_decisions_reach_a_matrix_room_in_the_digest(
    synapse: Synapse, tmp_path: Path, matrix_person: MakePerson
) -> None:
    bot_id, _ = await synapse.aregister(synapse.unique_localpart("agbot"), PASSWORD)
    alice = await matrix_person(synapse, "alice")  # an admin, in the partners' room
    async with FakeTelegram() as fake:
        fake.add_user(ANNA, "Anna", "anna")
        fake.add_group(GROUP, "AG Transfer", admins=[ANNA])
        async with telegram_and_matrix(
            fake,
            synapse,
            bot_id,
            tmp_path,
            FixedClock(START),
            matrix_messages_per_second=20,
            admin_users=f"matrix:{alice.user_id}",
        ) as core:
            room = await alice.room(bot_id)
            await joined(alice, room, bot_id)
            await alice.say(room, "!infodienst hier")
            await alice.wait(notice(bot_id, room, "erhält jetzt den Infodienst"))

            for text, answer in [
                ('/registrieren ag "AG Transfer"', "registriert"),
                ("/sitzung 10.06.2021 10:30-12 Uhr Juni-Sitzung", "Juni-Sitzung"),
                ("/beschluss einstimmig Empfehlung an Strategiekreis: Checks ausweiten.", "B-"),
                ("/beschluss einstimmig Die Kasse bleibt geprüft.", "B-"),
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

            core.services.clock.set(MONDAY)  # type: ignore[attr-defined]
            assert await send_digest(core.services, MONDAY) == 1
            core.services.wake_outbox()
            [digest] = await alice.wait(notice(bot_id, room, "Infodienst 07.06.2021"))
            assert "Empfehlung an Strategiekreis: Checks ausweiten." in digest.body
            assert digest.body.index("Checks ausweiten") < digest.body.index("Kasse")
            assert "<h1>Infodienst 07.06.2021 – 13.06.2021</h1>" in digest.formatted_body
            assert "<strong>AG Transfer</strong>" in digest.formatted_body
            assert "# Infodienst" not in digest.body  # Markdown shown as such, not as text
