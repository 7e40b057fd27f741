"""German typography survives every way in and out: quotation marks as typed in titles and
TOPs, in the chat, the minutes (Markdown, HTML, Word) and the calendar file."""

from __future__ import annotations

import base64
import io
import zipfile

import icalendar

from tests.harness import Conversation, dm, outbox_rows, person

anna = person("anna")
TITLE = "Konzept „Digital Mentor“"


async def test_quotes_inside_titles_stay_as_typed(chat: Conversation, core) -> None:
    await chat.say(anna, "/start", dm(anna))
    created = await chat.text(
        anna, "/sitzung 15.06.2021 9–12 Uhr „AG-Sitzung zum „Digital Mentor““ | Zoom"
    )
    assert "#1 AG-Sitzung zum „Digital Mentor“ – Di, 15.06.2021" in created
    added = await chat.text(anna, f"/tophinzu 1 {TITLE} | Dr. Weber (IHK Köln) | 9:30")
    assert f"| {TITLE} | Dr. Weber (IHK Köln)" in added
    await chat.say(anna, '/tophinzu 1 "Bericht „Handwerk“ 2021"')
    assert "Bericht „Handwerk“ 2021" in await chat.text(anna, "/tagesordnung 1")
    await chat.say(anna, "/topaendern 1 2 titel „Die „Checks“ für KMU“")
    text, markdown, page, word = await chat.say(anna, "/protokoll 1")
    for shown in (text.text, markdown.document.content.decode()):
        assert "# Protokoll: AG-Sitzung zum „Digital Mentor“ (#1)" in shown
        assert f"| 1 | {TITLE} | Dr. Weber (IHK Köln) | 9:30 |" in shown
        assert "| 2 | Die „Checks“ für KMU |" in shown
    assert f"<td>{TITLE}</td>" in page.document.content.decode()
    with zipfile.ZipFile(io.BytesIO(word.document.content)) as docx:
        assert TITLE in docx.read("word/document.xml").decode()
    [invitation] = await outbox_rows(core, "meeting_invitation")
    calendar = icalendar.Calendar.from_ical(
        base64.b64decode(invitation.payload["document"]["content_b64"])
    )
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "AG-Sitzung zum „Digital Mentor“"
