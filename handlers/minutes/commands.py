"""Minutes (Protokoll): generate, publish a draft, object, approve.

Approval rules (also in the README): a chair publishes a draft, which starts the objection
period (MINUTES_OBJECTION_DAYS, or the days given). Members object with a text; chairs read
the objections. After the period a chair approves. Before its end a chair may approve early
only with "sofort"/"now" and only if nobody objected to this draft; with objections, the
chair publishes a corrected draft (a new period) or waits. Approval freezes everything the
minutes show (handlers/meetings/lookup.ensure_not_approved); a chair records a later change as
an addendum, which the minutes show dated and signed after the approved text.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.dates import ParsedWhen, format_date, format_when
from bot.core.enums import MinutesStatus, Role
from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.messages import Document, OutgoingMessage, Reply
from bot.core.rich_text import MARKDOWN_FORMAT, TEXT_FORMAT
from bot.core.router import Arg, ArgKind, Command, Scope
from handlers.context import HandlerContext
from handlers.meetings.lookup import meeting_by_arg
from handlers.members.presence import still_chairs
from handlers.minutes.collect import collect_minutes
from handlers.minutes.mail import mail_approved_minutes
from handlers.minutes.render import escape, minutes_documents, render_markdown
from handlers.organisation.forwarding import forward_approved
from storage import agenda as agenda_store
from storage import minutes as minutes_store
from storage import outbox, people
from storage.agenda import active_meeting
from storage.models import Meeting

NOW_CHOICES = {"sofort": "now", "now": "now", "jetzt": "now"}
MAX_OBJECTION = 2000
MAX_ADDENDUM = 3000


def _when(ctx: HandlerContext, moment: datetime) -> str:
    local = moment.astimezone(ctx.tz)
    return format_when(ParsedWhen(local.date(), local.time(), None, ctx.tz), ctx.language)


async def _meeting(ctx: HandlerContext, raw: str | None) -> Meeting:
    """`#N`, or without a number the running meeting, else the latest one that began."""
    assert ctx.group is not None
    if raw:
        return await meeting_by_arg(ctx, raw)
    meeting = await active_meeting(ctx.session, ctx.group.id, ctx.now)
    meeting = meeting or await minutes_store.latest_started_meeting(
        ctx.session, ctx.group.id, ctx.now
    )
    if meeting is None:
        raise UserError(
            ctx._(
                "There is no meeting with minutes yet. {command} lists the meetings.",
                command=ctx.command_name("meetings"),
            )
        )
    return meeting


async def _rendered(
    ctx: HandlerContext, meeting: Meeting
) -> tuple[str, tuple[Document, Document, Document]]:
    assert ctx.group is not None
    data = await collect_minutes(ctx.session, ctx.group, meeting, platform=ctx.platform.name)
    return render_markdown(data, ctx.t), minutes_documents(data, ctx.t)


async def generate(ctx: HandlerContext) -> list[Reply]:
    meeting = await _meeting(ctx, ctx.args.get("number"))
    text, files = await _rendered(ctx, meeting)
    # The minutes formatted, then the files (Markdown, HTML, Word) with one caption: a
    # platform that shows a file's text as a notice of its own says it once (Matrix).
    caption = ctx._("The minutes of meeting #{number} as files.", number=meeting.number)
    return [Reply(text, markdown=True), *(Reply(caption, document=file) for file in files)]


async def publish(ctx: HandlerContext) -> Reply:
    meeting = await meeting_by_arg(ctx, ctx.args["number"])
    if meeting.minutes_status == MinutesStatus.APPROVED.value:
        raise UserError(
            ctx._("The minutes of meeting #{number} are approved already.", number=meeting.number)
        )
    if ctx.now < meeting.starts_at:
        # Minutes record what happened; an objection period ending before the meeting
        # would leave nobody time to read them.
        raise UserError(
            ctx._(
                "Meeting #{number} has not begun yet ({when}). The draft minutes can be "
                "published once it has started.",
                number=meeting.number,
                when=_when(ctx, meeting.starts_at),
            )
        )
    raw_days = ctx.args.get("days")
    days = ctx.services.settings.minutes_objection_days
    if raw_days is not None:
        if not (raw_days.isdecimal() and len(raw_days) < 4) or int(raw_days) > 90:
            raise UserError(ctx._("Please give the objection period in days, from 0 to 90."))
        days = int(raw_days)
    await minutes_store.publish_minutes_draft(
        ctx.session, meeting, now=ctx.now, objections_until=ctx.now + timedelta(days=days)
    )
    headline = ctx._(
        "Draft minutes of meeting #{number} “{title}”. Objections until {when}: {command}",
        number=meeting.number,
        title=meeting.title,
        when=_when(ctx, meeting.objections_until),
        command=f"{ctx.command_name('object')} {meeting.number} …",
    )
    headline += "\n" + objection_period_text(ctx, meeting)
    key = f"minutes:{meeting.id}:draft:{ctx.now.isoformat()}"
    _, _, html = await _announce_minutes(ctx, meeting, headline, key=key, purpose="minutes_draft")
    return Reply(headline, document=html)


async def _announce_minutes(
    ctx: HandlerContext, meeting: Meeting, headline: str, *, key: str, purpose: str
) -> tuple[str, Document, Document]:
    """The group's other chats get the minutes formatted under `headline` (with the
    Markdown file), then the HTML file: one way for the draft and the approved minutes.
    Returns the minutes' Markdown and both files, for this chat."""
    text, (markdown, html, _) = await _rendered(ctx, meeting)
    formatted = escape(headline) + "\n\n" + text
    await ctx.announce(
        dedupe_key=f"{key}:md",
        purpose=purpose,
        message=OutgoingMessage(formatted, document=markdown, extra={TEXT_FORMAT: MARKDOWN_FORMAT}),
        elsewhere_only=True,
    )
    await ctx.announce(
        dedupe_key=f"{key}:html",
        purpose=purpose,
        message=OutgoingMessage(headline, document=html),
        elsewhere_only=True,
    )
    return text, markdown, html


