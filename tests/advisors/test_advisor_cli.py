"""The admin's command line beyond import/export: the daily run for a date (rehearsed, or
really run), and link codes for every unlinked advisor in one export."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from pathlib import Path

from click.testing import CliRunner

from bot.app import Core
from bot.cli import main
from bot.core.settings import load_settings
from storage.models import Advisor, AdvisorStep, OutboxMessage
from tests.advisors.test_advisor_csv import GOOD, cli, count
from tests.harness import Conversation, dm, person

__all__ = ["cli"]  # the fixture, shared with the CSV tests


def imported(cli: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "advisors.csv"
    source.write_text(GOOD, encoding="utf-8")
    result = cli.invoke(main, ["advisors", "import", str(source)])
    assert result.exit_code == 0, result.output


def test_the_daily_run_for_a_date_dry_then_for_real(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    imported(cli, tmp_path)
    before = count(database_url, AdvisorStep)  # Dora's imported delisting
    dry = cli.invoke(main, ["advisors", "run", "--date", "2021-01-01"])
    assert dry.exit_code == 0, dry.output
    assert "Berta Beispiel: erste Erinnerung" in dry.output
    assert "nothing was sent" in dry.output
    assert count(database_url, AdvisorStep) == before
    future = cli.invoke(main, ["advisors", "run", "--date", "2999-01-01", "--send"])
    assert future.exit_code != 0 and "lies in the future" in future.output
    assert count(database_url, AdvisorStep) == before
    real = cli.invoke(main, ["advisors", "run", "--date", "2021-01-01", "--send"])
    assert real.exit_code == 0, real.output
    assert "Lauf vom 01.01.2021 ausgeführt" in real.output
    assert "1 Schreiben eingereiht, 0 per Chat und E-Mail nicht erreichbar" in real.output
    after = count(database_url, AdvisorStep)
    assert after == before + 1
    again = cli.invoke(main, ["advisors", "run", "--date", "2021-01-01", "--send"])
    assert again.exit_code == 0 and count(database_url, AdvisorStep) == after
    # Berta's letter to her registry address; no admin chat configured: no summary queued
    assert count(database_url, OutboxMessage) == 1


def test_export_with_link_codes_hands_out_every_code_at_once(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    imported(cli, tmp_path)
    exported = tmp_path / "codes.csv"
    result = cli.invoke(main, ["advisors", "export", str(exported), "--with-link-codes"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8"))))
    codes = {row["email"]: row["link_code"] for row in rows}
    assert all(re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code) for code in codes.values())
    assert len(set(codes.values())) == 3
    assert {row["link_code_valid_until"] for row in rows} != {""}
    # The file imports again without changes: the code columns are not read.
    again = cli.invoke(main, ["advisors", "import", str(exported)])
    assert "unchanged 3" in again.output

    async def link() -> tuple[str, int | None]:
        core = await Core.create(load_settings(database_url=database_url, _env_file=None))
        try:
            berta = person("berta")
            answer = await Conversation(core).text(
                berta, f"/verknuepfen {codes['berta@example.org']}", dm(berta)
            )
            async with core.services.sessions() as session:
                advisor = await session.get(Advisor, 1)
                return answer, advisor.user_id
        finally:
            await core.close()

    answer, user_id = asyncio.run(link())
    assert "verknüpft" in answer and user_id is not None
    # A later export gives codes to the unlinked only.
    result = cli.invoke(main, ["advisors", "export", str(exported), "--with-link-codes"])
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8"))))
    assert [bool(row["link_code"]) for row in rows] == [False, True, True]
    assert [row["linked"] for row in rows] == ["yes", "no", "no"]


def test_csv_as_the_readme_describes_it(cli: CliRunner, database_url: str, tmp_path: Path) -> None:
    """German and ISO dates; `fields` with a comma and with quotes, quoted as CSV quotes."""
    source = tmp_path / "advisors.csv"
    source.write_text(
        "name,email,institution,fields,authorized_on\n"
        'Ada,ada@example.org,RKW Nord,"Digitalisierung, Finanzierung",15.06.2019\n'
        'Bo,bo@example.org,BIFA,"Beratung ""vor Ort""",2019-06-15\n',
        encoding="utf-8",
    )
    result = cli.invoke(main, ["advisors", "import", str(source)])
    assert result.exit_code == 0, result.output
    exported = tmp_path / "export.csv"
    cli.invoke(main, ["advisors", "export", str(exported)])
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8"))))
    assert [(r["fields"], r["authorized_on"]) for r in rows] == [
        ("Digitalisierung, Finanzierung", "2019-06-15"),
        ('Beratung "vor Ort"', "2019-06-15"),
    ]
