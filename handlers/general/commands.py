"""/start, /help, /privacy and /date: what every newcomer touches first."""

from __future__ import annotations

from bot.core.dates import format_when, parse_when
from bot.core.i18n import N_
from bot.core.messages import Reply
from bot.core.router import Arg, ArgKind, Command
from handlers.admins.directory import is_admin
from handlers.context import HandlerContext
from handlers.dispatcher import private_chat_hint, role_name, usage_line


async def start(ctx: HandlerContext) -> Reply:
    if ctx.message.is_direct:
        return Reply(
            ctx._(
                "Hello {name}! I am the assistant of your working groups: I keep track of "
                "meetings, agendas, decisions and action items, and I remind you by direct "
                "message.\n\nThis private chat is now open, so I can send you reminders here.\n"
                "{settings} shows your language and time zone, {help} lists all commands.",
                name=ctx.message.sender.display_name,
                settings=ctx.command_name("settings"),
                help=ctx.command_name("help"),
            )
        )
    if ctx.group is None:
        intro = ctx._(
            "Hello! I help working groups with meetings, agendas, minutes and reminders. "
            "A chat admin registers this chat first, e.g. {example}.",
            example=ctx.command_name("register") + ' ag "AG Transfer"',
        )
    else:
        intro = ctx._(
            "Hello! This chat belongs to the working group “{name}”.", name=ctx.group.name
        )
    return Reply(
        intro
        + "\n\n"
        + ctx._("So that I can send you reminders, everyone please do this once:")
        + " "
        + private_chat_hint(ctx)
    )


async def help_command(ctx: HandlerContext) -> Reply:
    router = ctx.services.router
    wanted = ctx.args.get("command")
    if wanted:
        command = router.get(wanted)
        if command is None:
            return Reply(
                ctx._(
                    "I don't know the command “{name}”. Send {help} for the list of commands.",
                    name=wanted,
                    help=ctx.command_name("help"),
                )
            )
        return Reply(command_help(ctx, command))
    lines = [ctx._("What I can do:"), ""]
    admin = await is_admin(ctx.session, ctx.services.settings, ctx.user.id)
    for command in router.commands:
        if command.hidden or (command.admin_only and not admin):
            continue
        lines.append(f"{ctx.command_name(command.name)} – {ctx._(command.summary)}")
    lines += [
        "",
        ctx._(
            "Details for one command: {example}",
            example=ctx.command_name("help")
            + " "
            + router.get("register").display_name(ctx.language),
        ),
    ]
    return Reply("\n".join(lines))


def command_help(ctx: HandlerContext, command: Command) -> str:
    other = command.name if ctx.language == "de" and command.german else command.german
    lines = [
        f"{ctx.command_name(command.name)} – {ctx._(command.summary)}",
        usage_line(ctx, command),
    ]
    if other:
        lines.append(
            ctx._("Also: {names}", names=", ".join(f"/{n}" for n in (other, *command.aliases)))
        )
    if command.details:
        lines += ["", ctx._(command.details)]
    if command.role is not None:
        lines.append(ctx._("Who may: {role}", role=role_name(ctx, command.role.value)))
    elif command.admin_only:
        lines.append(ctx._("Who may: {role}", role=ctx._("admins")))
    return "\n".join(lines)


