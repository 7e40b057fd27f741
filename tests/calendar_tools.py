"""Running the real calendar clients the dev extras install (vdirsyncer, khal): where to find
them and how to run one, shared by the feed and the e-mail invitation tests."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import pytest


def calendar_tool(name: str) -> str:
    """The path of a command installed beside this Python (the venv), else on PATH;
    missing is a failure, never a skip."""
    found = Path(sys.executable).parent / name
    if found.exists():
        return str(found)
    other = shutil.which(name)
    if other is None:
        pytest.fail(f"{name} is missing: pip install -e '.[dev]' installs it")
    return other


async def run_tool(*args: str, env: dict[str, str]) -> str:
    """Run a command without standard input; its output, or a failed assertion with it."""
    process = await asyncio.create_subprocess_exec(
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, (args, out.decode(), err.decode())
    return out.decode() + err.decode()