def objection_period_text(ctx: HandlerContext, meeting: Meeting) -> str:
    """The period in terms of the meeting: it counts from publication, which may be weeks
    after a meeting entered afterwards."""
    held = meeting.starts_at.astimezone(ctx.tz).date()
    assert meeting.objections_until is not None
    after = (meeting.objections_until.astimezone(ctx.tz).date() - held).days
    return ctx.ngettext(
        "The period counts from today: it ends {n} day after the meeting of {date}.",
        "The period counts from today: it ends {n} days after the meeting of {date}.",
        after,
        date=format_date(held, ctx.language),
    )


async def object_to(ctx: HandlerContext) -> Reply:
    meeting = await meeting_by_arg(ctx, ctx.args["number"])
    text = " ".join(ctx.args["text"].split())
    if meeting.minutes_status != MinutesStatus.DRAFT.value or meeting.objections_until is None:
        raise UserError(
            ctx._(
                "The minutes of meeting #{number} are not open for objections.",
                number=meeting.number,
            )
        )
    if ctx.now > meeting.objections_until:
        raise UserError(
            ctx._(
                "The objection period for meeting #{number} ended on {when}.",
                number=meeting.number,
                when=_when(ctx, meeting.objections_until),
            )
        )
    if len(text) > MAX_OBJECTION:
        raise UserError(
            ctx._("That is too long: at most {limit} characters, please.", limit=MAX_OBJECTION)
        )
    objection = await minutes_store.add_objection(
        ctx.session, meeting.id, ctx.user.id, text, ctx.now
    )
    await _tell_chairs(ctx, meeting, objection.id, text)
    return Reply(
        ctx._(
            "Your objection to the minutes of meeting #{number} is recorded. The chairs see it "
            "before they approve.",
            number=meeting.number,
        )
    )


