"""README.md stays true: generated command reference, the two commands, every setting."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from bot.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
START, END = "<!-- commands:start -->", "<!-- commands:end -->"


def _generator() -> ModuleType:
    path = ROOT / "scripts" / "command_reference.py"
    spec = importlib.util.spec_from_file_location("command_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def test_command_reference_is_current() -> None:
    text = _readme()
    assert text.count(START) == 1 and text.count(END) == 1, "command markers missing in README"
    block = text.split(START, 1)[1].split(END, 1)[0]
    expected = _generator().command_reference()
    assert block.strip() == expected.strip(), (
        "The command reference in README.md is out of date: run "
        "`python scripts/command_reference.py` and paste its output between "
        f"{START} and {END}."
    )


def test_first_lines_give_make_run_and_make_test() -> None:
    head = "\n".join(_readme().splitlines()[:15])
    assert "make run" in head
    assert "make test" in head


def test_ci_runs_make_test() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^(exec\s+)?make\s+test\b", ci, re.MULTILINE), ".ci/run must run make test"


def test_every_setting_is_documented() -> None:
    text = _readme()
    missing = [name.upper() for name in Settings.model_fields if name.upper() not in text]
    assert not missing, f"settings missing from README.md: {', '.join(missing)}"
