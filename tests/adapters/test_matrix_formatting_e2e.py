"""Minutes on Matrix, against a real Synapse: `formatted_body` is real HTML (headings, tables,
lists, from the same renderer as the minutes' HTML file), `body` is readable plain text, and
`!protokoll` posts the minutes, one notice, then the files."""

from __future__ import annotations

import asyncio

from nio import RoomMessageFile

from tests.matrix_bot import GroupRoom, MatrixBot, notice


async def test_minutes_go_out_as_html_with_a_plain_body_then_one_notice_and_the_files(
    matrix_bot: MatrixBot, matrix_group_room: GroupRoom
) -> None:
    alice, _, room = matrix_group_room
    bot = matrix_bot.user_id
    await alice.say(room, '!registrieren ag "AG Format"')
    await alice.wait(notice(bot, room, "AG Format"))
    await alice.say(room, "!sitzung 15.06.2027 9-12 Uhr Juni-Sitzung")
    await alice.wait(notice(bot, room, "Juni-Sitzung"))
    await alice.say(room, "!tophinzu 1 Checks für KMU | Dr. Weber (IHK Köln) | 9:30")
    await alice.wait(notice(bot, room, "TOP 1"))
    await alice.say(room, "!notiz #1 Die Checks laufen in <10 Betrieben *bundesweit*.")
    await alice.wait(notice(bot, room, "Notiz"))
    await alice.say(room, "!protokoll 1")
    [minutes] = await alice.wait(notice(bot, room, "Protokoll: Juni-Sitzung"))
    content = minutes.source["content"]
    formatted, body = content["formatted_body"], content["body"]
    assert "<h1>Protokoll: Juni-Sitzung (#1)</h1>" in formatted, formatted
    assert "<table>" in formatted and "<td>Checks für KMU</td>" in formatted
    assert "<strong>Gruppe:</strong>" in formatted
    assert "&lt;10 Betrieben *bundesweit*" in formatted  # typed text stays literal
    for raw in ("**", "|---", "\\", "## "):
        assert raw not in body, (raw, body)
    assert "Gruppe: AG Format" in body and "• 1 – Checks für KMU" in body
    assert "<10 Betrieben *bundesweit*" in body

    files = await alice.wait(
        lambda e: isinstance(e, RoomMessageFile) and e.room_id == room, count=3, seconds=30
    )
    assert {f.body.rsplit(".", 1)[-1] for f in files} == {"md", "html", "docx"}
    await asyncio.sleep(1)
    await alice.sync()
    captions = [e for e in alice.seen if notice(bot, room, "als Datei")(e)]
    assert [c.body for c in captions] == ["Das Protokoll der Sitzung #1 als Dateien."]
