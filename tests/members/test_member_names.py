"""Names cannot spoof the text around them: bidi controls are stripped (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import select

from bot.core.messages import UserRef
from storage.models import Identity
from tests.harness import Conversation, person

anna = person("anna")
# Shown raw, U+202E reverses the rest: "Eve" followed by "downloader" spelled backwards.
eve = UserRef("test", "eve", "Eve\u202eredaolnwod", language_code="de")
BIDI = ("\u202a", "\u202e", "\u2066", "\u2069", "\u200e", "\u200f", "\u061c")


def _clean(text: str) -> bool:
    return not any(char in text for char in BIDI)


async def test_bidi_controls_leave_names_in_members_list_and_minutes(
    chat: Conversation, core
) -> None:
    await chat.say(eve, "/beitreten")
    members = await chat.text(anna, "/mitglieder")
    assert "Everedaolnwod" in members and _clean(members)
    async with core.services.sessions() as session:
        stored = await session.scalar(select(Identity).where(Identity.platform_user_id == "eve"))
    assert stored.display_name == "Everedaolnwod"

    await chat.say(anna, "/sitzung 10.06.2021 10:30-12 Uhr Juni-Sitzung")
    await chat.say(eve, "/zusage 1 ja")
    await chat.say(anna, "/tophinzu 1 Bericht | Mallory \u2066(IHK)\u2069 \u200fKöln")
    await chat.say(anna, "/anwesend alle mit Zusage")
    await chat.say(anna, "/anwesend Gäste: Dr. \u202bWeber\u202c (IHK Köln)")
    minutes = (await chat.say(anna, "/protokoll 1"))[0].text
    assert _clean(minutes)
    assert "Everedaolnwod" in minutes
    assert "Mallory (IHK) Köln" in minutes
    assert "Dr. Weber (IHK Köln)" in minutes


async def test_bidi_controls_typed_into_a_command_are_never_stored(chat: Conversation) -> None:
    """Names typed as presenters and guests (and every other text) lose bidi controls as the
    command arrives, so the agenda and attendance lists show them clean as well."""
    await chat.say(anna, "/sitzung 10.06.2031 10:30-12 Uhr Juni-Sitzung")
    await chat.say(anna, "/tophinzu 1 Bericht | Mallory \u2066(IHK)\u2069 \u200fKöln")
    agenda = await chat.text(anna, "/tagesordnung 1")
    assert "Mallory (IHK) Köln" in agenda and _clean(agenda)
