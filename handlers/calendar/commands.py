"""`/kalender`: calendar subscription URLs for a person (in a private chat) or a group
(chair, sent privately). Only a hash of each token is stored, so a URL can be shown once;
asking again gives a new one and the old one stops working."""

from __future__ import annotations

from bot.core.enums import FeedKind, Role
from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.messages import OutgoingMessage, Reply
from bot.core.router import Arg, ArgKind, Command
from handlers.calendar.feeds import feed_url
from handlers.context import HandlerContext
from handlers.dispatcher import private_chat_hint
from handlers.members.presence import still_member
from storage import calendar as calendar_store
from storage import outbox, people

ACTIONS = {
    "new": "new",
    "neu": "new",
    "off": "off",
    "aus": "off",
}


def _how_to(ctx: HandlerContext) -> str:
    return ctx._(
        "Add it as a subscription (“From URL”, “Subscribe to calendar”) in your calendar app; "
        "do not share it: anyone with the link can read the calendar. {command} gives a new "
        "link (the old one stops working), {off} switches it off.",
        command=_word(ctx, "new"),
        off=_word(ctx, "off"),
    )


def _word(ctx: HandlerContext, action: str) -> str:
    """`/kalender neu` or `/calendar new`, as this reader writes it."""
    shown = {"new": ("neu", "new"), "off": ("aus", "off")}[action]
    return ctx.command_name("calendar") + " " + shown[0 if ctx.language == "de" else 1]


async def calendar(ctx: HandlerContext) -> Reply:
    if not ctx.message.is_direct and ctx.group is None:
        raise UserError(
            ctx._("Please use this command in our private chat.") + " " + private_chat_hint(ctx)
        )
    in_group = not ctx.message.is_direct
    if in_group and (ctx.role is None or not ctx.role.allows(Role.CHAIR)):
        raise UserError(
            ctx._(
                "Only a chair gets the group's calendar link. Your own link: {command} in "
                "our private chat.",
                command=ctx.command_name("calendar"),
            )
        )
    kind = FeedKind.GROUP if in_group else FeedKind.PERSON
    if kind is FeedKind.PERSON:  # the feed shows only groups whose chat they are still in
        for group_id in await people.current_group_ids(ctx.session, ctx.user.id):
            await still_member(ctx.services, ctx.session, group_id, ctx.user.id, ctx.now)
    owner = ctx.group.id if in_group and ctx.group else ctx.user.id
    action = ctx.args.get("action")
    if action == "off":
        revoked = await calendar_store.revoke(ctx.session, kind, owner, ctx.now)
        if not revoked:
            return Reply(ctx._("There was no calendar link to switch off."))
        return Reply(ctx._("The calendar link is switched off; it no longer works."))
    if action is None and await calendar_store.has_live_feed(ctx.session, kind, owner):
        return Reply(
            ctx._(
                "A calendar link exists already. I keep only a fingerprint of it, so I cannot "
                "show it again: {command} gives you a new one (the old one stops working).",
                command=_word(ctx, "new"),
            )
        )
    token = await calendar_store.issue(ctx.session, kind, owner, ctx.now)
    url = feed_url(ctx.services.settings.feed_base_url, token)
    if kind is FeedKind.PERSON:
        text = ctx._("Your personal calendar (meetings of all your groups):") + f"\n{url}\n\n"
        return Reply(text + _how_to(ctx))
    assert ctx.group is not None
    text = ctx._("Calendar of “{group}”:", group=ctx.group.name) + f"\n{url}\n\n" + _how_to(ctx)
    await outbox.enqueue_to_person(
        ctx.session,
        user_id=ctx.user.id,
        dedupe_key=f"feed-url:{calendar_store.token_hash(token)}",
        purpose="calendar_feed_url",
        message=OutgoingMessage(text),
        now=ctx.now,
        group_id=ctx.group.id,
    )
    ctx.enqueued += 1
    return Reply(
        ctx._("I sent you the group's calendar link in a private message (links are secret).")
    )


COMMANDS = (
    Command(
        "calendar",
        calendar,
        N_("Calendar subscription link: yours in a private chat, the group's (chair) here"),
        german="kalender",
        role=Role.CHAIR,  # applies in registered groups only: the group's link
        args=(
            Arg(
                "action",
                N_("new|off"),
                kind=ArgKind.CHOICE,
                required=False,
                choices=ACTIONS,
                display={"de": "neu|aus", "en": "new|off"},
            ),
        ),
        details=N_(
            "In a private chat: a link to your own calendar with the meetings of all your "
            "groups, for any calendar app. In a group, a chair gets the group's calendar "
            "link by private message. With “new” you get a new link and the old one stops "
            "working; with “off” it is switched off."
        ),
    ),
)
