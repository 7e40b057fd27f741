"""Search the decisions of all groups, for admins: by words, kind, addressee and period, with
where forwarded ones stand. Only decisions of approved minutes are found, and only in a
private chat or an admin chat, so no working group sees another's decisions this way."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.dates import format_date
from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.messages import Reply
from bot.core.numbers import decision_label
from bot.core.router import Arg, ArgKind, Command
from handlers.admins.directory import admin_group_ids, is_admin
from handlers.context import HandlerContext
from handlers.minutes.render import kind_text
from handlers.organisation.search_query import QueryError, parse_query
from handlers.organisation.status import forwarding_status
from storage import organisation as org_store

MAX_RESULTS = 30


async def _require_admin_place(ctx: HandlerContext) -> None:
    settings = ctx.services.settings
    if not await is_admin(ctx.session, settings, ctx.user.id):
        raise UserError(ctx._("Only admins may do that."))
    if ctx.message.is_direct:
        return
    if ctx.group is None or ctx.group.id not in await admin_group_ids(ctx.session, settings):
        raise UserError(ctx._("Please do this in our private chat or in the admin group."))


def _start_of(day: object, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz)  # type: ignore[arg-type]


async def search(ctx: HandlerContext) -> Reply:
    await _require_admin_place(ctx)
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
    found = await org_store.approved_decisions(
        ctx.session,
        words=query.words,
        kind=query.kind.value if query.kind else None,
        addressee=query.addressee,
        since=_start_of(query.since, ctx.tz) if query.since else None,
        until=_start_of(query.until + timedelta(days=1), ctx.tz) if query.until else None,
        limit=MAX_RESULTS,
    )
    if not found:
        return Reply(ctx._("No decision of approved minutes matches."))
    status = await forwarding_status(ctx, [decision for decision, _, _ in found])
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
        N_("Admins: search the decisions of all groups"),
        german="gesamtsuche",
        args=(Arg("query", N_("words and filters"), kind=ArgKind.TEXT, required=False),),
        details=N_(
            "Finds decisions of approved minutes in every group, with the status of those sent "
            "to other groups. Filters: kind:recommendation|assignment|decision|info, "
            "to:Strategiekreis, from:01.01.2021, until:31.12.2021. Example: /orgsearch "
            "checks kind:recommendation from:01.01.2021. In a private chat or the admin group."
        ),
        admin_only=True,
    ),
)