async def privacy(ctx: HandlerContext) -> Reply:
    """The README's "Data protection" and "Security and privacy" sections, for the people
    they are about: what is stored, who sees it, that membership follows the chat, what
    erasure does, how long copies of messages are kept and what admins must do (a test
    holds the two together)."""
    stored = ctx._(
        "What I store about you: your name and username on the chat platform, your private "
        "chat with me (to send reminders), your language and time zone, the groups you are "
        "a member of with your role (after you left: until when), your answers to polls, "
        "and messages queued for you.\n"
        "From meetings: your replies to invitations, whether you attended, notes you wrote, "
        "agenda items you present or proposed, decisions you recorded, action items assigned "
        "to you, objections to minutes, your reminder settings and which reminders were sent, "
        "and hashes of your calendar links. If you are an authorized advisor: your registry "
        "entry with its authorization history and the reminders sent to you.\n"
        "What I do not store: ordinary chat messages that are not commands to me.\n"
        "Your rights: {mydata} sends you everything as a file, {delete} erases it.",
        mydata=ctx.command_name("mydata"),
        delete=ctx.command_name("deletemydata"),
    )
    erasure = ctx._(
        "What {delete} does: it deletes your accounts, memberships, settings, link codes, "
        "calendar links, replies to invitations, objections, the reminder log and every "
        "message queued for or sent to you. Kept without your name, as “former member”, "
        "because your groups rely on them: attendance, agenda items you present, action "
        "items assigned to you and poll answers (counted, but anonymous); notes, decisions "
        "and action items you recorded lose their author. Messages to others that named "
        "you are emptied or say “former member”. An entry in the advisor registry stays "
        "until an admin erases it; the bot tells the admins.\n"
        "Retention: a sent message keeps its text and files for {days} days, then only its "
        "delivery status.",
        delete=ctx.command_name("deletemydata"),
        days=ctx.services.settings.outbox_retention_days,
    )
    guarantees = ctx._(
        "Who sees it: a group's meetings, minutes, polls, tasks and members are shown only "
        "to that group, in its own chats – never to another group. Invitations list the group's "
        "members as attendees. Video links, calendar links and link codes go only into your "
        "private chat with me (on Matrix: a room of just you and me). Advisor entries: only "
        "the admins.\n"
        "Membership follows the chat: when you leave a group's (last) chat or are removed or "
        "banned from it, your membership ends – kept only as “member until …” – and you get "
        "nothing of the group any more: no invitations, reminders or poll nudges, it leaves "
        "your calendar, and what was still queued for you about it is not sent. Writing in "
        "the chat again makes you a member again. A chair role that comes from being a chat "
        "admin ends with that status.\n"
        "What admins must do: make me an admin of every Telegram group (otherwise Telegram "
        "does not tell me who leaves, and I ask before each private message); erase advisor "
        "registry entries on request; whoever runs me sets the retention and keeps backups "
        "in step with it."
    )
    between_groups = ctx._(
        "Between groups: a recommendation or assignment your group addresses to another "
        "group reaches that group once the minutes are approved – its text, number, the "
        "meeting and your group's name, nothing else."
    )
    digest = ctx._(
        "The organisation's digest and the steering body's search show of your group only "
        "what its chair shares (/digestshare): by default the decisions of approved minutes "
        "and the meetings those minutes announce; a chair can limit it to recommendations "
        "and assignments, or switch it off."
    )
    handled = ctx._(
        "Telegram update ids: when I run as several processes, I keep the id of each "
        "Telegram update I handled with its chat id (no message text) for {hours} hours, so "
        "that Telegram posting it again cannot run a command twice. {delete} does not remove "
        "them, because that would let a repeated post run the command again; they expire "
        "on their own.",
        hours=f"{ctx.services.settings.telegram_update_retention_hours:g}",
        delete=ctx.command_name("deletemydata"),
    )
    return Reply("\n\n".join((stored, erasure, guarantees, between_groups, digest, handled)))


async def date_check(ctx: HandlerContext) -> Reply:
    when = parse_when(ctx.args["text"], now=ctx.now, tz=ctx.tz)
    text = ctx._("I understand: {when}", when=format_when(when, ctx.language))
    start = when.start_at()
    if start is not None:
        text += f" ({start.tzname()})"
    return Reply(text)


COMMANDS = (
    Command(
        "start",
        start,
        N_("Introduction and opening the private chat"),
    ),
    Command(
        "help",
        help_command,
        N_("List of commands, or help on one command"),
        german="hilfe",
        args=(Arg("command", N_("command"), required=False),),
    ),
    Command(
        "privacy",
        privacy,
        N_("What I store and how to get or delete it"),
        german="datenschutz",
    ),
    Command(
        "date",
        date_check,
        N_("Check how I read a date"),
        german="datum",
        args=(Arg("text", N_("date"), kind=ArgKind.TEXT),),
        details=N_(
            "I read dates the way you write them: 15.06., 15.06.2021 9:00, Di 15.6. 14:00, "
            "9-10 Uhr, morgen 14 Uhr, and ISO forms like 2021-06-15 09:00."
        ),
    ),
)
