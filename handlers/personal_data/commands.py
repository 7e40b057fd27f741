"""A person's own data: export and erasure, only in their private chat."""

from __future__ import annotations

import json

from bot.core.i18n import N_
from bot.core.messages import Button, Document, Reply
from bot.core.router import Arg, ArgKind, Command, Scope
from handlers.context import HandlerContext
from storage import people

CONFIRM_CHOICES = {"yes": "yes", "ja": "yes", "no": "no", "nein": "no"}


async def my_data(ctx: HandlerContext) -> Reply:
    data = await people.export_user_data(ctx.session, ctx.user)
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
    await people.delete_user(ctx.session, ctx.user)
    return Reply(
        ctx._(
            "Done: I deleted everything I stored about you. If you write to me again, I "
            "will only know your name and chat again."
        ),
        edit=bool(ctx.message.callback_data),
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
