"""What every part of the fake speaks: JSON objects, Telegram's error answers, nested
parameters that arrive JSON-encoded, and offsets counted in UTF-16 code units."""

from __future__ import annotations

import json
from typing import Any

JSON = dict[str, Any]


class ApiError(Exception):
    """Raised by method handlers; rendered as Telegram's ``{"ok": false, ...}`` body."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def bad_request(reason: str) -> ApiError:
    """400 with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    """403 with Telegram's "Forbidden: " prefix."""
    return ApiError(403, f"Forbidden: {reason}")


def as_json(value: Any, error: str) -> Any:
    """Nested parameters arrive JSON-encoded inside form fields (PTB) or as real JSON."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise bad_request(error) from exc
    return value


def utf16_len(text: str) -> int:
    """Telegram measures entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2
