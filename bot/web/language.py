"""Which language a page is shown in: the visitor's explicit choice, else their browser's."""

from __future__ import annotations

from aiohttp import web

from bot.core.i18n import LANGUAGES

DEFAULT = LANGUAGES[0]


def _browser_languages(header: str) -> list[str]:
    """Accept-Language (RFC 9110) by descending weight; ties keep the header's order."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                continue
        if tag and weight > 0:
            weighted.append((-weight, position, tag.split("-")[0].lower()))
    return [tag for _, _, tag in sorted(weighted)]


def language(request: web.Request) -> str:
    """`?lang=de|en` wins (the switch on every page), then Accept-Language, then German."""
    chosen = request.query.get("lang", "")
    if chosen in LANGUAGES:
        return chosen
    for tag in _browser_languages(request.headers.get("Accept-Language", "")):
        if tag in LANGUAGES:
            return tag
    return DEFAULT
