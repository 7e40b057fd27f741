"""From an incoming message to replies: identity, group, language, role, arguments, handler.

Everything a user can get wrong ends here as a short, translated reply; an unexpected
exception is logged with its trace and answered with an apology, never a crash.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.core.date_messages import date_error_text
from bot.core.dates import DateParseError
from bot.core.enums import Role
from bot.core.errors import UserError
from bot.core.i18n import LANGUAGES, N_, Translator
from bot.core.messages import IncomingMessage, Reply
from bot.core.platform import Platform
from bot.core.router import ArgError, ArgKind, Command, CommandCall, Scope, UnknownCommand
from bot.core.text import strip_bidi
from handlers.admins.directory import admin_group_ids
from handlers.context import HandlerContext, Services
from handlers.members import leaving
from handlers.members.presence import still_member
from handlers.members.roles import end_derived_role, is_derived_role
from handlers.processes.claims import ClaimLost, finish_in
from storage import outbox, people
from storage.db import Session
from storage.models import Group, Identity, Membership

log = logging.getLogger(__name__)

ARG_ERRORS = {
    "missing": N_("Something is missing: {arg}."),
    "extra": N_("I did not understand the extra words: {value}"),
    "bad_choice": N_("“{value}” is not a valid {arg}."),
    "bad_user": N_("Please name the person as @username, or reply to one of their messages."),
    "quotes": N_("A quotation mark is not closed."),
    "too_long": N_("That is too long: at most {limit} characters, please."),
    "arg_too_long": N_("The {arg} is too long: at most {limit} characters, please."),
}


class Dispatcher:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.router = services.router

    async def handle(self, message: IncomingMessage, platform: Platform) -> list[Reply]:
        text = message.callback_data if message.callback_data is not None else message.text
        # PostgreSQL cannot store NUL in text, and no one means it: drop it before anything.
        # Bidi controls go too, so no typed name or title can reorder the lines it is shown in.
        text = strip_bidi(text.replace("\x00", ""))
        call = self.router.parse(text, platform.bot_username)
        if call is None and not message.is_direct:
            return []  # ordinary group chatter is none of our business
        now = self.services.clock.now()
        try:
            async with self.services.sessions() as session:
                replies, enqueued = await self._handle(session, message, platform, call, now)
        except ClaimLost:
            log.warning("another process took over this update; its effects were rolled back")
            return []
        except Exception:
            log.exception("unexpected error while handling %r from %s", text[:200], message.chat)
            code = (message.sender.language_code or "").split("-")[0].lower()
            known = message.is_direct and code in LANGUAGES
            fallback = Translator(code if known else self.services.settings.bot_language)
            return [
                Reply(
                    fallback.gettext(
                        "Sorry, something went wrong on my side. The error was logged; "
                        "please try again later."
                    )
                )
            ]
        if enqueued:
            self.services.wake_outbox()
        return replies

    async def chat_moved(self, platform: str, old_chat_id: str, new_chat_id: str) -> None:
        """The platform gave a chat a new id; the working group and its queue follow."""
        async with self.services.sessions.begin() as session:
            await people.move_chat(session, platform, old_chat_id, new_chat_id)
        log.info("%s chat %s is now %s", platform, old_chat_id, new_chat_id)

    async def member_left(self, platform: str, chat_id: str, platform_user_id: str) -> None:
        """Someone left, was removed or banned from a chat: in a group's last chat, their
        membership ends (see handlers/members/leaving.py)."""
        now = self.services.clock.now()
        async with self.services.sessions.begin() as session:
            await leaving.member_left(session, platform, chat_id, platform_user_id, now)

    async def member_joined(self, platform: str, chat_id: str, platform_user_id: str) -> None:
        """Someone (re)joined a chat: a departure from it no longer counts."""
        async with self.services.sessions.begin() as session:
            await people.joined_chat(session, platform, chat_id, platform_user_id)

    async def bot_removed(self, platform: str, chat_id: str) -> None:
        """The bot itself was removed from a chat: a group's chat is marked gone, the chairs
        are told elsewhere."""
        now = self.services.clock.now()
        async with self.services.sessions.begin() as session:
            queued = await leaving.bot_removed(session, platform, chat_id, now)
        if queued:
            self.services.wake_outbox()

    async def bot_added(self, platform: str, chat_id: str, *, is_admin: bool) -> None:
        """The bot is (again) in a chat; without admin rights it cannot see who leaves, so
        a group's chat is told once."""
        now = self.services.clock.now()
        async with self.services.sessions.begin() as session:
            await people.chat_back(session, platform, chat_id)
            queued = 0
            if not is_admin:
                language = self.services.settings.bot_language
                queued = await leaving.bot_not_admin(
                    session, platform, chat_id, now, default_language=language
                )
        if queued:
            self.services.wake_outbox()

    async def live_chats(self, platform: str) -> list[str]:
        """The registered group chats on `platform` the bot still serves (an adapter checks
        its own rights there at start-up)."""
        async with self.services.sessions() as session:
            return await people.live_chat_ids(session, platform)

    async def admins_demoted(self, platform: str, chat_id: str, accounts: list[str]) -> int:
        """The platform says these accounts are no admins of a chat (now): chairs derived
        from admin status there become members at once, not only at their next command.
        Returns how many fell back."""
        demoted = 0
        async with self.services.sessions.begin() as session:
            group = await people.group_for_chat(session, platform, chat_id)
            if group is None:
                return 0
            for account in accounts:
                user_id = await people.user_id_of_identity(session, platform, account)
                if user_id is None:
                    continue
                member = await people.membership(session, group.id, user_id)
                if member is not None and end_derived_role(member):
                    demoted += 1
        if demoted:
            log.info("%s chat %s: %d chair(s) lost their admin status", platform, chat_id, demoted)
        return demoted

    async def _handle(
        self,
        session: Session,
        message: IncomingMessage,
        platform: Platform,
        call: CommandCall | UnknownCommand | None,
        now: datetime,
    ) -> tuple[list[Reply], bool]:
        identity, released, group, member = await self._bookkeeping(session, message, platform, now)
        ctx = HandlerContext(
            services=self.services,
            session=session,
            message=message,
            platform=platform,
            t=Translator(self._language(message, identity, group)),
            user=identity.user,
            identity=identity,
            group=group,
            member=member,
        )
        try:
            replies = await self._run(ctx, call)
        except (UserError, DateParseError) as error:
            text = error.message if isinstance(error, UserError) else date_error_text(error, ctx.t)
            # Undo the handler's changes, but keep what we learned about the person (their
            # private chat, messages waiting for it, their membership): redo it and commit.
            await session.rollback()
            _, released, _, _ = await self._bookkeeping(session, message, platform, now)
            await finish_in(session, self.services)
            await session.commit()
            return [Reply(text)], bool(released)
        await finish_in(session, self.services)  # in the same transaction as the effects
        await session.commit()
        return replies, bool(released or ctx.enqueued)

    async def _bookkeeping(
        self, session: Session, message: IncomingMessage, platform: Platform, now: datetime
    ) -> tuple[Identity, int, Group | None, Membership | None]:
        """Who wrote, from which chat: the person, a newly usable private chat (and the
        messages that waited for it), the working group and the membership in it (with a
        role derived from chat-admin status checked against the platform again)."""
        seen = await people.see_identity(
            session,
            message.sender,
            now,
            private_chat_id=message.chat.chat_id if message.is_direct else None,
        )
        released = 0
        if seen.dm_opened:
            # What waited may be a group's private data: only for someone still in its chat.
            for group_id in await outbox.waiting_group_ids(
                session, user_id=seen.identity.user_id, platform=message.platform
            ):
                await still_member(self.services, session, group_id, seen.identity.user_id, now)
            released = await outbox.release_waiting(
                session,
                user_id=seen.identity.user_id,
                platform=message.platform,
                chat_id=message.chat.chat_id,
                now=now,
            )
        group = None
        member = None
        if message.is_direct:
            await self._confirm_admin_chats(session, seen.identity.user_id, now)
        else:
            group = await people.group_for_chat(session, message.platform, message.chat.chat_id)
        if group is not None:
            member = await people.ensure_membership(session, group.id, seen.identity.user_id, now)
            await _follow_platform_role(message, platform, member)
        return seen.identity, released, group, member

    async def _confirm_admin_chats(self, session: Session, user_id: int, now: datetime) -> None:
        """Admin rights from an ADMIN_CHATS chat last while the person is in it: before a
        private command (where the advisor registry is used) ask whether a member of an
        admin group is still in its chat, where the platform does not report leaving."""
        for group_id in await admin_group_ids(session, self.services.settings):
            if await people.membership(session, group_id, user_id) is not None:
                await still_member(self.services, session, group_id, user_id, now)

    def _language(self, message: IncomingMessage, identity: Identity, group: Group | None) -> str:
        if group is not None and not message.is_direct:
            return group.language
        if identity.user.language:
            return identity.user.language
        if not message.is_direct:
            return self.services.settings.bot_language
        code = (message.sender.language_code or "").split("-")[0].lower()
        return code if code in LANGUAGES else self.services.settings.bot_language

    async def _run(
        self, ctx: HandlerContext, call: CommandCall | UnknownCommand | None
    ) -> list[Reply]:
        if call is None:
            return [
                Reply(
                    ctx._(
                        "I work with commands. Send {help} to see what I can do.",
                        help=ctx.command_name("help"),
                    )
                )
            ]
        if isinstance(call, UnknownCommand):
            return [self._unknown(ctx, call.name)]
        command = call.command
        if refusal := await self._refusal(ctx, command):
            return [refusal]
        try:
            ctx.args = self.router.bind(command, call.raw_args)
        except ArgError as error:
            return [self._arg_error(ctx, command, error)]
        ctx.invoked_as = call.invoked_as
        result = await command.handler(ctx)
        if result is None:
            return []
        return result if isinstance(result, list) else [result]

    def _unknown(self, ctx: HandlerContext, name: str) -> Reply:
        suggestion = self.router.suggest(name)
        text = ctx._("I don't know the command “{name}”.", name=name)
        if suggestion is not None:
            text += " " + ctx._(
                "Did you mean {command}?", command=ctx.command_name(suggestion.name)
            )
        text += " " + ctx._("Send {help} for the list of commands.", help=ctx.command_name("help"))
        return Reply(text)

    async def _refusal(self, ctx: HandlerContext, command: Command) -> Reply | None:
        message = ctx.message
        if command.scope is Scope.GROUP and message.is_direct:
            return Reply(ctx._("This command works in a group chat, not here."))
        if command.scope is Scope.PRIVATE and not message.is_direct:
            return Reply(
                ctx._("Please use this command in our private chat.") + " " + private_chat_hint(ctx)
            )
        if command.needs_group and ctx.group is None:
            return Reply(not_registered_text(ctx))
        if command.role is None or ctx.member is None:
            return None
        if ctx.role is not None and ctx.role.allows(command.role):
            return None
        if await self._promote_chat_admin(ctx, ctx.member):
            return None
        return Reply(
            ctx._(
                "Only {role} may do that in this group. Ask a chair to give you that role.",
                role=role_name(ctx, command.role.value),
            )
        )

    async def _promote_chat_admin(self, ctx: HandlerContext, member: Membership) -> bool:
        """Chat admins are chairs unless a chair explicitly set their role. The role stays
        derived (no granting chair), so it ends when the admin status does."""
        if not is_derived_role(member):
            return False
        message = ctx.message
        if not await ctx.platform.is_chat_admin(message.chat.chat_id, message.sender.user_id):
            return False
        member.role = Role.CHAIR.value
        await ctx.session.flush()
        return True

    def _arg_error(self, ctx: HandlerContext, command: Command, error: ArgError) -> Reply:
        params = dict(error.params)
        if "arg" in params:
            arg = next((a for a in command.args if a.name == params["arg"]), None)
            params["arg"] = ctx._(arg.label) if arg else params["arg"]
        text = ctx._(ARG_ERRORS[error.code], **params)
        return Reply(f"{text}\n{usage_line(ctx, command)}")


