"""A whole meeting replayed end to end – schedule, agenda, RSVPs, attendance, current TOPs,
notes, decisions, action items, minutes, draft and approval – through the dispatcher (SQLite
and PostgreSQL), the real Telegram adapter against the fake Bot API, and the console adapter.
The same script runs everywhere, and the generated minutes and their files are checked."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.app import Core
from bot.core.clock import FixedClock
from bot.core.settings import load_settings
from tests.fake_telegram import FakeTelegram
from tests.harness import GROUP, Conversation, person
from tests.telegram_bot import ANNA, BERND, CLARA, TelegramBot, TelegramSetup
from tests.telegram_bot import GROUP as TG_GROUP

# 10.06.2021 10:00 in Berlin: the meeting starts at 10:30 the same day.
START = datetime(2021, 6, 10, 8, 0, tzinfo=UTC)

CLOCK = "clock"  # a step that advances the clock by the given minutes

# (who, command, replies to wait for)
SCRIPT: list[tuple[str, str, int]] = [
    ("anna", '/registrieren ag "AG Transfer"', 1),
    ("bernd", "/beitreten", 1),
    ("clara", "/beitreten", 1),
    ("anna", "/rolle protokoll @bernd", 1),
    ("anna", '/sitzung 10.06.2021 10:30-12 Uhr "AG-Sitzung Juni" | https://meet.example.org/ag', 1),
    ("anna", '/sitzung 08.07.2021 9-10 Uhr "AG-Sitzung Juli"', 1),
    ("anna", "/tophinzu 1 Begrüßung | @anna | 10:30", 1),
    ("anna", "/tophinzu 1 Checks für KMU | Dr. Weber (IHK Köln) | 10:45", 1),
    ("anna", "/pause 1 Kaffeepause | 11:15", 1),
    ("bernd", "/zusage 1 ja", 1),
    ("clara", "/zusage 1 ja", 1),
    ("bernd", "/anwesend alle mit Zusage", 1),
    ("bernd", "/anwesend Gäste: Dr. Weber (IHK Köln)", 1),
    ("bernd", "/top 1", 1),
    ("bernd", "/notiz Anna begrüßt die Teilnehmenden.", 1),
    ("bernd", "/top 2", 1),
    ("clara", "/notiz Die Checks laufen in 40 Betrieben.", 1),
    (
        "bernd",
        "/beschluss 12:0:1 Empfehlung an Strategiekreis: Die Checks werden auf das Handwerk "
        "ausgeweitet.",
        1,
    ),
    ("bernd", "/aufgabe @clara, IHK Köln: Bögen an Anna senden bis 30.06. zu B-2021-01", 1),
    ("bernd", "/vertagen 1 2", 1),
    ("anna", "/protokoll 1", 4),
]
APPROVAL: list[tuple[str, str, int]] = [
    (CLOCK, "30", 0),  # the draft waits for the meeting's start at 10:30
    ("anna", "/protokollentwurf 1", 1),
    ("clara", "/einspruch 1 Bei TOP 2 fehlt die Enthaltung.", 1),
    ("anna", "/protokollgenehmigen 1 sofort", 1),
    (CLOCK, "10", 0),  # ten minutes later the chair publishes a corrected draft
    ("anna", "/protokollentwurf 1 3", 1),
    # the approved minutes formatted (Markdown file attached), then the HTML file
    ("anna", "/protokollgenehmigen 1 sofort", 3),
    ("bernd", "/beschlussaendern B-2021-01 einstimmig Anders", 1),
]

MINUTES_IN_ORDER = [
    "# Protokoll: AG-Sitzung Juni (#1)",
    "**Gruppe:** AG Transfer",
    "**Datum:** Do, 10.06.2021, 10:30–12:00 Uhr",
    "**Ort:** Videokonferenz – https://meet.example.org/ag",
    "**Teilnehmende (3):** Bernd, Clara",  # everyone present: the guest too
    "**Gäste:** Dr. Weber (IHK Köln)",
    "## Tagesordnung",
    "| TOP | Thema | Vortragende | Zeit |",
    "| 1 | Begrüßung | Anna | 10:30 |",
    "| 2 | Checks für KMU | Dr. Weber (IHK Köln) | 10:45 |",
    "|  | Kaffeepause |  | 11:15 |",  # a break: its time, no TOP number
    "| 3 | Verschiedenes / nächste Termine |  |  |",
    "## TOP 1: Begrüßung",
    "- Anna begrüßt die Teilnehmenden.",
    "## TOP 2: Checks für KMU",
    "*Vortragende: Dr. Weber (IHK Köln)*",
    "- Die Checks laufen in 40 Betrieben.",
    "- **B-2021-01** Empfehlung an Strategiekreis (12 dafür, 0 dagegen, 1 Enthaltung): "
    "Die Checks werden auf das Handwerk ausgeweitet.",
    "| A-1 | Clara, IHK Köln | Bögen an Anna senden (zu B-2021-01) | 30.06.2021 |",
    "*Wird in der nächsten Sitzung wieder aufgenommen.*",
    "## Nächste Termine",
    "- Do, 08.07.2021, 9:00–10:00 Uhr – AG-Sitzung Juli",
    "Mitschrift: Bernd",
]


def assert_minutes(text: str) -> None:
    positions = [text.index(part) for part in MINUTES_IN_ORDER]
    assert positions == sorted(positions), "the minutes' parts are out of order"
    assert "## TOP 3" not in text  # nothing happened in the coffee break
    assert "## TOP 4" not in text  # nor under "Verschiedenes"


# The same minutes as a Telegram chat shows them (HTML parse mode): headings bold, tables as
# lists, no Markdown syntax left (issues #14 and #19).
CHAT_IN_ORDER = [
    "Protokoll: AG-Sitzung Juni (#1)",
    "Gruppe: AG Transfer",
    "Datum: Do, 10.06.2021, 10:30–12:00 Uhr",
    "Tagesordnung",
    "TOP – Thema – Vortragende – Zeit",
    "• 1 – Begrüßung – Anna – 10:30",
    "• 2 – Checks für KMU – Dr. Weber (IHK Köln) – 10:45",
    "TOP 1: Begrüßung",
    "• Anna begrüßt die Teilnehmenden.",
    "TOP 2: Checks für KMU",
    "Vortragende: Dr. Weber (IHK Köln)",
    "• B-2021-01 Empfehlung an Strategiekreis (12 dafür, 0 dagegen, 1 Enthaltung): "
    "Die Checks werden auf das Handwerk ausgeweitet.",
    "• A-1 – Clara, IHK Köln – Bögen an Anna senden (zu B-2021-01) – 30.06.2021",
    "Nächste Termine",
    "Mitschrift: Bernd",
]


def assert_formatted_in_chat(messages: list) -> None:
    """Telegram got the minutes as formatted text: HTML parse mode, bold headings, no raw
    `**`, table rules or Markdown escapes."""
    text = "\n".join(m.text for m in messages)
    positions = [text.index(part) for part in CHAT_IN_ORDER]
    assert positions == sorted(positions), "the minutes' parts are out of order"
    assert all(m.parse_mode == "HTML" for m in messages)
    for raw in ("**", "|---", "\\", "## "):
        assert raw not in text, raw
    first = messages[0]
    bold = [first.text[e["offset"] : e["offset"] + e["length"]] for e in first.entities]
    assert "Protokoll: AG-Sitzung Juni (#1)" in bold and "Gruppe:" in bold


def assert_html(html: str) -> None:
    assert html.startswith("<!DOCTYPE html>")
    assert "<h1>Protokoll: AG-Sitzung Juni (#1)</h1>" in html
    assert "<td>Checks für KMU</td>" in html and "<h2>TOP 2: Checks für KMU</h2>" in html
    assert "<td>Bögen an Anna senden (zu B-2021-01)</td>" in html


def assert_approval(replies: list[str]) -> None:
    draft, objection, refused, redraft, approved, frozen = replies
    assert "Protokollentwurf der Sitzung #1" in draft and "/einspruch 1" in draft
    assert "festgehalten" in objection
    assert "Einspruch gegen diesen Entwurf" in refused
    assert "Einspruch bis So, 13.06.2021" in redraft  # a corrected draft, a new period
    assert "ist genehmigt" in approved
    assert "nicht mehr geändert" in frozen and "/aenderungsbeschluss B-2021-01" in frozen


async def test_full_meeting_through_the_dispatcher(core) -> None:
    chat = Conversation(core)
    chat.platform.admins.add((GROUP.chat_id, "anna"))
    last: list = []
    for who, text, _ in SCRIPT:
        last = await chat.say(person(who), text)
        assert last and "schiefgegangen" not in last[0].text, text
    minutes, markdown, page, word = last
    assert word.document.filename.endswith(".docx")
    assert_minutes(minutes.text)
    assert markdown.document.content.decode() == minutes.text
    assert_html(page.document.content.decode())
    replies = []
    for who, text, _ in APPROVAL:
        if who == CLOCK:
            core.services.clock.advance(timedelta(minutes=int(text)))
        else:
            replies.append(await chat.text(person(who), text))
    assert_approval(replies)
    assert "Genehmigt am 10.06.2021" in await chat.text(person("clara"), "/protokoll 1")


# --- Telegram -------------------------------------------------------------------------------

IDS = {"anna": ANNA, "bernd": BERND, "clara": CLARA}


@pytest.fixture
def telegram_setup() -> TelegramSetup:
    """The clock stands at the script's start; everyone uses Telegram in German."""
    return TelegramSetup(now=START, clara_language="de")