async def _tell_chairs(ctx: HandlerContext, meeting: Meeting, objection_id: int, text: str) -> None:
    """Chairs hear of an objection in their private chat, so none is missed before approval."""
    assert ctx.group is not None
    message = OutgoingMessage(
        ctx._(
            "{name} objects to the minutes of meeting #{number} “{title}” ({group}): {text}",
            name=ctx.message.sender.display_name,
            number=meeting.number,
            title=meeting.title,
            group=ctx.group.name,
            text=text,
        )
    )
    chairs = await minutes_store.chair_ids(ctx.session, ctx.group.id)
    chairs = await still_chairs(ctx.services, ctx.session, ctx.group.id, chairs, ctx.now)
    for chair in sorted(chairs):
        if chair == ctx.user.id:
            continue
        ctx.enqueued += await outbox.enqueue_to_person(
            ctx.session,
            user_id=chair,
            dedupe_key=f"minutes-objection:{objection_id}:{chair}",
            purpose="minutes_objection",
            message=message,
            now=ctx.now,
            group_id=ctx.group.id,
        )


async def _current_objections(ctx: HandlerContext, meeting: Meeting) -> list[str]:
    objections = await minutes_store.objections_of(
        ctx.session, meeting.id, since=meeting.minutes_published_at
    )
    names = await people.display_names(
        ctx.session, [o.user_id for o in objections if o.user_id], ctx.platform.name
    )
    return [
        f"• {names.get(o.user_id or 0, '?')} ({_when(ctx, o.created_at)}): {o.text}"
        for o in objections
    ]


async def objections(ctx: HandlerContext) -> Reply:
    meeting = await meeting_by_arg(ctx, ctx.args["number"])
    lines = await _current_objections(ctx, meeting)
    if not lines:
        return Reply(
            ctx._("No objections to the minutes of meeting #{number}.", number=meeting.number)
        )
    title = ctx._("Objections to the minutes of meeting #{number}:", number=meeting.number)
    return Reply("\n".join([title, *lines]))


async def approve(ctx: HandlerContext) -> list[Reply]:
    meeting = await meeting_by_arg(ctx, ctx.args["number"])
    if meeting.minutes_status == MinutesStatus.APPROVED.value:
        raise UserError(
            ctx._("The minutes of meeting #{number} are approved already.", number=meeting.number)
        )
    if meeting.minutes_status != MinutesStatus.DRAFT.value or meeting.objections_until is None:
        raise UserError(
            ctx._(
                "Publish the draft first, so members can object: {command}",
                command=f"{ctx.command_name('publishminutes')} {meeting.number}",
            )
        )
    raised = await _current_objections(ctx, meeting)
    if ctx.now < meeting.objections_until:
        if raised:
            raise UserError(
                ctx._(
                    "Members objected to this draft ({command}). Publish a corrected draft, "
                    "or approve after the objection period ends on {when}.",
                    command=f"{ctx.command_name('objections')} {meeting.number}",
                    when=_when(ctx, meeting.objections_until),
                )
            )
        if ctx.args.get("now") != "now":
            raise UserError(
                ctx._(
                    "The objection period runs until {when}. To approve now anyway (nobody "
                    "objected so far): {command}",
                    when=_when(ctx, meeting.objections_until),
                    command=f"{ctx.command_name('approveminutes')} {meeting.number} "
                    + ("sofort" if ctx.language == "de" else "now"),
                )
            )
    await minutes_store.approve_minutes(ctx.session, meeting, now=ctx.now)
    forwarded = await forward_approved(ctx, meeting)  # only now may decisions leave the group
    headline = ctx._(
        "The minutes of meeting #{number} “{title}” are approved; its decisions are final.",
        number=meeting.number,
        title=meeting.title,
    )
    # Formatted like the draft (the same rich_text path as /protokoll), then the files.
    text, markdown_file, html = await _announce_minutes(
        ctx, meeting, headline, key=f"minutes:{meeting.id}:approved", purpose="minutes_approved"
    )
    await mail_approved_minutes(ctx, meeting)
    notes = list(forwarded)
    if raised:
        notes.insert(
            0,
            ctx.ngettext("{n} objection was raised.", "{n} objections were raised.", len(raised)),
        )
    lines = [escape(headline), *(escape(note) for note in notes)]
    return [
        Reply("  \n".join(lines) + "\n\n" + text, markdown=True, document=markdown_file),
        Reply(headline, document=html),
    ]


