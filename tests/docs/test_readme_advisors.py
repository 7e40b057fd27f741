"""The README's sample advisor summary and admin report are what the bot writes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bot.core.enums import StepOutcome
from bot.core.i18n import Translator
from handlers.advisors.letters import ReportLine, admin_report, institution_summary
from handlers.advisors.policy import Step

README = Path(__file__).resolve().parents[2] / "README.md"
START, END = "<!-- advisor-summary:start -->", "<!-- advisor-summary:end -->"


def test_the_sample_summary_is_the_bots_wording() -> None:
    text = README.read_text(encoding="utf-8")
    block = text.split(START, 1)[1].split(END, 1)[0].strip()
    sample = block.removeprefix("```text").removesuffix("```").strip()
    day = date(2023, 5, 1)
    sent = ReportLine(
        12,
        "Berta Beispiel",
        "berta@example.org",
        "RKW Nord",
        Step.FIRST_REMINDER,
        StepOutcome.SENT.value,
        day,
    )
    unreachable = ReportLine(
        17,
        "Max Muster",
        "max@example.org",
        "RKW Nord",
        Step.FINAL_NOTICE,
        StepOutcome.UNREACHABLE.value,
        day,
        no_exchange=True,
        deadline=date(2023, 8, 1),
    )
    missed = ReportLine(
        23,
        "Dora Dahl",
        "dora@example.org",
        "RKW Nord",
        Step.SECOND_REMINDER,
        StepOutcome.MISSED.value,
        date(2023, 4, 20),
    )
    t = Translator("de")
    expected = "\n\n".join(
        [
            institution_summary(t, "RKW Nord", [sent, unreachable, missed], day),
            admin_report(t, [missed], [unreachable], day, [unreachable]) or "",
        ]
    )
    assert sample == expected
