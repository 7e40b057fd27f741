"""A note's own line breaks survive into the minutes: Markdown, HTML, Word and the chat
(Telegram HTML, Matrix formatted_body and the plain body) – a list typed line by line stays
a list of lines, and no line can turn into markup."""

from __future__ import annotations

import io

import docx

from bot.core.i18n import Translator
from bot.core.rich_text import to_html, to_plain, to_telegram_html
from handlers.minutes.data import MinutesTop
from handlers.minutes.render import render_docx, render_markdown
from tests.harness import Conversation, person
from tests.minutes.test_minutes import sample

anna, bernd = person("anna"), person("bernd")
NOTE = "Drei Punkte:\n- Bögen bis Juni\n\n# keine Überschrift\nEnde"
TOP = MinutesTop(1, "Begrüßung", "topic", None, None, notes=(NOTE, "Eine Zeile."))


def test_markdown_and_html_keep_the_lines_of_a_note() -> None:
    markdown = render_markdown(sample(tops=(TOP,)), Translator("de"))
    page = to_html(markdown)
    assert "Drei Punkte:<br />\n- Bögen bis Juni<br />\n# keine Überschrift<br />\nEnde" in page
    assert "<h1>keine" not in page and page.count("<li>") == 3  # 2 notes + next meeting


def test_the_chat_shows_the_lines_of_a_note() -> None:
    markdown = render_markdown(sample(tops=(TOP,)), Translator("de"))
    lines = "• Drei Punkte:\n  - Bögen bis Juni\n  # keine Überschrift\n  Ende\n• Eine Zeile."
    assert lines in to_plain(markdown)
    assert lines in to_telegram_html(markdown)


def test_the_word_file_keeps_the_lines_of_a_note() -> None:
    document = docx.Document(io.BytesIO(render_docx(sample(tops=(TOP,)), Translator("de"))))
    texts = [p.text for p in document.paragraphs]
    assert "Drei Punkte:\n- Bögen bis Juni\n# keine Überschrift\nEnde" in texts


async def test_a_note_typed_on_several_lines_keeps_them_in_the_minutes(
    chat: Conversation,
) -> None:
    await chat.say(bernd, "/beitreten")
    await chat.say(anna, '/sitzung 10.06.2021 10:30-12 Uhr "AG-Sitzung"')
    await chat.say(anna, '/top 1 "Begrüßung"')
    await chat.say(anna, "/notiz Zusagen:\nIHK Köln\nHWK Hannover")
    reply = (await chat.say(anna, "/protokoll 1"))[0]
    assert "Zusagen:<br />\nIHK Köln<br />\nHWK Hannover" in to_html(reply.text)
