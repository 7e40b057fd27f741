"""The public advisor list: an HTML page with search and filters, and the same entries as
JSON and CSV for the initiative's website.

A view over `handlers.advisors.public` (the registry the chat commands keep): only listed
advisors, only what each agreed to publish. Answers carry a strong ETag made from the body, so
a conditional request gets 304, and a short max-age, so a delisting or relisting shows within
a minute even behind a cache.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from aiohttp import web

from bot.web.security import CONTENT_SECURITY_POLICY
from handlers.advisors.public import PAGE_PATH, public_listing
from handlers.advisors.public_list import Filters, PublicListing, as_csv, as_json, fold

if TYPE_CHECKING:
    from bot.web.site import Site

# Seconds a browser or proxy may reuse an answer without asking: a delisting shows within this.
MAX_AGE_SECONDS = 60
CACHE_CONTROL = f"public, max-age={MAX_AGE_SECONDS}"
JSON_PATH = f"{PAGE_PATH}.json"
CSV_PATH = f"{PAGE_PATH}.csv"


def entity_tag(body: bytes) -> str:
    """A strong validator: changes whenever a byte of the answer does."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def not_modified(request: web.Request, etag: str) -> bool:
    """If-None-Match lists this tag (weak comparison, RFC 9110 13.1.2) or `*`."""
    header = request.headers.get("If-None-Match")
    if header is None:
        return False
    offered = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return etag in offered or "*" in offered


def conditional(request: web.Request, response: web.Response) -> web.Response:
    """The answer with its ETag and cache headers, or 304 when the client has it already."""
    assert isinstance(response.body, bytes)
    etag = entity_tag(response.body)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if "Vary" in response.headers:
        headers["Vary"] = response.headers["Vary"]
    if not_modified(request, etag):
        return web.Response(status=304, headers=headers)
    response.headers.update(headers)
    return response


def _options(values: tuple[str, ...], chosen: str) -> list[dict[str, object]]:
    return [{"value": v, "selected": bool(chosen) and fold(v) == fold(chosen)} for v in values]


def _data_links(request: web.Request) -> dict[str, str]:
    """The JSON and CSV of what the page shows (same filters, no language)."""
    query = {k: v for k, v in request.query.items() if k in ("q", "field", "region", "institution")}
    return {
        "json": str(request.rel_url.with_path(JSON_PATH).with_query(query)),
        "csv": str(request.rel_url.with_path(CSV_PATH).with_query(query)),
    }


def framed_policy(origins: tuple[str, ...]) -> str | None:
    """The page's Content-Security-Policy when the initiative's website may frame it (the
    browser then ignores X-Frame-Options); None: the site-wide policy, no framing."""
    if not origins:
        return None
    return CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'", "frame-ancestors " + " ".join(origins)
    )


def routes(site: Site) -> list[web.RouteDef]:
    services = site.services
    frame_policy = framed_policy(services.settings.advisor_list_frame_origin_list)

    async def listing(request: web.Request) -> PublicListing:
        async with services.sessions() as session:
            return await public_listing(session, Filters.from_query(request.query))

    async def page(request: web.Request) -> web.Response:
        result = await listing(request)
        filters = result.filters
        response = site.templates.render(
            request,
            "advisors.html",
            page_path=PAGE_PATH,
            result=result,
            filters=filters,
            fields=_options(result.choices.fields, filters.field),
            regions=_options(result.choices.regions, filters.region),
            institutions=_options(result.choices.institutions, filters.institution),
            data=_data_links(request),
            headers={"Vary": "Accept-Language"},
        )
        if frame_policy:
            response.headers["Content-Security-Policy"] = frame_policy
        return conditional(request, response)

    async def json_data(request: web.Request) -> web.Response:
        response = web.json_response(text=as_json(await listing(request)))
        return conditional(request, _shared(response))

    async def csv_data(request: web.Request) -> web.Response:
        response = web.Response(
            text=as_csv(await listing(request)), content_type="text/csv", charset="utf-8"
        )
        response.headers["Content-Disposition"] = 'attachment; filename="berater.csv"'
        return conditional(request, _shared(response))

    return [
        web.get(PAGE_PATH, page),
        web.get(JSON_PATH, json_data),
        web.get(CSV_PATH, csv_data),
    ]


def _shared(response: web.Response) -> web.Response:
    """Public data: any website may fetch it from a browser (no cookies are involved)."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
