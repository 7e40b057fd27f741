"""The advisor registry in chat: admins add, edit, list and show advisors, record experience
exchanges and attendance, hand out link codes and preview the escalation run.

Registry data is shown only to admins (see `handlers.admins`), and only in a private chat or
an admin chat. The escalation itself lives in `handlers.advisors.escalation`.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.core.dates import format_date, parse_date
from bot.core.enums import AuthorizationSource, ListingStatus, Role, StepOutcome
from bot.core.errors import UserError
from bot.core.i18n import N_, Translator
from bot.core.messages import Reply
from bot.core.numbers import small_number
from bot.core.router import Arg, ArgKind, Command
from handlers.admins.directory import admin_group_ids, is_admin
from handlers.advisors import actions
from handlers.advisors.consent import ConsentError, consented, describe, parse_consent, stored
from handlers.advisors.escalation import (
    advisor_policy,
    exchange_info,
    handle_advisor_now,
    preview,
)
from handlers.advisors.letters import describe_exchange, preview_text, step_name
from handlers.advisors.policy import EscalationPolicy, timeline
from handlers.advisors.registry_csv import ADVISOR_CODE
from handlers.context import HandlerContext
from handlers.email.typed_address import (
    EmailNotValidError,
    UnsendableAddress,
    checked_address,
    unsendable_text,
)
from handlers.meetings.commands import read_when
from storage import advisors as advisor_store
from storage import linking
from storage.models import Advisor, AdvisorInstitution

LANGUAGE_CHOICES = {"de": "de", "deutsch": "de", "german": "de", "en": "en", "englisch": "en"}
LIST_LIMIT = 30
ADD_EXAMPLE = (
    "Berta Beispiel | berta@example.org | RKW Nord | Digitalisierung, Finanzierung | 15.03.2021"
)
EXCHANGE_EXAMPLE = '10.03.2027 9-12 Uhr "IHK Köln" | https://meet.example.org/eax | 30'

OUTCOME_NAMES = {
    StepOutcome.SENT.value: N_("sent"),
    StepOutcome.MISSED.value: N_("missed (superseded), reported"),
    StepOutcome.UNREACHABLE.value: N_("not reachable by chat or e-mail, reported"),
    StepOutcome.MANUAL.value: N_("by an admin"),
}
SOURCE_NAMES = {
    AuthorizationSource.INITIAL.value: N_("initial"),
    AuthorizationSource.EXCHANGE.value: N_("experience exchange"),
    AuthorizationSource.IMPORT.value: N_("import"),
    AuthorizationSource.MANUAL.value: N_("entered by an admin"),
}
STATUS_NAMES = {
    ListingStatus.LISTED.value: N_("listed"),
    ListingStatus.DELISTED.value: N_("delisted"),
}


async def require_admin(ctx: HandlerContext) -> None:
    """Admins only, and only where registry data may be shown."""
    settings = ctx.services.settings
    if not await is_admin(ctx.session, settings, ctx.user.id):
        raise UserError(ctx._("Only admins may use the advisor registry."))
    if ctx.message.is_direct:
        return
    if ctx.group is None or ctx.group.id not in await admin_group_ids(ctx.session, settings):
        raise UserError(
            ctx._("Please use the advisor registry in our private chat or in the admin group.")
        )


def _policy(ctx: HandlerContext) -> EscalationPolicy | None:
    return advisor_policy(ctx.services.settings)


def _today(ctx: HandlerContext) -> date:
    return ctx.now.astimezone(ctx.tz).date()


def _date(ctx: HandlerContext, text: str) -> date:
    return parse_date(text.strip(), now=ctx.now, tz=ctx.tz, prefer_future=False)


def _check_email(ctx: HandlerContext, email: str) -> str:
    email = email.strip()
    try:
        return checked_address(email)
    except UnsendableAddress:
        raise UserError(unsendable_text(Translator(ctx.language), email)) from None
    except EmailNotValidError:
        raise UserError(ctx._("“{value}” is not an e-mail address.", value=email)) from None


async def _advisor(ctx: HandlerContext, ref: str) -> Advisor:
    advisor = await advisor_store.find_advisor(ctx.session, ref)
    if advisor is None:
        raise UserError(
            ctx._(
                "There is no advisor “{ref}”. {command} lists them.",
                ref=ref,
                command=ctx.command_name("advisors"),
            )
        )
    return advisor


def _line(ctx: HandlerContext, advisor: Advisor) -> str:
    status = ctx._(STATUS_NAMES[advisor.status])
    linked = "" if advisor.user_id else " " + ctx._("(no chat account linked)")
    email = advisor.email or "–"
    return f"#{advisor.id} {advisor.name} <{email}>, {advisor.institution} – {status}{linked}"


async def advisors(ctx: HandlerContext) -> Reply:
    await require_admin(ctx)
    query = (ctx.args.get("query") or "").strip()
    if query and (query.lstrip("#").isdigit() or "@" in query):
        return Reply(await _details(ctx, await _advisor(ctx, query)))
    found, total = await advisor_store.list_advisors(
        ctx.session, search=query or None, limit=LIST_LIMIT
    )
    if not found:
        return Reply(
            ctx._(
                "No advisors found. Add one with {command}, or import a CSV file with the "
                "command line: ag-assistant advisors import FILE.csv",
                command=ctx.command_name("advisoradd"),
            )
        )
    lines = [ctx.ngettext("{n} advisor:", "{n} advisors:", total)]
    lines += [f"• {_line(ctx, a)}" for a in found]
    if total > len(found):
        lines.append(ctx._("… and {more} more; narrow the search.", more=total - len(found)))
    lines.append(
        ctx._("Details and timeline: {command}", command=ctx.command_name("advisors") + " 12")
    )
    return Reply("\n".join(lines))


async def _details(ctx: HandlerContext, advisor: Advisor) -> str:
    lines = [_line(ctx, advisor)]
    if advisor.email_unreachable_at is not None:
        lines.append(
            ctx._(
                "E-mail undeliverable since {day} ({reason}); no letters go there until the "
                "address is changed: {command}",
                day=format_date(
                    advisor.email_unreachable_at.astimezone(ctx.tz).date(), ctx.language
                ),
                reason=advisor.email_unreachable_reason or ctx._("no reason given"),
                command=ctx.command_name("advisoredit") + f" {advisor.id} email=…",
            )
        )
    if advisor.fields:
        lines.append(ctx._("Consulting fields: {fields}", fields=advisor.fields))
    if advisor.region:
        lines.append(ctx._("Region: {region}", region=advisor.region))
    lines.append(_published_line(ctx, advisor))
    lines.append(ctx._("Language: {language}", language=advisor.language))
    lines.append(ctx._("Authorizations:"))
    for auth in await advisor_store.authorizations(ctx.session, advisor.id):
        source = ctx._(SOURCE_NAMES[auth.source])
        lines.append(f"• {format_date(auth.authorized_on, ctx.language)} – {source}")
    policy = _policy(ctx)
    if policy is None:
        lines.append(ctx._("No escalation policy is active (ADVISOR_POLICY_START is not set)."))
        return "\n".join(lines)
    history = await actions.history(ctx.session, advisor.id)
    entries = timeline(history, policy)
    if entries:
        lines.append(
            ctx._(
                "Timeline of the authorization of {day}:",
                day=format_date(entries[0].cycle_start, ctx.language),
            )
        )
    outcomes = {
        (s.step, s.cycle_start): s for s in await advisor_store.steps_of(ctx.session, advisor.id)
    }
    for entry in entries:
        record = outcomes.get((entry.step.value, entry.cycle_start))
        state = (
            ctx._(OUTCOME_NAMES[record.outcome])
            + " "
            + format_date(record.done_at.astimezone(ctx.tz).date(), ctx.language)
            if record
            else ctx._("planned")
        )
        deadline = (
            " " + ctx._("(deadline {day})", day=format_date(entry.deadline, ctx.language))
            if entry.deadline
            else ""
        )
        lines.append(
            f"• {format_date(entry.due_on, ctx.language)} {step_name(ctx.t, entry.step)}"
            f"{deadline}: {state}"
        )
    if advisor.next_step_on:
        lines.append(
            ctx._("Next step due: {day}", day=format_date(advisor.next_step_on, ctx.language))
        )
    return "\n".join(lines)


def _published_line(ctx: HandlerContext, advisor: Advisor) -> str:
    """What the public advisor list shows of this entry (the advisor's consent)."""
    chosen = consented(advisor.published)
    if not chosen:
        return ctx._("Public advisor list: nothing published (no consent recorded).")
    line = ctx._("Public advisor list, agreed: {parts}", parts=describe(ctx.t, chosen))
    if advisor.published_changed_at is not None:
        day = format_date(advisor.published_changed_at.astimezone(ctx.tz).date(), ctx.language)
        line += " " + ctx._("(recorded {day})", day=day)
    if advisor.status != ListingStatus.LISTED.value:
        line += " – " + ctx._("not shown while delisted")
    return line


async def add_advisor(ctx: HandlerContext) -> Reply:
    await require_admin(ctx)
    parts = [p.strip() for p in ctx.args["details"].split("|")]
    if len(parts) not in (5, 6) or not all(parts[:3]) or not parts[4]:
        raise UserError(
            ctx._(
                "Please give name | e-mail | training institution | consulting fields | date "
                "of authorization [| language], e.g. {example}",
                example=ctx.command_name("advisoradd") + " " + ADD_EXAMPLE,
            )
        )
    name, email, institution, fields, authorized = parts[:5]
    email = _check_email(ctx, email)
    language = ctx.services.settings.bot_language
    if len(parts) == 6 and parts[5]:
        language = LANGUAGE_CHOICES.get(parts[5].lower(), "")
        if not language:
            raise UserError(ctx._("The language must be de or en."))
    if await advisor_store.find_advisor(ctx.session, email) is not None:
        raise UserError(
            ctx._("An advisor with the e-mail address {email} exists already.", email=email)
        )
    day = _date(ctx, authorized)
    if day > _today(ctx):
        raise UserError(ctx._("The authorization date lies in the future."))
    advisor = await actions.create_advisor(
        ctx.session,
        name=name[:200],
        email=email,
        institution=institution[:200],
        fields=fields[:500],
        language=language,
        authorized_on=day,
        source=AuthorizationSource.MANUAL,
        now=ctx.now,
        policy=_policy(ctx),
    )
    return Reply(ctx._("Advisor added:") + "\n" + await _details(ctx, advisor))


EDIT_FIELDS = {
    "name": "name",
    "email": "email",
    "e-mail": "email",
    "mail": "email",
    "institution": "institution",
    "institut": "institution",
    "fields": "fields",
    "felder": "fields",
    "beratungsfelder": "fields",
    "language": "language",
    "sprache": "language",
    "authorized": "authorized",
    "autorisiert": "authorized",
    "status": "status",
    "region": "region",
    "published": "published",
    "publish": "published",
    "public": "published",
    "veroeffentlichen": "published",
    "veröffentlichen": "published",
    "oeffentlich": "published",
    "öffentlich": "published",
}
DELISTED_WORDS = {"delisted", "delisten", "gesperrt", "entfernt", "ausgelistet"}


async def edit_advisor(ctx: HandlerContext) -> Reply:
    await require_admin(ctx)
    advisor = await _advisor(ctx, ctx.args["advisor"])
    field_name, _, value = ctx.args["change"].partition("=")
    key = EDIT_FIELDS.get(field_name.strip().lower())
    value = value.strip()
    if key is None or not value:
        raise UserError(
            ctx._(
                "Please write field=value; fields: name, email, institution, fields, region, "
                "language, authorized (a renewal date), status=delisted, published (what the "
                "public advisor list may show). Example: {example}",
                example=ctx.command_name("advisoredit") + " 12 email=neu@example.org",
            )
        )
    policy = _policy(ctx)
    if key == "email":
        value = _check_email(ctx, value)
        other = await advisor_store.find_advisor(ctx.session, value)
        if other is not None and other.id != advisor.id:
            raise UserError(
                ctx._("An advisor with the e-mail address {email} exists already.", email=value)
            )
        advisor_store.set_email(advisor, value)  # an unreachable mark goes: tried again
    elif key == "language":
        language = LANGUAGE_CHOICES.get(value.lower())
        if language is None:
            raise UserError(ctx._("The language must be de or en."))
        advisor.language = language
    elif key == "authorized":
        day = _date(ctx, value)
        if day > _today(ctx):
            raise UserError(ctx._("The authorization date lies in the future."))
        await actions.add_authorization(
            ctx.session, advisor, day, source=AuthorizationSource.MANUAL, now=ctx.now, policy=policy
        )
        if await _relist_at_once(ctx, advisor):
            advisor.updated_at = ctx.now
            return Reply(
                ctx._("Saved.")
                + _relisted_note(ctx, [advisor.name])
                + "\n"
                + await _details(ctx, advisor)
            )
    elif key == "status":
        if value.lower() not in DELISTED_WORDS:
            raise UserError(
                ctx._(
                    "Only status=delisted can be set by hand; an advisor is listed again by "
                    "a renewal (attendance, or authorized=DATE)."
                )
            )
        await _delist_by_hand(ctx, advisor)
    elif key == "published":
        _set_published(ctx, advisor, value)
    else:
        setattr(advisor, key, value[:500] if key == "fields" else value[:200])
    advisor.updated_at = ctx.now
    return Reply(ctx._("Saved.") + "\n" + await _details(ctx, advisor))


def _set_published(ctx: HandlerContext, advisor: Advisor, value: str) -> None:
    """Record what the advisor agreed to publish on the public advisor list."""
    try:
        chosen = parse_consent(value)
    except ConsentError as exc:
        raise UserError(
            ctx._(
                "“{word}” is no part of an entry. Please write {command} 12 "
                "published=name, fields, region, institution, contact – or all, or nothing.",
                word=exc.word,
                command=ctx.command_name("advisoredit"),
            )
        ) from None
    if stored(chosen) != advisor.published:
        advisor.published = stored(chosen)
        advisor.published_changed_at = ctx.now


async def _delist_by_hand(ctx: HandlerContext, advisor: Advisor) -> None:
    """Recorded like the policy's delisting, so no letters follow and a renewal relists."""
    if advisor.status == ListingStatus.DELISTED.value:
        raise UserError(ctx._("This advisor is delisted already."))
    starts = [
        a
        for a in (await actions.history(ctx.session, advisor.id)).authorizations
        if a <= _today(ctx)
    ]
    if not starts:
        raise UserError(ctx._("This advisor has no authorization yet."))
    await actions.delist(
        ctx.session,
        advisor,
        cycle_start=starts[-1],
        due_on=_today(ctx),
        now=ctx.now,
        policy=_policy(ctx),
    )


async def advisor_code(ctx: HandlerContext) -> Reply:
    await require_admin(ctx)
    advisor = await _advisor(ctx, ctx.args["advisor"])
    days = ctx.services.settings.advisor_link_code_days
    code = await advisor_store.create_link_code(
        ctx.session, advisor.id, purpose=ADVISOR_CODE, now=ctx.now, valid_for=timedelta(days=days)
    )
    advisor_t = Translator(advisor.language)
    instruction = advisor_t.gettext(
        "Please send {command} {code} to the bot in a private chat; then you get the "
        "reminders about your authorization there.",
        command=ctx.platform.command_prefix
        + ctx.services.router.get("link").display_name(advisor.language),
        code=code,
    )
    return Reply(
        ctx.ngettext(
            "Link code for {name}, valid for {n} day; pass it on to the advisor:",
            "Link code for {name}, valid for {n} days; pass it on to the advisor:",
            days,
            name=advisor.name,
        )
        + f"\n{code}\n\n"
        + instruction
    )


async def redeem_advisor_code(ctx: HandlerContext, code: str) -> Reply | None:
    """Called by the link command in a private chat: a code an admin gave to an advisor."""
    used = await linking.redeem(ctx.session, code, purpose=ADVISOR_CODE, now=ctx.now)
    if used is None:
        return None
    advisor = await advisor_store.advisor_of_code(ctx.session, used.id)
    if advisor is None:
        raise UserError(ctx._("This code is unknown or expired. Ask for a new one."))
    advisor.user_id = ctx.user.id
    advisor.updated_at = ctx.now
    return Reply(
        ctx._(
            "Thank you, {name}: you are now linked to your entry in the advisor registry. "
            "Reminders about your authorization come to this chat.",
            name=advisor.name,
        )
    )


async def exchanges(ctx: HandlerContext) -> Reply:
    details = (ctx.args.get("details") or "").strip()
    if not details:
        return await _list_exchanges(ctx)
    group_id = await _exchange_scope(ctx)
    text, *rest = [p.strip() for p in details.split("|")]
    when, provider = read_when(ctx, text)
    provider = provider.strip().strip('"').strip()
    place = rest[0] if rest else ""
    if not provider or not place or len(rest) > 2:
        raise UserError(
            ctx._(
                "Please give date time provider | place or link [| places], e.g. {example}",
                example=ctx.command_name("exchange") + " " + EXCHANGE_EXAMPLE,
            )
        )
    capacity = None
    if len(rest) == 2 and rest[1]:
        capacity = small_number(rest[1])
        if capacity is None:
            raise UserError(ctx._("The number of places must be a whole number."))
    exchange = await advisor_store.create_exchange(
        ctx.session,
        starts_at=when.start_at(),
        ends_at=when.end_at(),
        provider=provider[:200],
        place=place[:500],
        capacity=capacity,
        group_id=group_id,
        created_by_user_id=ctx.user.id,
        now=ctx.now,
    )
    return Reply(
        ctx._("Experience exchange recorded:")
        + "\n"
        + describe_exchange(ctx.t, exchange_info(exchange), ctx.tz)
    )


async def _exchange_scope(ctx: HandlerContext) -> int | None:
    """Admins publish for everyone; a chair publishes for their own working group."""
    settings = ctx.services.settings
    admin_here = ctx.message.is_direct or (
        ctx.group is not None and ctx.group.id in await admin_group_ids(ctx.session, settings)
    )
    if admin_here and await is_admin(ctx.session, settings, ctx.user.id):
        return None
    if ctx.group is not None and ctx.role is not None and ctx.role.allows(Role.CHAIR):
        return ctx.group.id
    raise UserError(
        ctx._("Only admins, or the chairs of a working group for their group, may record that.")
    )


async def _list_exchanges(ctx: HandlerContext) -> Reply:
    found = await advisor_store.upcoming_exchanges(
        ctx.session, now=ctx.now, user_id=ctx.user.id, limit=20
    )
    if ctx.group is not None and not ctx.message.is_direct:
        found = [e for e in found if e.group_id in (None, ctx.group.id)]
    if not found:
        return Reply(ctx._("No upcoming experience exchanges are published."))
    lines = [ctx._("Upcoming experience exchanges:")]
    lines += [f"• {describe_exchange(ctx.t, exchange_info(e), ctx.tz)}" for e in found]
    return Reply("\n".join(lines))


async def attendance(ctx: HandlerContext) -> Reply:
    await require_admin(ctx)
    raw = ctx.args["exchange"].lstrip("#")  # shown as typed when there is no such exchange
    exchange_id = small_number(raw)
    exchange = (
        await advisor_store.exchange_by_id(ctx.session, exchange_id)
        if exchange_id is not None
        else None
    )
    if exchange is None:
        raise UserError(ctx._("There is no experience exchange #{number}.", number=raw))
    day = exchange.starts_at.astimezone(ctx.tz).date()
    if day > _today(ctx):
        raise UserError(ctx._("This experience exchange has not taken place yet."))
    names = []
    relisted: list[str] = []
    policy = _policy(ctx)
    for ref in ctx.args["advisors"].replace(",", " ").split():
        advisor = await _advisor(ctx, ref)
        await actions.record_attendance(
            ctx.session,
            exchange,
            advisor,
            day=day,
            now=ctx.now,
            by_user_id=ctx.user.id,
            policy=policy,
        )
        names.append(advisor.name)
        if await _relist_at_once(ctx, advisor):
            relisted.append(advisor.name)
    text = ctx._(
        "Attendance recorded for {names}: authorization renewed from {day}.",
        names=", ".join(names),
        day=format_date(day, ctx.language),
    )
    return Reply(text + _relisted_note(ctx, relisted))


async def _relist_at_once(ctx: HandlerContext, advisor: Advisor) -> bool:
    """A delisted advisor whose authorization was just renewed is listed again now, not at
    the next daily run, and gets the relisting letter; True if relisted."""
    if advisor.status != ListingStatus.DELISTED.value:
        return False
    report = await handle_advisor_now(ctx.session, ctx.services, advisor, _today(ctx))
    ctx.enqueued += report.sent
    return report.relisted > 0


def _relisted_note(ctx: HandlerContext, names: list[str]) -> str:
    if not names:
        return ""
    return "\n" + ctx._(
        "Listed again at once: {names} (the relisting letter is on its way).",
        names=", ".join(names),
    )


AS_OF = re.compile(r"^\s*(--as-of[= ]|--stichtag[= ])", re.IGNORECASE)


async def advisor_preview(ctx: HandlerContext) -> Reply:
    await require_admin(ctx)
    policy = _policy(ctx)
    if policy is None:
        raise UserError(ctx._("No escalation policy is active (ADVISOR_POLICY_START is not set)."))
    text = AS_OF.sub("", ctx.args.get("when") or "").strip()
    as_of = _date(ctx, text) if text else _today(ctx)
    lines, total = await preview(
        ctx.session, policy, as_of, limit=LIST_LIMIT, settings=ctx.services.settings
    )
    return Reply(preview_text(ctx.t, lines, total, as_of))


OFF_WORDS = {"aus", "off", "keine", "none", "-"}
HERE_WORDS = {"hier", "here"}
CHAT_REF = re.compile(r"^([a-z]+):(\S+)$")


async def institution(ctx: HandlerContext) -> Reply:
    """`/institut`: which training institutions get their own summary, and where;
    `/institut NAME | hier` (in that institution's chat), `| PLATFORM:CHAT_ID`,
    `| address@example.org` or `| aus`."""
    details = (ctx.args.get("details") or "").strip()
    name, _, target = (part.strip() for part in details.partition("|"))
    if not (name and target.lower() in HERE_WORDS):
        await require_admin(ctx)  # everything but "here" shows or names registry data
    elif not await is_admin(ctx.session, ctx.services.settings, ctx.user.id):
        raise UserError(ctx._("Only admins may use the advisor registry."))
    if not name:
        return Reply(await _institutions_text(ctx))
    known = await advisor_store.institution_names(ctx.session, name)
    if not known:
        raise UserError(
            ctx._("No advisor belongs to the training institution “{name}”.", name=name)
        )
    name = known[0]
    chat: tuple[str, str] | bool | None = False
    email: str | bool | None = False
    lowered = target.lower()
    if lowered in HERE_WORDS:
        if ctx.message.is_direct:
            raise UserError(ctx._("Please send this in the institution's own group chat."))
        chat = (ctx.message.platform, ctx.message.chat.chat_id)
    elif lowered in OFF_WORDS:
        chat, email = None, None
    elif match := CHAT_REF.match(lowered):
        chat = (match.group(1), target.split(":", 1)[1])
    elif "@" in target:
        email = _check_email(ctx, target)
    else:
        raise UserError(
            ctx._(
                "Please write {command} NAME | hier (in the institution's chat), "
                "| PLATFORM:CHAT_ID, | an e-mail address, or | aus.",
                command=ctx.command_name("institution"),
            )
        )
    row = await advisor_store.save_institution(
        ctx.session, name, now=ctx.now, chat=chat, email=email
    )
    if row.chat_id is None and row.email is None:
        return Reply(ctx._("{name} gets no summary of its own any more.", name=name))
    return Reply(_institution_line(ctx, row))


def _institution_line(ctx: HandlerContext, row: AdvisorInstitution) -> str:
    parts = [
        ctx._("chat {chat}", chat=f"{row.chat_platform}:{row.chat_id}") if row.chat_id else "",
        ctx._("address {email}", email=row.email) if row.email else "",
    ]
    return ctx._(
        "{name} gets its own summary: {where}",
        name=row.name,
        where=", ".join(part for part in parts if part),
    )


async def _institutions_text(ctx: HandlerContext) -> str:
    rows = await advisor_store.institutions(ctx.session)
    if not rows:
        return ctx._(
            "No training institution gets a summary of its own yet. An admin sends "
            "{command} NAME | hier in the institution's chat.",
            command=ctx.command_name("institution"),
        )
    return "\n".join(f"• {_institution_line(ctx, row)}" for row in rows)


COMMANDS = (
    Command(
        "advisors",
        advisors,
        N_("Advisor registry: list or search advisors, or show one with its timeline"),
        german="berater",
        args=(Arg("query", N_("number, e-mail or search"), kind=ArgKind.TEXT, required=False),),
        details=N_(
            "Without a word: all advisors. With a number or e-mail address: that advisor "
            "with authorizations, reminders sent and planned. Anything else searches name, "
            "e-mail and training institution. Admins only, in a private chat or the admin group."
        ),
        admin_only=True,
    ),
    Command(
        "advisoradd",
        add_advisor,
        N_("Add an advisor to the registry"),
        german="beraterneu",
        args=(
            Arg(
                "details",
                N_("name | e-mail | institution | fields | date"),
                kind=ArgKind.TEXT,
                max_length=1000,
            ),
        ),
        details=N_(
            "Example: /beraterneu Berta Beispiel | berta@example.org | RKW Nord | "
            "Digitalisierung, Finanzierung | 15.03.2021 | de – the last part (language, de or "
            "en) may be left out. Admins only."
        ),
        admin_only=True,
    ),
    Command(
        "advisoredit",
        edit_advisor,
        N_("Change an advisor's entry"),
        german="berateraendern",
        args=(
            Arg("advisor", N_("number or e-mail")),
            Arg("change", N_("field=value"), kind=ArgKind.TEXT, max_length=600),
        ),
        details=N_(
            "Fields: name, email, institution, fields, region, language (de/en), "
            "authorized=DATE (a renewal entered by hand), status=delisted, published=what the "
            "advisor agreed to show on the public advisor list (name, fields, region, "
            "institution, contact; all; nothing). Example: /berateraendern 12 "
            "institution=RKW Nord. Admins only."
        ),
        admin_only=True,
    ),
    Command(
        "advisorcode",
        advisor_code,
        N_("One-time code an advisor sends me to link their chat account"),
        german="beratercode",
        args=(Arg("advisor", N_("number or e-mail")),),
        details=N_(
            "The advisor sends the link command with this code to me in a private chat; "
            "reminders then reach them there. Admins only."
        ),
        admin_only=True,
    ),
    Command(
        "exchange",
        exchanges,
        N_("List experience exchanges, or record one: date, time, provider, place, places"),
        german="austausch",
        args=(
            Arg(
                "details",
                N_("date time provider | place | places"),
                kind=ArgKind.TEXT,
                required=False,
                max_length=800,
            ),
        ),
        details=N_(
            'Example: /austausch 10.03.2027 9-12 Uhr "IHK Köln" | https://meet.example.org/eax '
            "| 30 – admins publish for everyone, chairs of a working group for their group."
        ),
    ),
    Command(
        "attended",
        attendance,
        N_("Record advisors' attendance at an experience exchange (renews their authorization)"),
        german="teilnahme",
        args=(
            Arg("exchange", N_("exchange number")),
            Arg("advisors", N_("advisor numbers or e-mails"), kind=ArgKind.TEXT, max_length=2000),
        ),
        details=N_("Example: /teilnahme 3 12 17 berta@example.org. Admins only."),
        admin_only=True,
    ),
    Command(
        "advisorpreview",
        advisor_preview,
        N_("Preview which advisor reminders would go out on a date, without sending"),
        german="beratervorschau",
        args=(Arg("when", N_("date"), kind=ArgKind.TEXT, required=False),),
        details=N_("Example: /beratervorschau --as-of 2023-05-01 (default: today). Admins only."),
        admin_only=True,
    ),
    Command(
        "institution",
        institution,
        N_("Training institutions' own summaries: list, or set a chat or address"),
        german="institut",
        args=(
            Arg(
                "details",
                N_("name | hier, chat, e-mail or aus"),
                kind=ArgKind.TEXT,
                required=False,
                max_length=600,
            ),
        ),
        details=N_(
            "Each training institution can get the summary of its own advisors' reminders "
            "itself. Example: /institut RKW Nord | hier – sent by an admin in the "
            "institution's chat; or /institut RKW Nord | telegram:-1001234567890, "
            "/institut RKW Nord | info@rkw.example (kept for e-mail), /institut RKW Nord | aus. "
            "Without arguments: the list. Admins only."
        ),
        admin_only=True,
    ),
)