async def test_full_meeting_through_telegram(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    fake, core = telegram, telegram_bot.core

    async def run(steps: list[tuple[str, str, int]]) -> list[list]:
        answers = []
        for who, text, count in steps:
            if who == CLOCK:
                core.services.clock.advance(timedelta(minutes=int(text)))
                continue
            since = len(fake.sent)
            fake.send_text(TG_GROUP, IDS[who], text)
            answers.append(
                await fake.wait_for_messages(TG_GROUP, count=count, since=since, timeout=10)
            )
        return answers

    *_, protocol = await run(SCRIPT)
    texts = [m for m in protocol if m.document is None]
    files = {m.document.filename: m.document for m in protocol if m.document is not None}
    assert_formatted_in_chat(texts)
    # the files carry their caption on Telegram, no notice of its own before each
    assert [m.text for m in protocol if m.document is not None] == [
        "Das Protokoll der Sitzung #1 als Dateien."
    ] * 3
    assert set(files) == {
        "Protokoll-AG-Transfer-2021-06-10.md",
        "Protokoll-AG-Transfer-2021-06-10.html",
        "Protokoll-AG-Transfer-2021-06-10.docx",
    }
    assert_minutes(files["Protokoll-AG-Transfer-2021-06-10.md"].data.decode())
    assert_html(files["Protokoll-AG-Transfer-2021-06-10.html"].data.decode())
    approval = await run(APPROVAL)
    assert_approval([answer[0].text for answer in approval])
    # the approved minutes: formatted (HTML parse mode, the same path as /protokoll), the
    # Markdown file, then the HTML file
    approved = approval[4]
    assert_formatted_in_chat([m for m in approved if m.document is None])
    names = [m.document.filename for m in approved if m.document is not None]
    assert names == ["Protokoll-AG-Transfer-2021-06-10.md", "Protokoll-AG-Transfer-2021-06-10.html"]


# --- console --------------------------------------------------------------------------------


async def test_full_meeting_through_the_console(tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'c.db'}")
    core = await Core.create(settings, FixedClock(START))
    out = io.StringIO()
    files = tmp_path / "files"
    console = ConsoleAdapter(
        core.dispatcher, stdin=io.StringIO(""), stdout=out, files_dir=files, first_group="AG"
    )
    try:
        for who, text, _ in [*SCRIPT, *APPROVAL]:
            if who == CLOCK:
                core.services.clock.advance(timedelta(minutes=int(text)))
                continue
            await console.handle_line(f":user {who}")
            await console.handle_line(text)
    finally:
        await core.close()
    printed = out.getvalue()
    assert "Traceback" not in printed and "schiefgegangen" not in printed
    # the console shows the minutes readable, as plain text, not their Markdown source
    minutes_start = printed.index("bot: Protokoll: AG-Sitzung Juni (#1)")
    shown = printed[minutes_start : printed.index("Mitschrift: Bernd", minutes_start)]
    positions = [printed.index(part, minutes_start) for part in CHAT_IN_ORDER]
    assert positions == sorted(positions), "the minutes' parts are out of order"
    for raw in ("**", "|---", "\\<", "## ", "# Protokoll"):
        assert raw not in shown, raw
    assert "Protokoll-AG-Transfer-2021-06-10.md" in printed
    assert_minutes((files / "Protokoll-AG-Transfer-2021-06-10.md").read_text())
    assert_html((files / "Protokoll-AG-Transfer-2021-06-10.html").read_text())
    assert (files / "Protokoll-AG-Transfer-2021-06-10.docx").read_bytes().startswith(b"PK")
    assert "ist genehmigt" in printed and "nicht mehr geändert" in printed
