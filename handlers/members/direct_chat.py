"""A member's direct chat with the bot, on platforms where the bot opens it itself.

On Telegram a person must open the private chat (bots cannot write first); on Matrix the bot
invites them (PlatformTraits.opens_direct_chats). There, joining a group sends a short
greeting, which opens the direct chat, and nobody is marked as unreachable just because no
direct chat exists yet – only when the invitation or a delivery failed.
"""

from __future__ import annotations

from bot.core.messages import OutgoingMessage
from handlers.context import HandlerContext
from storage.models import Identity

GREETING_PURPOSE = "direct_chat_greeting"


def reachable_directly(ctx: HandlerContext, identity: Identity | None) -> bool:
    """Whether reminders can reach this member in a direct chat on this platform."""
    if identity is None:
        return False
    if identity.dm_chat_id:
        return True
    opens = ctx.services.platform_traits(identity.platform).opens_direct_chats
    return opens and identity.unreachable_at is None


async def open_direct_chat(ctx: HandlerContext) -> bool:
    """Greet the sender in a new direct chat where the bot may open one (once per person);
    True when a greeting was queued."""
    if not ctx.services.platform_traits(ctx.message.platform).opens_direct_chats:
        return False
    text = ctx._(
        "Hello {name}! This is our direct chat: reminders, invitations and your tasks come "
        "here. {help} lists what I can do.",
        name=ctx.message.sender.display_name,
        help=ctx.command_name("help"),
    )
    return await ctx.enqueue(
        dedupe_key=f"{GREETING_PURPOSE}:{ctx.message.platform}:{ctx.user.id}",
        purpose=GREETING_PURPOSE,
        message=OutgoingMessage(text),
        user_id=ctx.user.id,
    )
