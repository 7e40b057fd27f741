"""IMAP_* settings: the organizer mailbox is read only when fully configured."""

from __future__ import annotations

import pytest

from bot.core.settings import SettingsError, load_settings


def test_the_mailbox_needs_a_login_and_a_password() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None, imap_host="imap.example.org", imap_user="bot")
    assert "IMAP_HOST is set, so IMAP_USER and IMAP_PASSWORD are needed too" in str(error.value)


def test_blank_values_mean_off_and_the_port_follows_tls() -> None:
    off = load_settings(_env_file=None, imap_host=" ", imap_port="", imap_password="")
    assert not off.imap_enabled and off.imap_port is None
    on = load_settings(
        _env_file=None, imap_host="imap.example.org", imap_user="bot", imap_password="pw-1234"
    )
    assert on.imap_enabled and on.imap_port_or_default == 993 and on.imap_folder == "INBOX"
    plain = on.model_copy(update={"imap_tls": False})
    assert plain.imap_port_or_default == 143
    assert on.model_copy(update={"imap_port": 1143}).imap_port_or_default == 1143


def test_bad_imap_values_are_named() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None, imap_port=0, imap_poll_seconds=0, imap_tls="perhaps")
    for name in ("IMAP_PORT", "IMAP_POLL_SECONDS", "IMAP_TLS"):
        assert name in str(error.value)