async def add_addendum(ctx: HandlerContext) -> Reply:
    """Approved minutes stay as approved; what changed later is added apart, by a chair."""
    meeting = await meeting_by_arg(ctx, ctx.args["number"])
    text = " ".join(ctx.args["text"].split())
    if meeting.minutes_status != MinutesStatus.APPROVED.value:
        raise UserError(
            ctx._(
                "The minutes of meeting #{number} are not approved yet; correct them directly, "
                "e.g. {command}",
                number=meeting.number,
                command=f"{ctx.command_name('note')} #{meeting.number} …",
            )
        )
    if len(text) > MAX_ADDENDUM:
        raise UserError(
            ctx._("That is too long: at most {limit} characters, please.", limit=MAX_ADDENDUM)
        )
    await agenda_store.add_addendum(
        ctx.session, meeting, text=text, author_user_id=ctx.user.id, now=ctx.now
    )
    return Reply(
        ctx._(
            "Addendum to the approved minutes of meeting #{number} recorded; the minutes show "
            "it after the approved text: {command}",
            number=meeting.number,
            command=f"{ctx.command_name('minutes')} {meeting.number}",
        )
    )


def _number_arg(required: bool = True) -> Arg:
    return Arg("number", N_("meeting number"), required=required)


COMMANDS = (
    Command(
        "minutes",
        generate,
        N_("The minutes of a meeting, as text and as Markdown, HTML and Word files"),
        german="protokoll",
        args=(_number_arg(required=False),),
        details=N_("Without a number: today's or the latest meeting. Example: /minutes 3"),
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "publishminutes",
        publish,
        N_("Publish the draft minutes; members may object for some days"),
        german="protokollentwurf",
        args=(_number_arg(), Arg("days", N_("days"), required=False)),
        details=N_(
            "Sends the draft to all chats of the group. Example: /publishminutes 3 – or "
            "/publishminutes 3 14 for a 14-day objection period."
        ),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "object",
        object_to,
        N_("Object to published draft minutes"),
        german="einspruch",
        args=(
            _number_arg(),
            Arg("text", N_("what is wrong"), kind=ArgKind.TEXT, max_length=MAX_OBJECTION),
        ),
        details=N_("Example: /object 3 Under TOP 2 Ms Weber's abstention is missing."),
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "objections",
        objections,
        N_("Read the objections to draft minutes"),
        german="einsprueche",
        args=(_number_arg(),),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "approveminutes",
        approve,
        N_("Approve the minutes; their decisions become final"),
        german="protokollgenehmigen",
        args=(
            _number_arg(),
            Arg(
                "now",
                N_("now"),
                kind=ArgKind.CHOICE,
                required=False,
                choices=NOW_CHOICES,
                display={"de": "sofort", "en": "now"},
            ),
        ),
        details=N_(
            "After the objection period ends. Earlier only with “now” and only if nobody "
            "objected. Example: /approveminutes 3"
        ),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "addendum",
        add_addendum,
        N_("Add an addendum to approved minutes"),
        german="nachtrag",
        args=(
            _number_arg(),
            Arg("text", N_("what changed"), kind=ArgKind.TEXT, max_length=MAX_ADDENDUM),
        ),
        details=N_(
            "Approved minutes can no longer be changed; a later change or correction is "
            "recorded as an addendum, shown with date and author after the approved text. "
            "Example: /addendum 3 Ms Weber (IHK Köln) also attended."
        ),
        role=Role.CHAIR,
        scope=Scope.GROUP,
        needs_group=True,
    ),
)
