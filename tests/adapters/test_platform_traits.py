"""What differs per platform is said once: code without a message (sweeps, posts to every
chat of a group) reads `platform_traits`, handlers ask the adapter; both must agree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.adapters import platform_traits
from bot.adapters.console import ConsoleAdapter
from bot.adapters.matrix import MatrixAdapter
from bot.adapters.telegram import TelegramAdapter
from bot.core.platform import PlatformTraits
from bot.core.settings import load_settings


def test_each_adapter_answers_what_platform_traits_say(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        matrix_homeserver="http://127.0.0.1:1",
        matrix_user_id="@bot:localhost",
        matrix_access_token="token",
        matrix_command_prefix="?",
        matrix_store_path=str(tmp_path / "matrix-store"),
    )
    traits = platform_traits(settings)
    matrix: Any = MatrixAdapter(settings, None, None)  # type: ignore[arg-type]
    for adapter in (ConsoleAdapter, TelegramAdapter, matrix):
        shown = PlatformTraits(
            adapter.command_prefix, adapter.max_buttons, adapter.opens_direct_chats
        )
        assert traits[adapter.name] == shown, adapter.name
    assert traits["matrix"] == PlatformTraits(
        command_prefix="?", max_buttons=10, opens_direct_chats=True
    )
