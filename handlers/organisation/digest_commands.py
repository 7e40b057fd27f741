"""Commands of the organisation digest (Infodienst) and the steering body: admins choose
where the digest goes and how often, and which group is the steering body; each group's
chair chooses what of the group appears (in the digest and the steering body's search)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.core.dates import format_date
from bot.core.enums import Role
from bot.core.errors import UserError
from bot.core.i18n import N_, Translator
from bot.core.mail import MAIL_PLATFORM
from bot.core.messages import Reply
from bot.core.router import Arg, ArgKind, Command, Scope
from handlers.admins.directory import is_admin
from handlers.context import HandlerContext, local_today
from handlers.dispatcher import role_name
from handlers.email.typed_address import (
    EmailNotValidError,
    UnsendableAddress,
    checked_address,
    unsendable_text,
)
from handlers.organisation.access import require_admin_place, steering_group_id
from handlers.organisation.addressees import candidates
from handlers.organisation.addressing import match
from handlers.organisation.digest_jobs import collect, frequency_of, midnight
from handlers.organisation.digest_period import (
    FREQUENCY_WORDS,
    Frequency,
    last_complete_period,
    next_send_day,
)
from handlers.organisation.digest_render import render_digest
from storage import digest as digest_store
from storage import people
from storage.email_addresses import address_key

HERE = {"hier", "here"}
REMOVE = {"entfernen", "remove"}
PREVIEW = {"vorschau", "preview"}
OFF = {"aus", "off", "none", "keiner", "keine"}
SHARE_WORDS = {
    "alle": digest_store.SHARE_APPROVED,
    "all": digest_store.SHARE_APPROVED,
    "empfehlungen": digest_store.SHARE_FORWARDED,
    "recommendations": digest_store.SHARE_FORWARDED,
    "aus": digest_store.SHARE_NONE,
    "off": digest_store.SHARE_NONE,
    "none": digest_store.SHARE_NONE,
}
FREQUENCY_NAMES = {Frequency.WEEKLY: N_("weekly"), Frequency.MONTHLY: N_("monthly")}
SHARE_NAMES = {
    digest_store.SHARE_APPROVED: N_(
        "all decisions of approved minutes and the meetings they announce"
    ),
    digest_store.SHARE_FORWARDED: N_("only recommendations and assignments of approved minutes"),
    digest_store.SHARE_NONE: N_("nothing"),
}


def _next_day(ctx: HandlerContext, frequency: Frequency) -> str:
    return format_date(next_send_day(local_today(ctx.services, ctx.now), frequency), ctx.language)


def _frequency_text(ctx: HandlerContext, frequency: Frequency) -> str:
    return ctx._(FREQUENCY_NAMES[frequency])


async def digest(ctx: HandlerContext) -> Reply:
    words = (ctx.args.get("action") or "").split()
    first = words[0].casefold() if words else ""
    if first in HERE or (first in REMOVE and len(words) == 2 and words[1].casefold() in HERE):
        # Adding or removing the chat one is in: any chat, but only by an admin, there.
        if not await is_admin(ctx.session, ctx.services.settings, ctx.user.id):
            raise UserError(ctx._("Only admins may do that."))
        return await (_add_here(ctx) if first in HERE else _remove_here(ctx))
    await require_admin_place(ctx)
    if not first:
        return await _status(ctx)
    if first in FREQUENCY_WORDS:
        frequency = FREQUENCY_WORDS[first]
        await digest_store.update_settings(ctx.session, ctx.now, digest_frequency=frequency.value)
        return Reply(
            ctx._(
                "The digest now goes out {frequency}; the next on {date}.",
                frequency=_frequency_text(ctx, frequency),
                date=format_date(
                    next_send_day(local_today(ctx.services, ctx.now), frequency), ctx.language
                ),
            )
        )
    if first in PREVIEW:
        return await _preview(ctx)
    if first in REMOVE and len(words) == 2:
        return await _remove(ctx, words[1])
    if len(words) == 1:
        return await _add_address(ctx, words[0])
    raise UserError(_usage(ctx))


def _usage(ctx: HandlerContext) -> str:
    command = ctx.command_name("digest")
    de = ctx.language == "de"
    return ctx._(
        "Please write {command} alone (status), “{here}” (this chat), an e-mail address, "
        "“{remove} …”, “{weekly}”, “{monthly}” or “{preview}”.",
        command=command,
        here="hier" if de else "here",
        remove="entfernen" if de else "remove",
        weekly="wöchentlich" if de else "weekly",
        monthly="monatlich" if de else "monthly",
        preview="vorschau" if de else "preview",
    )


async def _add_here(ctx: HandlerContext) -> Reply:
    chat = ctx.message.chat
    added = await digest_store.add_destination(
        ctx.session,
        platform=chat.platform,
        target=chat.chat_id,
        target_key=chat.chat_id,
        user_id=ctx.user.id if ctx.message.is_direct else None,
        language=ctx.language,
        added_by=ctx.user.id,
        now=ctx.now,
    )
    if not added:
        return Reply(ctx._("This chat gets the digest already."))
    return Reply(
        ctx._(
            "This chat now gets the organisation's digest. To stop it: {command}",
            command=ctx.command_name("digest")
            + (" entfernen hier" if ctx.language == "de" else " remove here"),
        )
    )


async def _remove_here(ctx: HandlerContext) -> Reply:
    chat = ctx.message.chat
    if not await digest_store.remove_destination(ctx.session, chat.platform, chat.chat_id):
        raise UserError(ctx._("This chat does not get the digest."))
    return Reply(ctx._("This chat no longer gets the digest."))


async def _add_address(ctx: HandlerContext, given: str) -> Reply:
    try:
        address = checked_address(given)
    except UnsendableAddress:
        raise UserError(unsendable_text(Translator(ctx.language), given)) from None
    except EmailNotValidError:
        raise UserError(_usage(ctx)) from None
    added = await digest_store.add_destination(
        ctx.session,
        platform=MAIL_PLATFORM,
        target=address,
        target_key=address_key(address),
        user_id=None,
        language=ctx.language,
        added_by=ctx.user.id,
        now=ctx.now,
    )
    if not added:
        return Reply(ctx._("{address} gets the digest already.", address=address))
    return Reply(ctx._("{address} now gets the organisation's digest.", address=address))


async def _remove(ctx: HandlerContext, given: str) -> Reply:
    targets = await digest_store.destinations(ctx.session)
    if given.isdigit() and 1 <= int(given) <= len(targets):
        target = targets[int(given) - 1]
        platform, key = target.platform, target.target_key
    else:
        platform, key = MAIL_PLATFORM, address_key(given)
    if not await digest_store.remove_destination(ctx.session, platform, key):
        raise UserError(ctx._("“{value}” gets no digest.", value=given[:100]))
    return Reply(ctx._("“{value}” no longer gets the digest.", value=given[:100]))


async def _status(ctx: HandlerContext) -> Reply:
    frequency = frequency_of(await digest_store.organisation_settings(ctx.session))
    lines = [
        ctx._(
            "The organisation's digest goes out {frequency}; the next on {date}.",
            frequency=_frequency_text(ctx, frequency),
            date=_next_day(ctx, frequency),
        )
    ]
    targets = await digest_store.destinations(ctx.session)
    if not targets:
        lines.append(ctx._("It has no destination yet: {usage}", usage=_usage(ctx)))
    for number, target in enumerate(targets, 1):
        lines.append(f"{number}. {await _destination_text(ctx, target)}")
    return Reply("\n".join(lines))


async def _destination_text(ctx: HandlerContext, target: digest_store.DigestDestination) -> str:
    if target.platform == MAIL_PLATFORM:
        return target.target
    if target.user_id is not None:
        names = await people.display_names(ctx.session, [target.user_id], target.platform)
        return ctx._("private chat of {name}", name=names.get(target.user_id, "?"))
    group = await people.group_for_chat(ctx.session, target.platform, target.target)
    name = group.name if group else target.target
    return f"{name} ({target.platform})"


async def _preview(ctx: HandlerContext) -> Reply:
    """The digest as the next one would read if it went out tonight."""
    frequency = frequency_of(await digest_store.organisation_settings(ctx.session))
    tz = ZoneInfo(ctx.services.settings.bot_timezone)
    today = local_today(ctx.services, ctx.now)
    last = await digest_store.last_run(ctx.session)
    period = last_complete_period(today, frequency)
    since = last.until if last is not None else midnight(period.end, tz)
    until = midnight(today + timedelta(days=1), tz)
    content = await collect(ctx.session, since=since, until=until, frequency=frequency, tz=tz)
    return Reply(render_digest(Translator(ctx.language), content, tz), markdown=True)


async def share(ctx: HandlerContext) -> Reply:
    assert ctx.group is not None
    wanted = (ctx.args.get("choice") or "").strip().casefold()
    if not wanted:
        current = (await digest_store.shares(ctx.session)).get(
            ctx.group.id, digest_store.SHARE_APPROVED
        )
        return Reply(
            ctx._(
                "The organisation's digest and the steering body's search show of {group}: "
                "{share}. A chair changes it: {command}",
                group=ctx.group.name,
                share=ctx._(SHARE_NAMES[current]),
                command=f"{ctx.command_name('digestshare')} "
                + ("alle|empfehlungen|aus" if ctx.language == "de" else "all|recommendations|off"),
            )
        )
    if ctx.role is None or not ctx.role.allows(Role.CHAIR):
        raise UserError(
            ctx._(
                "Only {role} may do that in this group. Ask a chair to give you that role.",
                role=role_name(ctx, Role.CHAIR.value),
            )
        )
    if wanted not in SHARE_WORDS:
        raise UserError(
            ctx._(
                "Please choose {choices}.",
                choices="alle, empfehlungen, aus"
                if ctx.language == "de"
                else "all, recommendations, off",
            )
        )
    chosen = SHARE_WORDS[wanted]
    await digest_store.set_share(
        ctx.session, group_id=ctx.group.id, share=chosen, user_id=ctx.user.id, now=ctx.now
    )
    return Reply(
        ctx._(
            "From now on the organisation's digest and the steering body's search show of "
            "{group}: {share}.",
            group=ctx.group.name,
            share=ctx._(SHARE_NAMES[chosen]),
        )
    )


async def steering_body(ctx: HandlerContext) -> Reply:
    await require_admin_place(ctx)
    wanted = " ".join((ctx.args.get("group") or "").split())
    if not wanted:
        current = await steering_group_id(ctx)
        if current is None:
            return Reply(
                ctx._(
                    "No group is the steering body yet. An admin names one: {command}",
                    command=f"{ctx.command_name('steeringbody')} Strategiekreis",
                )
            )
        group = await people.group_by_id(ctx.session, current)
        return Reply(
            ctx._(
                "{group} is the steering body: its members may search the decisions of all "
                "groups ({command}).",
                group=group.name,
                command=ctx.command_name("orgsearch"),
            )
        )
    if wanted.casefold() in OFF:
        await digest_store.update_settings(ctx.session, ctx.now, steering_group_id=None)
        return Reply(ctx._("No group is the steering body any more."))
    found = match(wanted, await candidates(ctx.session))
    if len(found) != 1:
        names = ", ".join(c.name for c in found) or "–"
        raise UserError(
            ctx._("Please name exactly one registered group. Matching: {groups}", groups=names)
        )
    await digest_store.update_settings(ctx.session, ctx.now, steering_group_id=found[0].group_id)
    return Reply(
        ctx._(
            "{group} is now the steering body: its members may search the decisions of all "
            "groups ({command}), as far as each group's chair shares them.",
            group=found[0].name,
            command=ctx.command_name("orgsearch"),
        )
    )


COMMANDS = (
    Command(
        "digest",
        digest,
        N_("Admins: the organisation's digest (Infodienst), its destinations and rhythm"),
        german="infodienst",
        args=(Arg("action", N_("what to do"), kind=ArgKind.TEXT, required=False, max_length=300),),
        details=N_(
            "New decisions of all groups (recommendations and assignments first), upcoming "
            "meetings, what waits between groups and the advisor registry's figures, weekly "
            "(Mondays) or monthly (on the 1st). /digest here: this chat gets it; /digest "
            "name@example.org: that address; /digest remove here|address|number; /digest "
            "weekly|monthly; /digest preview. Each group's chair chooses what of the group "
            "appears (/digestshare)."
        ),
        admin_only=True,
    ),
    Command(
        "digestshare",
        share,
        N_("What of this group the organisation's digest and the steering body see"),
        german="infodienstfreigabe",
        args=(Arg("choice", N_("all|recommendations|off"), required=False),),
        details=N_(
            "Default: all decisions of approved minutes and the meetings they announce. "
            "“recommendations”: only recommendations and assignments; “off”: nothing of this "
            "group. Nothing of draft minutes ever leaves the group. Changing it is for chairs."
        ),
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "steeringbody",
        steering_body,
        N_("Admins: name the group that is the steering body (Strategiekreis)"),
        german="strategiekreis",
        args=(Arg("group", N_("group"), kind=ArgKind.TEXT, required=False, max_length=200),),
        details=N_(
            "Its members may search the decisions of all groups with /orgsearch, as far as "
            "each group's chair shares them. /steeringbody off: no group."
        ),
        admin_only=True,
    ),
)
