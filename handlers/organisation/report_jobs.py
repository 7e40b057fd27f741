"""The daily reminder of reports owed between groups: the owing group's chairs hear of each
due date once, the report's lead before it (its own, else REPORT_REMIND_DAYS_BEFORE; at once
if the date is nearer), never twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.dates import format_date
from bot.core.messages import OutgoingMessage
from handlers.context import Job, Services, local_today
from handlers.members.audience import audience
from handlers.organisation.numbers import report_label
from handlers.organisation.reports import reminder_due
from storage import organisation as org_store
from storage import outbox, people


def _command_name(services: Services, language: str) -> str:
    command = services.router.get("reportdelivered")
    return command.display_name(language) if command else "reportdelivered"


async def remind_reports(services: Services, now: datetime) -> int:
    today = local_today(services, now)
    default = services.settings.report_remind_days_before
    queued = 0
    async with services.sessions.begin() as session:
        longest = max(default, await org_store.longest_report_lead(session))
        due_soon = await org_store.report_duties_due_by(session, today + timedelta(days=longest))
        for duty in due_soon:
            lead = default if duty.remind_days_before is None else duty.remind_days_before
            if not reminder_due(duty.due_date, today, duty.reminded_for, lead):
                continue
            owing = await people.group_by_id(session, duty.owing_group_id)
            receiving = await people.group_by_id(session, duty.receiving_group_id)
            for chair in await people.chairs_of(session, owing.id):
                t = audience(chair, owing).t
                text = t.gettext(
                    "{group} owes {receiver} the report {number} “{title}” on {date}. When it "
                    "is delivered, a chair writes “{command} {number}” in the group.",
                    group=owing.name,
                    receiver=receiving.name,
                    number=report_label(duty.number),
                    title=duty.title,
                    date=format_date(duty.due_date, t.language),
                    command=_command_name(services, t.language),
                )
                queued += await outbox.enqueue_to_person(
                    session,
                    user_id=chair.id,
                    dedupe_key=f"report:{duty.id}:{duty.due_date.isoformat()}:{chair.id}",
                    purpose="report_reminder",
                    message=OutgoingMessage(text),
                    now=now,
                    group_id=owing.id,
                )
            duty.reminded_for = duty.due_date
    if queued:
        services.wake_outbox()
    return queued


JOBS = (Job("report_reminders", remind_reports, daily=True),)
