"""One way to keep secrets out of text that leaves the process: logs and stored errors.

Client errors quote the URL they failed on, and the Bot API puts the bot token in every URL
(`…/bot<token>/sendMessage`); such texts reached ERROR log lines and `outbox.last_error`.
Whoever knows a secret registers it once (the CLI from the settings, an adapter for its
token or a webhook secret it generated); `redact` then replaces every registered secret, and
any Bot API token in a URL even if nobody registered it.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
_MIN_LENGTH = 4  # a shorter "secret" would blank out ordinary words

# /bot<id>:<secret>/…: a Bot API token in a URL, whoever's it is.
_BOT_TOKEN = re.compile(r"(?<=/bot)\d+:[A-Za-z0-9_-]+")

_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """From now on `redact` hides `value` (None and very short values are ignored)."""
    if value and len(value) >= _MIN_LENGTH:
        _secrets.add(value)


def redact(text: str) -> str:
    """`text` with every registered secret and every Bot API token replaced."""
    for secret in sorted(_secrets, key=len, reverse=True):  # longest first: no partial leaks
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _BOT_TOKEN.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """A handler filter: the formatted message, traceback and stack of a record, redacted.

    It sits on handlers (records from child loggers pass handler filters, not the root
    logger's own), and renders the record's text once so the formatter prints ours.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> RedactingFilter:
    """Put one RedactingFilter on every handler of `logger` (the root logger by default)."""
    target = logger or logging.getLogger()
    found = next(
        (f for h in target.handlers for f in h.filters if isinstance(f, RedactingFilter)), None
    )
    redacting = found or RedactingFilter()
    for handler in target.handlers:
        if redacting not in handler.filters:
            handler.addFilter(redacting)
    return redacting
