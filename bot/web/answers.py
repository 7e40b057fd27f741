"""Answering without the chat: the poll page and the meeting answer pages a personal link
opens (`/poll/<token>`, `/rsvp/<token>`, `/rsvp/<token>/<answer>`).

A GET only shows: link previews and mail scanners fetch links, and must never answer for
the person. A HEAD (some scanners and link checkers send one) is answered like the GET,
without the body. Every answer is a POST with the link's form token, answered with a redirect
(post/redirect/get), so reloading the page does not post again. An unknown, revoked or no
longer valid token gets the same bare 404 as any unknown address.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.core.i18n import translator
from bot.web.language import language
from handlers.personal_links.access import POLL_PATH, RSVP_ANSWERS, RSVP_PATH
from handlers.personal_links.pages import (
    NotFound,
    PollPage,
    Refused,
    RsvpPage,
    answer_poll,
    answer_rsvp,
    answer_word,
    poll_page,
    rsvp_label,
    rsvp_page,
)
from handlers.polls.view import ANSWER_LABELS

if TYPE_CHECKING:  # site.py lists this module in PAGES
    from bot.web.site import Site


def _back(request: web.Request, path: str) -> web.HTTPSeeOther:
    """Back to the page after an answer, in the language it was given in."""
    query = {"saved": "1"}
    if "lang" in request.query:
        query["lang"] = request.query["lang"]
    return web.HTTPSeeOther(request.rel_url.with_path(path).with_query(query))


def routes(site: Site) -> list[web.RouteDef]:
    services = site.services

    async def show_poll(
        request: web.Request, page: PollPage | None = None, error: str | None = None
    ) -> web.Response:
        token = request.match_info["token"]
        try:
            page = page or await poll_page(services, token, language(request))
        except NotFound:
            raise web.HTTPNotFound() from None
        return site.templates.render(
            request,
            "answer_poll.html",
            status=409 if error else 200,
            page=page,
            csrf=await site.csrf.token(page.scope),
            action=request.path,
            saved=request.query.get("saved") == "1" and error is None,
            error=error,
            labels=ANSWER_LABELS,
        )

    async def post_poll(request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        lang = language(request)
        try:
            page = await poll_page(services, token, lang)
        except NotFound:
            raise web.HTTPNotFound() from None
        form = await site.csrf.form(request, page.scope)
        fields = {name: [str(v) for v in form.getall(name)] for name in set(form.keys())}
        try:
            await answer_poll(services, token, fields, lang)
        except NotFound:
            raise web.HTTPNotFound() from None
        except Refused as refused:
            return await show_poll(request, error=refused.message)
        raise _back(request, request.path)

    async def _rsvp(request: web.Request) -> RsvpPage:
        try:
            return await rsvp_page(services, request.match_info["token"], language(request))
        except NotFound:
            raise web.HTTPNotFound() from None

    def _answer(request: web.Request) -> str:
        answer = request.match_info.get("answer", "")
        if answer not in RSVP_ANSWERS:
            raise web.HTTPNotFound()
        return answer

    async def show_rsvp(request: web.Request) -> web.Response:
        page = await _rsvp(request)
        t = translator(language(request))
        return site.templates.render(
            request,
            "answer_rsvp.html",
            page=page,
            csrf=await site.csrf.token(page.scope),
            base=request.path.rstrip("/"),
            answers=[(a, rsvp_label(t, a)) for a in RSVP_ANSWERS],
            mine=rsvp_label(t, page.mine) if page.mine else None,
            saved=request.query.get("saved") == "1",
        )

    async def confirm_rsvp(request: web.Request) -> web.Response:
        """What an answer link in a mail opens: the answer to confirm with a button."""
        answer = _answer(request)
        page = await _rsvp(request)
        t = translator(language(request))
        return site.templates.render(
            request,
            "answer_rsvp_confirm.html",
            page=page,
            csrf=await site.csrf.token(page.scope),
            action=request.path,
            all_answers=request.path.rsplit("/", 1)[0],
            answer=answer,
            label=answer_word(t, answer),
            mine=rsvp_label(t, page.mine) if page.mine else None,
        )

    async def post_rsvp(request: web.Request) -> web.StreamResponse:
        answer = _answer(request)
        page = await _rsvp(request)
        await site.csrf.form(request, page.scope)
        token = request.match_info["token"]
        try:
            await answer_rsvp(services, token, answer, language(request))
        except NotFound:
            raise web.HTTPNotFound() from None
        except Refused:
            pass  # the page says why (page.refusal); nothing was stored
        raise _back(request, RSVP_PATH.format(token=token))

    poll_path = POLL_PATH.replace("{token}", "{token:[A-Za-z0-9_-]{1,100}}")
    rsvp_path = RSVP_PATH.replace("{token}", "{token:[A-Za-z0-9_-]{1,100}}")
    return [
        web.get(poll_path, show_poll),
        web.post(poll_path, post_poll),
        web.get(rsvp_path, show_rsvp),
        web.get(rsvp_path + "/{answer}", confirm_rsvp),
        web.post(rsvp_path + "/{answer}", post_rsvp),
    ]
