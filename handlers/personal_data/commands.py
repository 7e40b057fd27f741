"""A person's own data: export and erasure, only in their private chat."""

from __future__ import annotations

import json

from bot.core.i18n import N_, Translator
from bot.core.messages import Button, Document, Reply
from bot.core.router import Arg, ArgKind, Command, Scope
from handlers.admins.directory import tell_admins
from handlers.context import HandlerContext
from storage import mail as mail_store
from storage import people

CONFIRM_CHOICES = {"yes": "yes", "ja": "yes", "no": "no", "nein": "no"}


async def my_data(ctx: HandlerContext) -> Reply:
    data = await people.export_user_data(ctx.session, ctx.user)
    data["email"] = await mail_store.export(ctx.session, ctx.user.id)
    data["exported_at"] = ctx.now.isoformat()
    content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    return Reply(
        ctx._("Here is everything I store about you."),
        document=Document("my-data.json", content, "application/json"),
    )


async def delete_my_data(ctx: HandlerContext) -> Reply:
    answer = ctx.args.get("confirm")
    if answer is None:
        command = ctx.platform.command_prefix + "deletemydata"
        return Reply(
            ctx._(
                "Do you really want me to delete everything I store about you? "
                "You will leave all working groups and get no more reminders."
            ),
            buttons=Reply.rows(
                [
                    Button(ctx._("Yes, delete"), f"{command} yes"),
                    Button(ctx._("No, keep"), f"{command} no"),
                ]
            ),
        )
    if answer == "no":
        return Reply(ctx._("Nothing was deleted."), edit=bool(ctx.message.callback_data))
    erasure = await people.delete_user(
        ctx.session,
        ctx.user,
        label=lambda language: Translator(language).gettext(FORMER_MEMBER),
        default_language=ctx.services.settings.bot_language,
        now=ctx.now,
    )
    if erasure.advisor_entries:
        await _tell_admins_about_advisor_entries(ctx, erasure.advisor_entries)
    return Reply(erasure_report(ctx.t, erasure), edit=bool(ctx.message.callback_data))


# What a person becomes in the records their groups keep (minutes, tasks, agenda).
FORMER_MEMBER = N_("former member")


def erasure_report(t: Translator, erasure: people.Erasure) -> str:
    """Exactly what happened: what is gone, what stays without a name, what stays as is."""
    former = t.gettext(FORMER_MEMBER)
    lines = [
        t.gettext(
            "I deleted: your accounts and names, memberships and roles, settings, link codes, "
            "calendar links, replies to invitations, objections, the reminder log, and every "
            "message queued for or sent to you."
        )
    ]
    if erasure.pseudonymised:
        lines.append(
            t.ngettext(
                "Kept without your name, as “{former}”, because your groups rely on it: "
                "{n} entry (attendance, agenda items you presented, action items assigned "
                "to you, poll answers – still counted, but anonymous).",
                "Kept without your name, as “{former}”, because your groups rely on them: "
                "{n} entries (attendance, agenda items you presented, action items assigned "
                "to you, poll answers – still counted, but anonymous).",
                erasure.pseudonymised,
                former=former,
            )
        )
    lines.append(
        t.gettext(
            "Notes, decisions and action items you recorded stay in the minutes without your name."
        )
    )
    if erasure.outbox_scrubbed:
        lines.append(
            t.ngettext(
                "{n} message to others that named you was emptied or now says “{former}”.",
                "{n} messages to others that named you were emptied or now say “{former}”.",
                erasure.outbox_scrubbed,
                former=former,
            )
        )
    if erasure.advisor_entries:
        lines.append(
            t.gettext(
                "Not deleted: your entry in the advisor registry (name, e-mail, "
                "authorizations) is the initiative's record. I told the admins; an admin "
                "must erase it."
            )
        )
        lines.append(t.gettext("The public advisor list no longer shows your entry."))
    lines.append(
        t.gettext(
            "Messages already delivered stay in the chats; I cannot delete them there. If "
            "you write to me again, I will only know your name and chat again."
        )
    )
    return "\n".join(lines)


async def _tell_admins_about_advisor_entries(ctx: HandlerContext, entries: tuple[int, ...]) -> None:
    """The registry entry is not the person's to delete: admins are told to erase it (by
    number only, so the notice itself carries no name)."""
    numbers = ", ".join(f"#{n}" for n in entries)
    show = ctx.services.router.get("advisors")

    def text(t: Translator) -> str:
        command = "/" + (show.display_name(t.language) if show else "advisors")
        return t.gettext(
            "A person erased their data. Advisor registry entry {numbers} was theirs and "
            "still holds their name and e-mail: please erase it from the registry (and the "
            "public advisor list). {command} {first} shows it; the bot has no command to "
            "delete it.",
            numbers=numbers,
            command=command,
            first=entries[0],
        )

    ctx.enqueued += await tell_admins(
        ctx.session,
        ctx.services.settings,
        dedupe_key=f"erasure:advisors:{numbers}:{ctx.now.isoformat()}",
        purpose="erasure_advisor",
        text=text,
        now=ctx.now,
    )


COMMANDS = (
    Command(
        "mydata",
        my_data,
        N_("Send me everything stored about me (JSON file)"),
        german="meinedaten",
        scope=Scope.PRIVATE,
    ),
    Command(
        "deletemydata",
        delete_my_data,
        N_("Delete everything stored about me"),
        german="datenloeschen",
        scope=Scope.PRIVATE,
        args=(
            Arg(
                "confirm",
                N_("yes|no"),
                kind=ArgKind.CHOICE,
                choices=CONFIRM_CHOICES,
                required=False,
                display={"de": "ja|nein", "en": "yes|no"},
            ),
        ),
    ),
)
