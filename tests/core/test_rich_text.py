"""Markdown replies rendered per platform (bot/core/rich_text.py): Telegram HTML that the fake
Bot API accepts as the real one would, readable plain text, and splits between sections."""

from __future__ import annotations

from bot.core.rich_text import split_markdown, to_html, to_plain, to_telegram_html
from tests.fake_telegram.markup import format_text

HARD_BREAK = "  "  # two spaces at the end of a line: a Markdown line break
MINUTES = f"""# Protokoll: AG-Sitzung „Digital Mentor“ (#1)

**Gruppe:** AG Qualitätssicherung{HARD_BREAK}
**Ort:** Videokonferenz

## Tagesordnung

| TOP | Thema | Vortragende |
|---|---|---|
| 1 | Begrüßung & Einführung | Anna |
| 2 | Berater\\*innen \\<10 Betriebe\\> | Dr. Weber (IHK Köln) |

## TOP 1: Begrüßung

- Anna begrüßt die Teilnehmenden.
- Zweite Zeile
  der Notiz

## TOP 2: Berater\\*innen

*Vortragende: Dr. Weber*

- **B-2021-01** Beschluss: einstimmig
"""


def test_telegram_html_is_what_the_bot_api_accepts_and_shows_no_markdown() -> None:
    rendered = to_telegram_html(MINUTES)
    shown, entities = format_text(rendered, "HTML")  # raises as Telegram would on bad markup
    for raw in ("**", "|---", "\\", "##", "<"):
        assert raw not in shown.replace("<10", ""), raw
    assert "Berater*innen <10 Betriebe>" in shown
    assert "• 1 – Begrüßung & Einführung – Anna" in shown
    assert "Protokoll: AG-Sitzung „Digital Mentor“ (#1)" in shown  # German quotes kept
    assert "• Zweite Zeile\n  der Notiz" in shown  # a note's own line break stays
    assert {e["type"] for e in entities} >= {"bold", "italic"}


def test_plain_text_reads_without_markup_and_html_has_real_structure() -> None:
    plain = to_plain(MINUTES)
    assert "Gruppe: AG Qualitätssicherung\nOrt: Videokonferenz" in plain
    assert "**" not in plain and "|" not in plain and "\\" not in plain
    page = to_html(MINUTES)
    assert "<h2>Tagesordnung</h2>" in page and "<table>" in page and "<li>" in page
    assert "Berater*innen &lt;10 Betriebe&gt;" in page


def test_long_text_is_split_between_sections_never_after_a_heading() -> None:
    sections = "\n\n".join(
        f"## TOP {n}: Thema {n}\n\n" + "\n".join(f"- Notiz {n}.{i} " + "x" * 40 for i in range(5))
        for n in range(1, 30)
    )
    parts = split_markdown(sections, 1000, measure=lambda part: len(to_telegram_html(part)))
    assert len(parts) > 3
    for part in parts:
        assert len(to_telegram_html(part)) <= 1000
        assert part.startswith("## TOP")  # every part starts with its section's heading
        assert not part.rstrip().splitlines()[-1].startswith("#")  # none ends on a heading
        format_text(to_telegram_html(part), "HTML")  # each part is valid on its own
    assert "\n\n".join(parts) == sections


def test_a_table_too_long_for_one_message_repeats_its_header() -> None:
    rows = "\n".join(f"| {n} | Aufgabe {n} {'y' * 60} |" for n in range(1, 80))
    table = f"## Aufgaben\n\n| Nr. | Was |\n|---|---|\n{rows}"
    parts = split_markdown(table, 1500, measure=lambda part: len(to_telegram_html(part)))
    assert len(parts) > 1 and parts[0].startswith("## Aufgaben\n\n| Nr. | Was |")
    for part in parts:
        shown, _ = format_text(to_telegram_html(part), "HTML")
        assert "|" not in shown and shown.count("•") >= 1
