"""Approved minutes reach the chats as the draft does: the minutes formatted (the same
rich_text path as /protokoll – Telegram HTML, Matrix formatted_body) with the Markdown
file, then the HTML file – not a headline and a file someone has to open."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.core.rich_text import MARKDOWN_FORMAT, TEXT_FORMAT
from storage.models import OutboxMessage
from tests.harness import Conversation, add_matrix_room, person

anna, bernd = person("anna"), person("bernd")


async def test_approved_minutes_are_sent_formatted_with_their_files(
    chat: Conversation, core
) -> None:
    await add_matrix_room(core)
    await chat.say(anna, "/sitzung 10.06.2021 10:30-12 Uhr Juni-Sitzung")
    await chat.say(anna, "/beschluss einstimmig Der Leitfaden wird beschlossen.")
    core.services.clock.advance(timedelta(minutes=30))
    await chat.say(anna, "/protokollentwurf 1")
    text, page = await chat.say(anna, "/protokollgenehmigen 1 sofort")
    assert text.markdown and "are approved" not in text.text
    assert text.text.startswith("Das Protokoll der Sitzung #1 „Juni-Sitzung“ ist genehmigt")
    assert "# Protokoll: Juni-Sitzung (#1)" in text.text
    assert "**B-2021-01** Beschluss (einstimmig)" in text.text
    assert text.document is not None and text.document.filename.endswith(".md")
    assert page.document is not None and page.document.filename.endswith(".html")
    async with core.services.sessions() as session:
        queued = list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.purpose == "minutes_approved")
                .order_by(OutboxMessage.id)
            )
        )
    formatted, html = queued
    assert formatted.chat_id == html.chat_id == "!room:example.org"
    assert formatted.payload["extra"] == {TEXT_FORMAT: MARKDOWN_FORMAT}
    assert "# Protokoll: Juni-Sitzung (#1)" in formatted.payload["text"]
    assert "Genehmigt am 10.06.2021" in formatted.payload["text"]
    assert formatted.payload["document"]["filename"].endswith(".md")
    assert html.payload["document"]["filename"].endswith(".html")
