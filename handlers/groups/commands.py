"""Registering a chat as a working group, and the settings of groups and people."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from bot.core.dates import format_date
from bot.core.enums import GroupKind, Role
from bot.core.errors import UserError
from bot.core.i18n import LANGUAGE_NAMES, LANGUAGES, N_
from bot.core.messages import Reply
from bot.core.router import Arg, ArgKind, Command, Scope
from handlers.context import HandlerContext
from handlers.dispatcher import not_registered_text
from handlers.members.presence import admin_rights_note
from storage import people
from storage.models import Group

KIND_CHOICES = {
    "ag": GroupKind.AG.value,
    "arbeitsgruppe": GroupKind.AG.value,
    "wg": GroupKind.AG.value,
    "fachgruppe": GroupKind.FACHGRUPPE.value,
    "fg": GroupKind.FACHGRUPPE.value,
    "expert": GroupKind.FACHGRUPPE.value,
    "netzwerk": GroupKind.NETZWERK.value,
    "network": GroupKind.NETZWERK.value,
    "regional": GroupKind.NETZWERK.value,
    "adhoc": GroupKind.ADHOC.value,
    "ad-hoc": GroupKind.ADHOC.value,
}
KIND_NAMES = {
    GroupKind.AG.value: N_("working group (AG)"),
    GroupKind.FACHGRUPPE.value: N_("expert group (Fachgruppe)"),
    GroupKind.NETZWERK.value: N_("regional network"),
    GroupKind.ADHOC.value: N_("ad-hoc working group"),
}
LANGUAGE_CHOICES = {
    "de": "de",
    "deutsch": "de",
    "german": "de",
    "en": "en",
    "englisch": "en",
    "english": "en",
}


@cache
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def resolve_timezone(text: str) -> str | None:
    """`europe/berlin` → `Europe/Berlin`; also bare cities like `Berlin` or `London`."""
    zones = _zones_by_lower_name()
    key = text.strip().lower().replace(" ", "_")
    if key in zones:
        return zones[key]
    matches = [name for lower, name in zones.items() if lower.endswith("/" + key)]
    return matches[0] if len(matches) == 1 else None


def _registered_group(ctx: HandlerContext) -> Group:
    if ctx.group is None:
        raise UserError(
            ctx._(
                "Please register this chat first with {register}.",
                register=ctx.command_name("register"),
            )
        )
    return ctx.group


async def register(ctx: HandlerContext) -> Reply:
    message = ctx.message
    if ctx.group is not None:
        return Reply(
            ctx._(
                "This chat is already registered as “{name}”. {settings} shows its settings.",
                name=ctx.group.name,
                settings=ctx.command_name("settings"),
            )
        )
    if not await ctx.platform.is_chat_admin(message.chat.chat_id, message.sender.user_id):
        return Reply(ctx._("Only an admin of this chat can register it as a working group."))
    name = ctx.args["name"].strip()
    if not name:
        raise UserError(ctx._("Please give the group a name."))
    group = await people.create_group(
        ctx.session,
        name=name,
        kind=ctx.args["kind"],
        timezone=ctx.services.settings.bot_timezone,
        language=ctx.services.settings.bot_language,
        platform=message.platform,
        chat_id=message.chat.chat_id,
        chat_title=message.chat.title,
        creator=ctx.user,
        now=ctx.now,
    )
    member = await people.ensure_membership(ctx.session, group.id, ctx.user.id, ctx.now)
    member.role = Role.CHAIR.value
    member.role_granted_by_user_id = ctx.user.id
    ctx.group, ctx.member = group, member
    note = await admin_rights_note(ctx)
    text = ctx._(
        "Registered “{name}” as {kind}. You are its chair.\n"
        "Time zone {tz}, language {language}; change them with {timezone} and {lang}.",
        name=group.name,
        kind=ctx._(KIND_NAMES[group.kind]),
        tz=group.timezone,
        language=LANGUAGE_NAMES[group.language],
        timezone=ctx.command_name("timezone"),
        lang=ctx.command_name("language"),
    )
    return Reply(f"{text}\n\n{note}" if note else text)


async def settings(ctx: HandlerContext) -> Reply:
    if ctx.message.is_direct:
        return Reply(
            ctx._(
                "Your settings:\nLanguage: {language}\nTime zone: {tz}\n"
                "Change them with {lang} and {timezone}.",
                language=LANGUAGE_NAMES[ctx.language],
                tz=ctx.user.timezone or ctx.services.settings.bot_timezone,
                lang=ctx.command_name("language"),
                timezone=ctx.command_name("timezone"),
            )
        )
    if ctx.group is None:
        return Reply(not_registered_text(ctx))
    group = ctx.group
    return Reply(
        ctx._(
            "Working group “{name}”\nKind: {kind}\nTime zone: {tz}\nLanguage: {language}\n"
            "Registered on {date}.",
            name=group.name,
            kind=ctx._(KIND_NAMES[group.kind]),
            tz=group.timezone,
            language=LANGUAGE_NAMES[group.language],
            date=format_date(
                group.created_at.astimezone(ZoneInfo(group.timezone)).date(), ctx.language
            ),
        )
    )


async def language(ctx: HandlerContext) -> Reply:
    chosen = ctx.args["language"]
    if ctx.message.is_direct:
        ctx.user.language = chosen
        ctx.t = type(ctx.t)(chosen)
        return Reply(ctx._("I will speak {language} with you.", language=LANGUAGE_NAMES[chosen]))
    group = _registered_group(ctx)
    group.language = chosen
    ctx.t = type(ctx.t)(chosen)
    return Reply(ctx._("This group now speaks {language}.", language=LANGUAGE_NAMES[chosen]))


async def timezone(ctx: HandlerContext) -> Reply:
    zone = resolve_timezone(ctx.args["zone"])
    if zone is None:
        raise UserError(
            ctx._(
                "I don't know the time zone “{zone}”. Please use a name like Europe/Berlin.",
                zone=ctx.args["zone"],
            )
        )
    if ctx.message.is_direct:
        ctx.user.timezone = zone
        return Reply(ctx._("Your time zone is now {zone}.", zone=zone))
    _registered_group(ctx).timezone = zone
    return Reply(ctx._("The group's time zone is now {zone}.", zone=zone))


COMMANDS = (
    Command(
        "register",
        register,
        N_("Register this chat as a working group"),
        german="registrieren",
        args=(
            Arg(
                "kind",
                N_("kind"),
                kind=ArgKind.CHOICE,
                choices=KIND_CHOICES,
                display={"de": "ag|fachgruppe|netzwerk|adhoc", "en": "ag|expert|network|adhoc"},
            ),
            Arg("name", N_("name"), kind=ArgKind.TEXT, max_length=120),
        ),
        details=N_(
            "Kinds: ag (standing working group), fachgruppe (expert group), netzwerk "
            "(regional network), adhoc (ad-hoc working group). Example: "
            '/register ag "AG Transfer". Only a chat admin can register a chat; '
            "they become its first chair."
        ),
        scope=Scope.GROUP,
    ),
    Command(
        "settings",
        settings,
        N_("Show the settings of this group, or yours in a private chat"),
        german="einstellungen",
    ),
    Command(
        "language",
        language,
        N_("Set the language (de or en) of this group, or yours"),
        german="sprache",
        args=(
            Arg(
                "language",
                N_("language"),
                kind=ArgKind.CHOICE,
                choices=LANGUAGE_CHOICES,
                display={lang: "|".join(LANGUAGES) for lang in LANGUAGES},
            ),
        ),
        details=N_("In a group only chairs can change it; in a private chat it is your own."),
        role=Role.CHAIR,
    ),
    Command(
        "timezone",
        timezone,
        N_("Set the time zone of this group, or yours"),
        german="zeitzone",
        args=(Arg("zone", N_("time zone")),),
        details=N_(
            "A name like Europe/Berlin (the default) or a city like London. In a group only "
            "chairs can change it; in a private chat it is your own."
        ),
        role=Role.CHAIR,
    ),
)
