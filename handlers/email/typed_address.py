"""An e-mail address someone typed, checked once for everywhere it is typed.

email-validator (no DNS lookup) says whether it is an address at all; the bot also refuses
one it could not write to: umlauts before the @ travel only with SMTPUTF8, which the
sender does not use (a domain with umlauts is fine: it goes out in its IDNA form).
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from bot.core.i18n import Translator


class UnsendableAddress(ValueError):
    """A valid address the bot cannot write to (umlauts before the @)."""


def checked_address(given: str) -> str:
    """The address as stored (normalized, the domain as typed); EmailNotValidError if it
    is none, UnsendableAddress if the bot could not write to it."""
    result = validate_email(given, check_deliverability=False)
    if result.ascii_email is None:
        raise UnsendableAddress(given)
    return result.normalized


def unsendable_text(t: Translator, given: str) -> str:
    return t.gettext(
        "I cannot write to “{value}”: addresses with umlauts or other special characters "
        "before the @ do not work yet. Please give another address.",
        value=given[:100],
    )


__all__ = ["EmailNotValidError", "UnsendableAddress", "checked_address", "unsendable_text"]
