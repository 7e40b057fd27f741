"""The web pages' wiring: templates, security headers, form tokens, static files, and the
routes of each page module, installed on the bot's one HTTP server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from bot.web import advisors, answers
from bot.web.security import Csrf, security_headers
from bot.web.templating import Templates
from handlers.context import Services
from storage.installation import web_secret

STATIC_DIR = Path(__file__).resolve().parent / "static"


@dataclass(frozen=True)
class Site:
    """What a page module needs: the services (database, clock, settings) and the web tools."""

    services: Services
    templates: Templates
    csrf: Csrf


PageRoutes = Callable[[Site], list[web.RouteDef]]

# Each page module's `routes(site)`; a new page appends its module here.
PAGES: tuple[PageRoutes, ...] = (advisors.routes, answers.routes)


def make_site(services: Services) -> Site:
    async def secret() -> bytes:
        async with services.sessions() as session:
            key = await web_secret(session, services.clock.now())
            await session.commit()
            return key

    return Site(services=services, templates=Templates(), csrf=Csrf(secret))


def install(
    app: web.Application, services: Services, pages: tuple[PageRoutes, ...] = PAGES
) -> Site:
    """Add the pages to the HTTP server's application (before it starts)."""
    site = make_site(services)
    app.middlewares.append(security_headers)
    app.router.add_static("/static/", STATIC_DIR, follow_symlinks=False)
    for routes in pages:
        app.router.add_routes(routes(site))
    return site
