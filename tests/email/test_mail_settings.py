"""E-mail settings: readable refusals, the organizer address, ports by security, and where
`.eml` files go without an SMTP server."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.adapters.email.sender import EmlSender, SmtpSender, default_mail_dir, mail_sender
from bot.core.settings import SettingsError, load_settings


def test_a_bad_sender_address_stops_the_start_with_one_line() -> None:
    with pytest.raises(SettingsError, match="MAIL_FROM"):
        load_settings(_env_file=None, mail_from="not an address")


def test_organizer_defaults_to_the_senders_address() -> None:
    settings = load_settings(_env_file=None, mail_from="AG <ag@example.org>")
    assert settings.organizer_mailbox == "ag@example.org"
    other = load_settings(_env_file=None, mail_organizer="Termine <termine@example.org>")
    assert other.organizer_mailbox == "termine@example.org"
    assert load_settings(_env_file=None).organizer_mailbox is None  # then noreply@<domain>


@pytest.mark.parametrize(("security", "port"), [("starttls", 587), ("tls", 465), ("plain", 25)])
def test_the_port_follows_the_security(security: str, port: int) -> None:
    settings = load_settings(_env_file=None, smtp_host="mail.example.org", smtp_security=security)
    assert settings.smtp_port_or_default == port
    assert isinstance(mail_sender(settings), SmtpSender)


def test_without_smtp_the_console_says_where_the_files_go(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'x.db'}")
    sender = mail_sender(settings)
    assert isinstance(sender, EmlSender) and sender.folder == tmp_path / "mail"
    assert str(tmp_path / "mail") in caplog.text
    chosen = load_settings(_env_file=None, mail_dir=str(tmp_path / "post"))
    assert default_mail_dir(chosen) == tmp_path / "post"
