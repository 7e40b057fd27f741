"""Runtime settings, read from the environment and an optional `.env` file.

pydantic-settings gives us typed validation and one clear error per bad value, which is what
an admin on a small server needs when the bot refuses to start.
"""

from __future__ import annotations

import re
from datetime import date, time
from email.utils import parseaddr
from enum import StrEnum
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.escalation_months import check_escalation_months
from bot.core.reminder_offsets import OffsetError, parse_offsets

SUPPORTED_LANGUAGES = ("de", "en")
DOMAIN_NAME = re.compile(
    r"^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$"
)
# Without MAIL_FROM: a sender that says what wrote the mail; never an organizer address.
MAIL_FROM_DEFAULT = "AG-Assistent <ag-assistant@localhost>"


class TelegramMode(StrEnum):
    POLLING = "polling"
    WEBHOOK = "webhook"


class HttpServerMode(StrEnum):
    """`auto`: the feed server runs with Telegram/Matrix, not in the console chat."""

    AUTO = "auto"
    ON = "on"
    OFF = "off"


class SmtpSecurity(StrEnum):
    """How the SMTP connection is protected: STARTTLS (port 587), implicit TLS (465), or
    none (a relay on the same machine, port 25)."""

    STARTTLS = "starttls"
    TLS = "tls"
    PLAIN = "plain"


