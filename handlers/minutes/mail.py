"""Approved minutes by e-mail to the members who chose it (`/email protokolle email|beides`):
the minutes in the body (text and HTML), the Markdown, HTML and Word files attached, in each
member's language. The group's chats get the announcement as before."""

from __future__ import annotations

from bot.core.i18n import Translator
from bot.core.mail import MailContent, MessageKind, to_outgoing
from handlers.context import HandlerContext
from handlers.email.routing import route_for
from handlers.email.texts import with_footer
from handlers.members.audience import language_of
from handlers.minutes.collect import collect_minutes
from handlers.minutes.render import minutes_documents, render_html, render_markdown
from storage import calendar as calendar_store
from storage import mail as mail_store
from storage.models import Meeting

PURPOSE = "minutes_approved"


async def mail_approved_minutes(ctx: HandlerContext, meeting: Meeting) -> int:
    """Queue one mail per member whose route for minutes includes e-mail; returns how many."""
    assert ctx.group is not None
    group = ctx.group
    data = await collect_minutes(ctx.session, group, meeting)
    mails: dict[str, MailContent] = {}
    queued = 0
    for user, _name in await calendar_store.invitees(ctx.session, group.id):
        route = await route_for(ctx.session, user.id, MessageKind.MINUTES)
        if route.address is None:
            continue
        language = language_of(user, group)
        if language not in mails:
            t = Translator(language)
            mails[language] = MailContent(
                subject=t.gettext("Minutes: {title}", title=data.title),
                text=with_footer(
                    render_markdown(data, t),
                    t,
                    MessageKind.MINUTES,
                    group=group.name,
                    command=ctx.command_name("email"),
                ),
                language=language,
                html=render_html(data, t),
                attachments=minutes_documents(data, t),
            )
        queued += await mail_store.enqueue_mail(
            ctx.session,
            address=route.address,
            dedupe_key=f"minutes:{meeting.id}:approved:{user.id}",
            purpose=PURPOSE,
            message=to_outgoing(mails[language]),
            now=ctx.now,
            user_id=user.id,
            group_id=group.id,
        )
    ctx.enqueued += queued
    return queued
