"""Settings: defaults, validation with readable errors, and .env.example completeness."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_run_the_console_on_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    settings = load_settings(_env_file=None)
    assert settings.database_url.startswith("sqlite:///")
    assert settings.telegram_token is None
    assert settings.bot_timezone == "Europe/Berlin" and settings.bot_language == "de"


def test_bad_values_are_reported_together_and_readably() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(
            _env_file=None,
            bot_timezone="Europe/Berlinn",
            bot_language="fr",
            log_level="loud",
            telegram_webhook_port=70000,
        )
    text = str(error.value)
    for name in ("BOT_TIMEZONE", "BOT_LANGUAGE", "LOG_LEVEL", "TELEGRAM_WEBHOOK_PORT"):
        assert name in text
    assert "Europe/Berlinn" in text


def test_environment_and_dotenv_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("BOT_LANGUAGE=en\nTELEGRAM_TOKEN=  \n")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.delenv("BOT_LANGUAGE", raising=False)
    monkeypatch.delenv("TELEGRAM_TOKEN", raising=False)
    settings = load_settings(_env_file=env_file)
    assert settings.bot_language == "en" and settings.log_level == "DEBUG"
    assert settings.telegram_token is None  # blank means "not set"


def test_env_example_documents_every_setting() -> None:
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^([A-Z_]+)=", example, flags=re.MULTILINE))
    assert documented == {name.upper() for name in Settings.model_fields}
    lines = example.splitlines()
    for name in documented:  # each has a comment close above it
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{name}="))
        assert any(line.startswith("#") for line in lines[max(index - 2, 0) : index]), name


def test_invalid_configuration_stops_the_cli_with_a_clear_message(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "BOT_LANGUAGE": "fr", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "BOT_LANGUAGE" in result.stderr and "Traceback" not in result.stderr


def test_an_unusable_database_is_explained_in_one_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    for url, expected in (
        ("mysql://u@h/db", "must use sqlite or postgresql"),
        ("postgresql://u:secret@127.0.0.1:1/db", "cannot use the database at"),
    ):
        env = {**os.environ, "DATABASE_URL": url}
        env.pop("TELEGRAM_TOKEN", None)
        result = subprocess.run(
            [sys.executable, "-m", "bot"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode != 0
        assert expected in result.stderr and "Traceback" not in result.stderr
        assert "secret" not in result.stderr  # passwords stay out of logs


def test_advisor_list_frame_origins_are_origins_only() -> None:
    settings = load_settings(
        _env_file=None,
        advisor_list_frame_origins="https://www.initiative.example/, http://localhost:8000",
    )
    assert settings.advisor_list_frame_origin_list == (
        "https://www.initiative.example",
        "http://localhost:8000",
    )
    assert load_settings(_env_file=None).advisor_list_frame_origin_list == ()
    for bad in ("www.example.org", "https://x.example/page", "https://x.example 'unsafe-inline'"):
        with pytest.raises(SettingsError, match="ADVISOR_LIST_FRAME_ORIGINS"):
            load_settings(_env_file=None, advisor_list_frame_origins=bad)