class Settings(BaseSettings):
    """Every setting the bot understands; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(default="sqlite:///./ag-assistant.db")
    telegram_token: str | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    telegram_mode: TelegramMode = TelegramMode.POLLING
    telegram_webhook_url: str | None = None
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: Annotated[int, Field(ge=1, le=65535)] = 8443
    telegram_webhook_secret: str | None = None
    matrix_homeserver: str | None = None
    matrix_user_id: str | None = None
    matrix_password: str | None = None
    matrix_access_token: str | None = None
    matrix_device_id: str | None = None
    matrix_store_path: str = "./matrix-store"
    matrix_command_prefix: Annotated[str, Field(min_length=1, max_length=3)] = "!"
    matrix_allowed_inviters: str = ""
    matrix_messages_per_second: Annotated[float | None, Field(gt=0, le=100)] = None
    bot_timezone: str = "Europe/Berlin"
    bot_language: str = "de"
    log_level: str = "INFO"
    log_message_text: bool = False
    outbox_poll_seconds: Annotated[float, Field(gt=0, le=60)] = 1.0
    outbox_max_attempts: Annotated[int, Field(ge=1, le=100)] = 8
    outbox_global_per_second: Annotated[float, Field(gt=0, le=30)] = 25.0
    outbox_lease_seconds: Annotated[float, Field(ge=1, le=3600)] = 120.0
    # Delivered (or given-up) messages keep their text and files this long, then only their
    # status and dedupe key: a sent message's copy is personal data nobody needs for long.
    outbox_retention_days: Annotated[int, Field(ge=1, le=3650)] = 30
    admin_chats: str = ""
    admin_users: str = ""
    advisor_policy_start: date | None = None
    advisor_first_reminder_months: Annotated[int, Field(ge=1, le=240)] = 21
    advisor_second_reminder_months: Annotated[int, Field(ge=1, le=240)] = 24
    advisor_final_notice_months: Annotated[int, Field(ge=1, le=240)] = 26
    advisor_delisting_months: Annotated[int, Field(ge=1, le=240)] = 29
    advisor_grace_months: Annotated[int, Field(ge=1, le=60)] = 3
    advisor_summary_chat: str = ""
    advisor_exchanges_listed: Annotated[int, Field(ge=0, le=20)] = 3
    advisor_link_code_days: Annotated[int, Field(ge=1, le=365)] = 14
    http_server: HttpServerMode = HttpServerMode.AUTO
    http_host: str = "127.0.0.1"
    http_port: Annotated[int, Field(ge=0, le=65535)] = 8080
    public_base_url: str | None = None
    calendar_refresh_minutes: Annotated[int, Field(ge=5, le=10080)] = 60
    calendar_alarm_minutes: Annotated[int, Field(ge=0, le=10080)] = 15
    minutes_objection_days: Annotated[int, Field(ge=0, le=90)] = 7
    poll_reminder_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 24.0
    scheduler_sweep_seconds: Annotated[float, Field(ge=1, le=3600)] = 60.0
    scheduler_daily_at: str = "06:00"
    reminder_meeting_offsets: str = "1d 1h"
    reminder_meeting_max_lateness_minutes: Annotated[int, Field(ge=0, le=20160)] = 180
    reminder_time_of_day: str = "09:00"
    reminder_action_item_days_before: Annotated[int, Field(ge=0, le=14)] = 1
    reminder_action_item_max_lateness_hours: Annotated[int, Field(ge=0, le=336)] = 24
    reminder_digest_weekday: Annotated[int, Field(ge=1, le=7)] = 1
    reminder_digest_max_lateness_hours: Annotated[int, Field(ge=0, le=168)] = 12
    # The organizer mailbox calendar apps answer to (IMAP); no IMAP_HOST: not read.
    imap_host: str | None = None
    imap_port: Annotated[int | None, Field(ge=1, le=65535)] = None
    imap_user: str | None = None
    imap_password: str | None = None
    imap_tls: bool = True
    imap_folder: Annotated[str, Field(min_length=1, max_length=200)] = "INBOX"
    imap_poll_seconds: Annotated[float, Field(ge=1, le=3600)] = 60.0
    # The right-hand side of calendar UIDs (meeting-12@DOMAIN); default: PUBLIC_BASE_URL's
    # host, else a name generated once per installation and kept in the database.
    calendar_uid_domain: str | None = None
    # ORGANIZER of invitations (calendar apps send answers there); default noreply@DOMAIN.
    mail_organizer: str | None = None
    # False: a delisting waits while no experience exchange took place since the last call.
    advisor_delist_without_exchange: bool = False
    # E-mail (see .env.example). Without SMTP_HOST mail is written as .eml files to MAIL_DIR.
    smtp_host: str | None = None
    smtp_port: Annotated[int | None, Field(ge=1, le=65535)] = None
    smtp_security: SmtpSecurity = SmtpSecurity.STARTTLS
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 30.0
    mail_from: str = MAIL_FROM_DEFAULT
    mail_per_minute: Annotated[float, Field(gt=0, le=100_000)] = 60.0
    mail_dir: str | None = None
    # Admins are told when a platform has not answered this long, and again when it is back.
    outbox_outage_notice_seconds: Annotated[float, Field(ge=1, le=86400)] = 300.0
    # How long the bot waits for Telegram's answer to a text (uploads get 30 s): a request
    # that takes longer may still have arrived, so it is reported, never sent twice.
    telegram_read_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 5.0
    # Delivered messages, their text already purged, are deleted after this many days (their
    # dedupe key no longer matters then): the outbox does not grow without bound.
    outbox_compact_days: Annotated[int, Field(ge=1, le=3650)] = 180
    # Websites that may show the public advisor page in a frame (origins, comma-separated,
    # e.g. https://www.initiative.example); empty: no site may frame it.
    advisor_list_frame_origins: str = ""
    # Days before a report between groups is due that the owing group's chairs are reminded
    # (a chair may set another lead per report: /reportlead).
    report_remind_days_before: Annotated[int, Field(ge=0, le=365)] = 14
    # Several processes (webhook mode): a process holds a Telegram update it handles this
    # long; if it dies meanwhile, the update's redelivery is handled by another after that.
    telegram_update_lease_seconds: Annotated[float, Field(ge=1, le=3600)] = 60.0
    # Handled update ids are kept this long (Telegram redelivers for up to 24 hours).
    telegram_update_retention_hours: Annotated[float, Field(ge=25, le=24 * 30)] = 48.0
    # The one Matrix syncing process renews its lease this often; a second one is refused
    # while it runs, and may start once a crashed holder's lease (3 times this) ran out.
    matrix_lease_heartbeat_seconds: Annotated[float, Field(ge=0.1, le=600)] = 10.0

    @field_validator(
        "telegram_token",
        "matrix_homeserver",
        "matrix_user_id",
        "matrix_password",
        "matrix_access_token",
        "matrix_device_id",
        "public_base_url",
        "smtp_host",
        "smtp_username",
        "smtp_password",
        "mail_organizer",
        "mail_dir",
    )
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator(
        "matrix_messages_per_second", "advisor_policy_start", "smtp_port", mode="before"
    )
    @classmethod
    def _blank_number_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _matrix_complete(self) -> Settings:
        if self.matrix_homeserver:
            if not self.matrix_user_id:
                raise ValueError("MATRIX_HOMESERVER is set, so MATRIX_USER_ID is needed too")
            if not (self.matrix_password or self.matrix_access_token):
                raise ValueError("Matrix needs MATRIX_PASSWORD or MATRIX_ACCESS_TOKEN")
        return self

    @field_validator("admin_chats", "admin_users", "advisor_summary_chat")
    @classmethod
    def _platform_refs(cls, value: str) -> str:
        for entry in _split_refs(value):
            platform, _, ident = entry.partition(":")
            if not platform or not ident:
                raise ValueError(f"{entry!r} is not PLATFORM:ID, e.g. telegram:-1001234567890")
        return value.strip()

    @field_validator("advisor_summary_chat")
    @classmethod
    def _one_chat(cls, value: str) -> str:
        if len(_split_refs(value)) > 1:
            raise ValueError("give one chat as PLATFORM:CHAT_ID")
        return value

    @model_validator(mode="after")
    def _advisor_policy_valid(self) -> Settings:
        check_escalation_months(
            first_reminder_months=self.advisor_first_reminder_months,
            second_reminder_months=self.advisor_second_reminder_months,
            final_notice_months=self.advisor_final_notice_months,
            delisting_months=self.advisor_delisting_months,
            grace_months_for_already_expired=self.advisor_grace_months,
        )
        return self

    @property
    def admin_chat_refs(self) -> tuple[tuple[str, str], ...]:
        """(platform, chat id) of the chats whose working groups' members are admins."""
        return tuple(_ref(entry) for entry in _split_refs(self.admin_chats))

    @property
    def admin_user_refs(self) -> tuple[tuple[str, str], ...]:
        """(platform, platform user id) of people who are admins wherever they write."""
        return tuple(_ref(entry) for entry in _split_refs(self.admin_users))

    @property
    def advisor_summary_chat_ref(self) -> tuple[str, str] | None:
        refs = _split_refs(self.advisor_summary_chat)
        return _ref(refs[0]) if refs else None

    @property
    def matrix_enabled(self) -> bool:
        return bool(self.matrix_homeserver)

    @field_validator("bot_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}, e.g. 'Europe/Berlin'") from None
        return value

    @field_validator("scheduler_daily_at", "reminder_time_of_day")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        try:
            return time.fromisoformat(value.strip()).strftime("%H:%M")
        except ValueError:
            raise ValueError("must be a time of day like 06:00") from None

    @field_validator("reminder_meeting_offsets")
    @classmethod
    def _offsets(cls, value: str) -> str:
        try:
            parse_offsets(value)
        except OffsetError:
            raise ValueError("must be like '1d 1h' (d, h, m; at most 4, up to 14 days)") from None
        return value

    @property
    def daily_time(self) -> time:
        return time.fromisoformat(self.scheduler_daily_at)

    @property
    def reminder_clock_time(self) -> time:
        return time.fromisoformat(self.reminder_time_of_day)

    @field_validator("bot_language")
    @classmethod
    def _supported_language(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in SUPPORTED_LANGUAGES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LANGUAGES)}")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        value = value.strip().upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parsed = urlsplit(value)
        if parsed.scheme not in {"http", "https"} or not parsed.hostname:
            raise ValueError("must be an http(s) URL, e.g. https://bot.example.org")
        return value.rstrip("/")

    @property
    def feed_base_url(self) -> str:
        """Where calendar feeds are reached from outside (a TLS proxy usually sits in front)."""
        if self.public_base_url:
            return self.public_base_url
        host = self.http_host if self.http_host not in {"0.0.0.0", "::", ""} else "127.0.0.1"
        return f"http://{host}:{self.http_port}"

    @property
    def configured_calendar_domain(self) -> str | None:
        """CALENDAR_UID_DOMAIN, else the host of PUBLIC_BASE_URL, else None (then the
        installation's generated domain is used: `Services.calendar_domain`). Never the
        local listen address: `127.0.0.1` is the same on every machine."""
        if self.calendar_uid_domain:
            return self.calendar_uid_domain
        if self.public_base_url:
            return urlsplit(self.public_base_url).hostname
        return None

    @field_validator("calendar_uid_domain")
    @classmethod
    def _blank_text_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("calendar_uid_domain")
    @classmethod
    def _domain_name(cls, value: str | None) -> str | None:
        if value is not None and not DOMAIN_NAME.match(value):
            raise ValueError("must be a domain name like bot.example.org")
        return value.lower() if value else value

    @property
    def organizer_mailbox(self) -> str | None:
        """Where calendar apps send their answers (ORGANIZER), if an address is configured:
        MAIL_ORGANIZER (which may carry a name), else MAIL_FROM once it is set; None: the
        caller falls back to noreply@<calendar domain>."""
        if self.mail_organizer:
            return parseaddr(self.mail_organizer)[1]
        if self.mail_from != MAIL_FROM_DEFAULT:
            return parseaddr(self.mail_from)[1]
        return None

    @field_validator("mail_from", "mail_organizer")
    @classmethod
    def _mail_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        _, address = parseaddr(value)
        if "@" not in address or address.startswith("@") or address.endswith("@"):
            raise ValueError("must be an address like 'AG-Assistent <ag@example.org>'")
        return value.strip()

    @property
    def smtp_port_or_default(self) -> int:
        defaults = {SmtpSecurity.STARTTLS: 587, SmtpSecurity.TLS: 465, SmtpSecurity.PLAIN: 25}
        return self.smtp_port or defaults[self.smtp_security]

    def http_server_enabled(self, console: bool) -> bool:
        if self.http_server is HttpServerMode.AUTO:
            return not console
        return self.http_server is HttpServerMode.ON

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.bot_timezone)

    @field_validator("imap_host", "imap_user", "imap_password", "imap_port", mode="before")
    @classmethod
    def _blank_imap_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _imap_complete(self) -> Settings:
        if self.imap_host and not (self.imap_user and self.imap_password):
            raise ValueError("IMAP_HOST is set, so IMAP_USER and IMAP_PASSWORD are needed too")
        return self

    @property
    def imap_enabled(self) -> bool:
        return bool(self.imap_host)

    @property
    def imap_port_or_default(self) -> int:
        """993 (IMAP over TLS) or 143 (plain, only for a server on this host)."""
        return self.imap_port or (993 if self.imap_tls else 143)

    @field_validator("advisor_list_frame_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for entry in _split_refs(value):
            parsed = urlsplit(entry)
            if (
                parsed.scheme not in {"http", "https"}
                or not parsed.hostname
                or parsed.path not in {"", "/"}
                or parsed.query
                or any(c in entry for c in " ;'\"")
            ):
                raise ValueError(f"{entry!r} is not an origin like https://www.example.org")
        return value.strip()

    @property
    def advisor_list_frame_origin_list(self) -> tuple[str, ...]:
        """The origins allowed to frame the public advisor page (CSP frame-ancestors)."""
        return tuple(entry.rstrip("/") for entry in _split_refs(self.advisor_list_frame_origins))


def _split_refs(value: str) -> list[str]:
    return [entry.strip() for entry in value.split(",") if entry.strip()]


def _ref(entry: str) -> tuple[str, str]:
    platform, _, ident = entry.partition(":")
    return platform.strip().lower(), ident.strip()


class SettingsError(RuntimeError):
    """Raised with a readable, multi-line explanation instead of pydantic's raw dump."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = ["Invalid configuration:"]
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]).upper()
            lines.append(f"  {name}: {error['msg']}")
        raise SettingsError("\n".join(lines)) from None
