"""Who may look across the organisation, and where: admins in a private chat or an admin
chat; members of the steering body (Strategiekreis) in a private chat or in its own chat.
A person who left the steering body, or a chat that is not its own, gets nothing."""

from __future__ import annotations

from enum import Enum

from bot.core.errors import UserError
from handlers.admins.directory import admin_group_ids, is_admin
from handlers.context import HandlerContext
from handlers.members.presence import still_member
from storage import digest as digest_store
from storage import people


class Viewer(Enum):
    ADMIN = "admin"  # sees every decision of approved minutes
    STEERING = "steering"  # sees what each group's chair lets leave the group


async def require_admin_place(ctx: HandlerContext) -> None:
    settings = ctx.services.settings
    if not await is_admin(ctx.session, settings, ctx.user.id):
        raise UserError(ctx._("Only admins may do that."))
    if ctx.message.is_direct:
        return
    if ctx.group is None or ctx.group.id not in await admin_group_ids(ctx.session, settings):
        raise UserError(ctx._("Please do this in our private chat or in the admin group."))


async def steering_group_id(ctx: HandlerContext) -> int | None:
    row = await digest_store.organisation_settings(ctx.session)
    return row.steering_group_id if row is not None else None


async def require_viewer(ctx: HandlerContext) -> Viewer:
    """An admin (in their places), else a current member of the steering body (in a
    private chat or its chat), else a clear refusal."""
    if await is_admin(ctx.session, ctx.services.settings, ctx.user.id):
        await require_admin_place(ctx)
        return Viewer.ADMIN
    steering = await steering_group_id(ctx)
    member = (
        steering is not None
        and await people.membership(ctx.session, steering, ctx.user.id) is not None
        and await still_member(ctx.services, ctx.session, steering, ctx.user.id, ctx.now)
    )
    if not member:
        raise UserError(ctx._("Only admins and members of the steering body may search here."))
    if not ctx.message.is_direct and (ctx.group is None or ctx.group.id != steering):
        raise UserError(ctx._("Please do this in our private chat or in the steering body's chat."))
    return Viewer.STEERING
