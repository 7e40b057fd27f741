"""Errors a handler raises to tell the user what to do instead."""

from __future__ import annotations


class UserError(Exception):
    """A polite, already translated message for the user; the transaction is rolled back."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
