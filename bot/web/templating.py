"""Jinja2 templates with the project's gettext catalogs: one set of texts for chat and web."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import jinja2
from aiohttp import web
from yarl import URL

from bot.core.i18n import LANGUAGE_NAMES, LANGUAGES, translator
from bot.web.language import language

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
HTML = "text/html"


def language_links(request: web.Request, current: str) -> list[dict[str, object]]:
    """The same page in each language, for the switch in the header."""
    links: list[dict[str, object]] = []
    for code in LANGUAGES:
        url: URL = request.rel_url.update_query(lang=code)
        name = LANGUAGE_NAMES[code]
        links.append({"code": code, "name": name, "url": str(url), "current": code == current})
    return links


class Templates:
    """Renders `bot/web/templates/*.html`, autoescaped, in the visitor's language."""

    def __init__(self, directories: Sequence[Path] = (TEMPLATE_DIR,)) -> None:
        self.environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(list(directories)),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render_text(self, name: str, lang: str, **context: object) -> str:
        words = translator(lang)
        return self.environment.get_template(name).render(
            _=words.gettext, ngettext=words.ngettext, lang=lang, **context
        )

    def render(
        self,
        request: web.Request,
        name: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **context: object,
    ) -> web.Response:
        lang = language(request)
        body = self.render_text(name, lang, language_links=language_links(request, lang), **context)
        response = web.Response(text=body, status=status, content_type=HTML, charset="utf-8")
        response.headers.update(headers or {})
        response.headers["Content-Language"] = lang
        return response