async def _follow_platform_role(
    message: IncomingMessage, platform: Platform, member: Membership
) -> None:
    """A chair because of chat-admin status is one only while the platform says so: a
    demoted admin (Telegram admin rights, Matrix power level) falls back to member. Asked
    on every command of such a chair, so a demotion counts once the platform's cache has
    expired (a minute at most); roles a chair granted are never touched."""
    if member.role == Role.MEMBER.value or not is_derived_role(member):
        return
    if not await platform.is_chat_admin(message.chat.chat_id, message.sender.user_id):
        end_derived_role(member)


ROLE_NAMES = {
    "chair": N_("chairs"),
    "minute_taker": N_("minute-takers"),
    "member": N_("members"),
}


def role_name(ctx: HandlerContext, role: str) -> str:
    return ctx._(ROLE_NAMES[role])


def usage_line(ctx: HandlerContext, command: Command) -> str:
    parts = [ctx.command_name(command.name)]
    for arg in command.args:
        label = ctx._(arg.label)
        if arg.kind is ArgKind.CHOICE and arg.choices:
            label = arg.display.get(ctx.language) or "|".join(dict.fromkeys(arg.choices.values()))
        parts.append(f"<{label}>" if arg.required else f"[{label}]")
    return ctx._("Usage: {usage}", usage=" ".join(parts))


def not_registered_text(ctx: HandlerContext) -> str:
    return ctx._(
        "This chat is not registered as a working group yet. "
        "A chat admin can do that with {register}.",
        register=ctx.command_name("register"),
    )


def private_chat_hint(ctx: HandlerContext) -> str:
    """Telegram bots cannot write first: tell people how to open the private chat. Where
    the bot opens it itself (Matrix), say that an invitation comes, to be accepted."""
    if ctx.services.platform_traits(ctx.message.platform).opens_direct_chats:
        return ctx._(
            "I will invite you to a direct chat with me: please accept the invitation. "
            "Reminders and invitations reach you there."
        )
    hint = ctx.platform.direct_chat_hint()
    if hint:
        return ctx._("Open a private chat with me ({link}) and press Start.", link=hint)
    return ctx._(
        "Open a private chat with me and send {start} there.", start=ctx.command_name("start")
    )
