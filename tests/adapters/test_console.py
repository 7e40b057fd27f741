"""The console adapter: the embedded default, driven through stdin like a newcomer would."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from bot.adapters.console import ConsoleAdapter
from bot.app import Core
from bot.core.settings import load_settings

SCRIPT = """\
/hilfe
/registrieren ag "AG Transfer"
:user bernd
/beitreten
/rolle vorsitz @bernd
:user anna
/rolle protokoll @bernd
/mitglieder
:chat dm
/start
/datenloeschen
:press 2
/datum Mo 15.6.2021
:who
:quit
"""


def run_console(tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'console.db'}"
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        input=script,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )


def test_python_m_bot_without_token_starts_the_console(tmp_path: Path) -> None:
    result = run_console(tmp_path, SCRIPT)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "console mode" in out
    assert "/registrieren – " in out  # German help by default
    assert "„AG Transfer“" in out and "Vorsitz" in out
    assert "nur Vorsitzende" in out  # bernd may not make himself chair
    assert "Bernd (@bernd) – Protokoll" in out
    assert "Wirklich" in out or "wirklich" in out
    assert "[1]" in out and "[2]" in out
    assert "Nichts wurde gelöscht" in out or "nichts gelöscht" in out.lower()
    assert "Dienstag" in out or "Di" in out  # 15.6.2021 is a Tuesday
    assert "You are Anna in DM anna" in out
    assert "Traceback" not in result.stderr


def test_console_state_survives_a_restart(tmp_path: Path) -> None:
    run_console(tmp_path, '/registrieren fachgruppe "Fachgruppe Handwerk"\n:quit\n')
    again = run_console(tmp_path, "/einstellungen\n")
    assert "Fachgruppe Handwerk" in again.stdout


async def test_console_prints_outbox_deliveries_and_documents(tmp_path: Path) -> None:
    from bot.core.messages import Document, OutgoingMessage

    core = await Core.create(
        load_settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'c.db'}")
    )
    out = io.StringIO()
    console = ConsoleAdapter(
        core.dispatcher, stdin=io.StringIO(""), stdout=out, files_dir=tmp_path / "files"
    )
    await console.handle_line(":chat dm")
    await console.handle_line("/meinedaten")
    await console.sender.deliver(
        "dm-bernd",
        OutgoingMessage(
            "Erinnerung: Sitzung morgen", document=Document("sitzung.ics", b"BEGIN:VCALENDAR")
        ),
    )
    await core.close()
    text = out.getvalue()
    assert "my-data.json" in text and (tmp_path / "files" / "my-data.json").exists()
    assert "bot → DM bernd: Erinnerung: Sitzung morgen" in text
    assert (tmp_path / "files" / "sitzung.ics").read_bytes() == b"BEGIN:VCALENDAR"
