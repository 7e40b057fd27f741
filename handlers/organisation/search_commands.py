"""Search the decisions of all groups, for admins and the steering body: by words, kind,
addressee and period, with where forwarded ones stand. Only decisions of approved minutes are
found; the steering body sees only what each group's chair lets leave the group (/digestshare).
Admins search in a private chat or an admin chat, the steering body in a private chat or its
own chat, so no other working group sees another's decisions this way."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.dates import format_date
from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.messages import Reply
from bot.core.numbers import decision_label
from bot.core.router import Arg, ArgKind, Command
from handlers.context import HandlerContext
from handlers.minutes.render import kind_text
from handlers.organisation.access import Viewer, require_viewer
from handlers.organisation.search_query import QueryError, parse_query
from handlers.organisation.status import forwarding_status
from storage import digest as digest_store
from storage import organisation as org_store

MAX_RESULTS = 30


def _start_of(day: object, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz)  # type: ignore[arg-type]


async def search(ctx: HandlerContext) -> Reply:
    viewer = await require_viewer(ctx)
    try:
        query = parse_query(ctx.args.get("query") or "", now=ctx.now, tz=ctx.tz)
    except QueryError as error:
        if error.code == "kind":
            raise UserError(
                ctx._(
                    "“{value}” is no kind: recommendation, assignment, decision or info.",
                    value=error.value,
                )
            ) from error
        if error.code == "words":
            raise UserError(
                ctx._("Please search with at most {n} words.", n=error.value)
            ) from error
        raise UserError(ctx._("“{value}” is no date I can read.", value=error.value)) from error
    filters = {
        "words": query.words,
        "kind": query.kind.value if query.kind else None,
        "addressee": query.addressee,
        "since": _start_of(query.since, ctx.tz) if query.since else None,
        "until": _start_of(query.until + timedelta(days=1), ctx.tz) if query.until else None,
        "limit": MAX_RESULTS,
    }
    receivers: set[int] | None = None  # whose handling of a forwarded decision is shown
    if viewer is Viewer.ADMIN:
        found = await org_store.approved_decisions(ctx.session, **filters)  # type: ignore[arg-type]
    else:
        shares = await digest_store.shares(ctx.session)
        shared = await digest_store.search_shared(ctx.session, shares, **filters)  # type: ignore[arg-type]
        found = [(s.decision, s.meeting, s.group) for s in shared]
        receivers = {g for g, share in shares.items() if share != digest_store.SHARE_NONE}
    if not found:
        return Reply(ctx._("No decision of approved minutes matches."))
    status = await forwarding_status(
        ctx, [decision for decision, _, _ in found], receivers=receivers
    )
    lines = [ctx._("Decisions of all groups (approved minutes), newest first:")]
    for decision, meeting, group in found:
        day = format_date(meeting.starts_at.astimezone(ctx.tz).date(), ctx.language)
        label = decision_label(decision.year, decision.number)
        kind = kind_text(ctx.t, decision.kind, decision.addressee)
        lines.append(
            f"• {group} {label} ({day}) {kind}: {decision.text}{status.get(decision.id, '')}"
        )
    return Reply("\n".join(lines))


COMMANDS = (
    Command(
        "orgsearch",
        search,
        N_("Admins and the steering body: search the decisions of all groups"),
        german="gesamtsuche",
        args=(Arg("query", N_("words and filters"), kind=ArgKind.TEXT, required=False),),
        details=N_(
            "Finds decisions of approved minutes in every group, with the status of those sent "
            "to other groups. Filters: kind:recommendation|assignment|decision|info, "
            "to:Strategiekreis, from:01.01.2021, until:31.12.2021. Example: /orgsearch "
            "checks kind:recommendation from:01.01.2021. Admins search in a private chat or the "
            "admin group; members of the steering body (/steeringbody) in a private chat or "
            "their group, and find only what each group's chair shares (/digestshare)."
        ),
    ),
)
