"""Numbers as people write them: inbox items E-3 (Eingang), e3, #3 or 3; report duties R-1."""

from __future__ import annotations

import re

from bot.core.numbers import small_number

_ITEM_REF = re.compile(r"^(?:e-?)?#?(\d+)$", re.IGNORECASE)


def item_label(number: int) -> str:
    return f"E-{number}"


def parse_item_ref(text: str) -> int | None:
    match = _ITEM_REF.match(text.strip())
    return small_number(match.group(1)) if match else None


_REPORT_REF = re.compile(r"^(?:r-?)?#?(\d+)$", re.IGNORECASE)


def report_label(number: int) -> str:
    return f"R-{number}"


def parse_report_ref(text: str) -> int | None:
    match = _REPORT_REF.match(text.strip())
    return small_number(match.group(1)) if match else None
