"""Texts of the advisor escalation: letters to advisors, summaries and reports for admins.

Pure: a translator, data in, an `OutgoingMessage` out. Letters are built in two parts,
the text and the list of upcoming exchanges, so the calendar feature can attach an `.ics`
file per letter through `attach` without touching the wording.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.core.dates import ParsedWhen, format_date, format_when
from bot.core.i18n import N_, Translator
from bot.core.messages import Document, OutgoingMessage
from handlers.advisors.consent import PublicField, describe
from handlers.advisors.policy import Step

if TYPE_CHECKING:
    from handlers.advisors.escalation import EscalationReport, PreviewLine


@dataclass(frozen=True)
class ExchangeInfo:
    """What a letter says about one upcoming Erfahrungsaustausch."""

    number: int
    starts_at: datetime
    ends_at: datetime | None
    provider: str
    place: str
    capacity: int | None


LETTERS = {
    Step.FIRST_REMINDER: N_(
        "Dear {name},\nyour authorization as an advisor ends on {deadline}. To renew it, "
        "please attend an experience exchange (Erfahrungsaustausch) by then."
    ),
    Step.SECOND_REMINDER: N_(
        "Dear {name},\nyour authorization as an advisor has expired. Please attend an "
        "experience exchange by {deadline}; otherwise you will be removed from the public "
        "advisor list on that day."
    ),
    Step.FINAL_NOTICE: N_(
        "Dear {name},\nthis is the last reminder: your authorization as an advisor has "
        "expired. If you do not attend an experience exchange by {deadline}, you will be "
        "removed from the public advisor list."
    ),
    Step.LEGACY_NOTICE: N_(
        "Dear {name},\nyour authorization as an advisor ran out on {expiry}, before the new "
        "renewal rules took effect. Please attend an experience exchange by {deadline}; "
        "otherwise you will be removed from the public advisor list on that day."
    ),
    Step.DELISTING: N_(
        "Dear {name},\nbecause your authorization was not renewed, you have been removed "
        "from the public advisor list today. Attending an experience exchange renews your "
        "authorization and lists you again."
    ),
    Step.RELISTING: N_(
        "Dear {name},\nyour authorization has been renewed: you are listed in the public "
        "advisor list again. Your authorization now runs until {expiry}."
    ),
}
LETTERS[Step.LEGACY_DELISTING] = LETTERS[Step.DELISTING]

STEP_NAMES = {
    Step.FIRST_REMINDER: N_("first reminder"),
    Step.SECOND_REMINDER: N_("second reminder"),
    Step.FINAL_NOTICE: N_("last call"),
    Step.LEGACY_NOTICE: N_("notice (expired before the policy)"),
    Step.DELISTING: N_("delisting"),
    Step.LEGACY_DELISTING: N_("delisting (expired before the policy)"),
    Step.RELISTING: N_("relisting"),
}


def step_name(t: Translator, step: Step) -> str:
    return t.gettext(STEP_NAMES[step])


def describe_exchange(t: Translator, exchange: ExchangeInfo, tz: ZoneInfo) -> str:
    start = exchange.starts_at.astimezone(tz)
    end = exchange.ends_at.astimezone(tz) if exchange.ends_at else None
    same_day = end is not None and end.date() == start.date()
    when = format_when(
        ParsedWhen(start.date(), start.time(), end.time() if same_day else None, tz), t.language
    )
    line = t.gettext(
        "#{number} {when}, {provider}: {place}",
        number=exchange.number,
        when=when,
        provider=exchange.provider,
        place=exchange.place,
    )
    if exchange.capacity is not None:
        line += " " + t.gettext("({capacity} places)", capacity=exchange.capacity)
    return line


Attach = Callable[[Sequence[ExchangeInfo]], Document | None]


def advisor_letter(
    t: Translator,
    *,
    name: str,
    step: Step,
    deadline: date | None,
    exchanges: Sequence[ExchangeInfo],
    tz: ZoneInfo,
    attach: Attach | None = None,
    expiry: date | None = None,
    delisting_waits: bool = True,
    nothing_before_deadline: bool | None = None,
    list_url: str | None = None,
    published: frozenset[PublicField] = frozenset(),
) -> OutgoingMessage:
    """The direct message for one step, in the advisor's language (``t``).

    ``expiry`` is the end of the authorization of the step's cycle (the new one in a
    relisting letter, the one run out in a legacy notice). Exchanges before the deadline
    come first; if there is none, the letter says so (and, with ``delisting_waits``, that
    nobody is delisted before they could attend one); ``nothing_before_deadline`` says
    so when the list is cut short (None: judged from ``exchanges``). ``attach`` turns the
    listed exchanges into a document (e.g. an ``.ics`` file). ``list_url``: where the
    public advisor list is; delisting and relisting letters point there, saying what of the
    entry it shows (``published``, the advisor's consent).
    """
    text = t.gettext(
        LETTERS[step],
        name=name,
        deadline=format_date(deadline, t.language) if deadline else "",
        expiry=format_date(expiry, t.language) if expiry else "",
    )
    if list_url is not None and (line := _list_line(t, step, list_url, published)):
        text += "\n\n" + line
    if step is not Step.RELISTING:
        lines = _exchange_lines(
            t,
            deadline,
            exchanges,
            tz,
            delisting_waits=delisting_waits,
            nothing_before_deadline=nothing_before_deadline,
        )
        if lines:
            text += "\n\n" + "\n".join(lines)
    document = attach(exchanges) if attach and exchanges else None
    return OutgoingMessage(text, document=document)


def _list_line(
    t: Translator, step: Step, url: str, published: frozenset[PublicField]
) -> str | None:
    """The public list's address in a delisting or relisting letter, and what it shows."""
    if step is Step.RELISTING:
        if not published:
            return t.gettext(
                "You have not agreed to publish any part of your entry, so the public advisor "
                "list ({url}) does not show you. Tell the admins if it should.",
                url=url,
            )
        return t.gettext(
            "The public advisor list shows you again ({parts}): {url}",
            parts=describe(t, published),
            url=url,
        )
    if step.is_delisting and published:
        return t.gettext("The public advisor list ({url}) no longer shows you.", url=url)
    return None


def _exchange_lines(
    t: Translator,
    deadline: date | None,
    exchanges: Sequence[ExchangeInfo],
    tz: ZoneInfo,
    *,
    delisting_waits: bool,
    nothing_before_deadline: bool | None,
) -> list[str]:
    if not exchanges and deadline is None:
        return [t.gettext("No experience exchange is published yet; the dates will follow.")]
    if deadline is None:
        lines = [t.gettext("Upcoming experience exchanges:")]
        return lines + [f"• {describe_exchange(t, e, tz)}" for e in exchanges]
    in_time = [e for e in exchanges if e.starts_at.astimezone(tz).date() <= deadline]
    later = [e for e in exchanges if e not in in_time]
    day = format_date(deadline, t.language)
    if nothing_before_deadline is None:
        nothing_before_deadline = not in_time
    lines = []
    if in_time:
        lines = [t.gettext("Experience exchanges before {day}:", day=day)]
        lines += [f"• {describe_exchange(t, e, tz)}" for e in in_time]
    elif nothing_before_deadline:
        lines = [t.gettext("No experience exchange before {day} is published yet.", day=day)]
        if delisting_waits:
            lines.append(
                t.gettext(
                    "The admins have been told. You will not be removed from the advisor "
                    "list before you could attend one."
                )
            )
    if later:
        lines += (
            ["", t.gettext("Later experience exchanges:")]
            if lines
            else [t.gettext("Later experience exchanges:")]
        )
        lines += [f"• {describe_exchange(t, e, tz)}" for e in later]
    return lines


@dataclass(frozen=True)
class ReportLine:
    """One handled step as admins see it."""

    advisor_id: int
    name: str
    email: str | None
    institution: str
    step: Step
    outcome: str  # StepOutcome value
    due_on: date
    no_exchange: bool = False  # the letter had no exchange before its deadline to offer
    deadline: date | None = None
    # The registry address bounced or was refused (since that day, with the server's reason).
    email_unreachable_on: date | None = None
    email_unreachable_reason: str | None = None


def institution_summary(
    t: Translator, institution: str, lines: Sequence[ReportLine], today: date
) -> str:
    """Which advisors of one training institution were reminded, delisted, relisted."""
    out = [
        t.gettext(
            "Advisor reminders of {institution} ({day}):",
            institution=institution,
            day=format_date(today, t.language),
        )
    ]
    for line in lines:
        entry = f"• {line.name}: {step_name(t, line.step)}"
        if line.outcome == "unreachable":
            entry += " – " + t.gettext("could not be reached by chat")
        elif line.outcome == "missed":
            entry += " – " + t.gettext("not sent: a later step was due")
        out.append(entry)
    return "\n".join(out)


def admin_report(
    t: Translator,
    missed: Sequence[ReportLine],
    unreachable: Sequence[ReportLine],
    today: date,
    no_exchange: Sequence[ReportLine] = (),
) -> str | None:
    """What admins must act on: superseded (missed) steps, advisors nobody can reach, and
    letters that had no experience exchange before their deadline to offer."""
    if not missed and not unreachable and not no_exchange:
        return None
    out = [t.gettext("Advisor escalation, {day}:", day=format_date(today, t.language))]
    if unreachable:
        out.append(
            t.ngettext(
                "Could not be reached: {n} (neither a chat nor an e-mail address the bot can "
                "write to; please tell them another way)",
                "Could not be reached: {n} (neither a chat nor an e-mail address the bot can "
                "write to; please tell them another way)",
                len({line.advisor_id for line in unreachable}),
            )
        )
        out += [
            f"• #{line.advisor_id} {line.name} <{line.email or '–'}>, {line.institution}: "
            f"{step_name(t, line.step)}{_address_unreachable(t, line)}"
            for line in unreachable
        ]
    if missed:
        out.append(
            t.ngettext(
                "Not sent because a later step was due (missed, e.g. after downtime): {n}",
                "Not sent because a later step was due (missed, e.g. after downtime): {n}",
                len(missed),
            )
        )
        out += [
            f"• #{line.advisor_id} {line.name}: {step_name(t, line.step)} "
            + t.gettext("due {day}", day=format_date(line.due_on, t.language))
            for line in missed
        ]
    if no_exchange:
        out.append(
            t.ngettext(
                "No experience exchange before the deadline to offer: {n} (please publish dates)",
                "No experience exchange before the deadline to offer: {n} (please publish dates)",
                len(no_exchange),
            )
        )
        out += [
            f"• #{line.advisor_id} {line.name}: {step_name(t, line.step)}, "
            + t.gettext(
                "deadline {day}",
                day=format_date(line.deadline, t.language) if line.deadline else "–",
            )
            for line in no_exchange
        ]
    return "\n".join(out)


def _address_unreachable(t: Translator, line: ReportLine) -> str:
    """Why the registry address was not used: it bounced or was refused."""
    if line.email_unreachable_on is None:
        return ""
    return " – " + t.gettext(
        "e-mail address unreachable since {day} ({reason})",
        day=format_date(line.email_unreachable_on, t.language),
        reason=" ".join((line.email_unreachable_reason or "").split())[:160]
        or t.gettext("no reason given"),
    )


def preview_text(t: Translator, lines: list[PreviewLine], total: int, as_of: date) -> str:
    """What the daily run would do on `as_of`: shared by the chat command and the CLI."""
    day = format_date(as_of, t.language)
    if not lines:
        return t.gettext("Nothing would be sent on {day}.", day=day)
    out = [
        t.ngettext(
            "On {day}, {n} advisor has due steps (nothing is sent by this preview):",
            "On {day}, {n} advisors have due steps (nothing is sent by this preview):",
            total,
            day=day,
        )
    ]
    for line in lines:
        if line.step.superseded:
            what = t.gettext("missed, reported to admins")
        elif line.waits:
            what = t.gettext("waits: no experience exchange has taken place since the last call")
        elif line.by_chat and line.by_mail:
            what = t.gettext("direct message and e-mail")
        elif line.by_chat:
            what = t.gettext("direct message")
        elif line.by_mail:
            what = t.gettext("e-mail")
        else:
            what = t.gettext("not reachable by chat or e-mail, reported to admins")
        out.append(
            f"• #{line.advisor.id} {line.advisor.name}: {step_name(t, line.step.step)} – {what}"
        )
    shown = len({line.advisor.id for line in lines})
    if total > shown:
        out.append(t.gettext("… and {more} more advisors.", more=total - shown))
    return "\n".join(out)


def run_summary(t: Translator, report: EscalationReport) -> str:
    """What a daily run did, for the admin who started it by hand."""
    return t.gettext(
        "Run of {day} done: {sent} letters queued, {unreachable} not reachable by chat or e-mail, "
        "{missed} missed, {delisted} delisted, {relisted} listed again, {held} delistings "
        "waiting for an exchange; {summaries} summaries and reports queued.",
        day=format_date(report.today, t.language),
        sent=report.sent,
        unreachable=report.unreachable,
        missed=report.missed,
        delisted=report.delisted,
        relisted=report.relisted,
        held=report.held,
        summaries=report.summaries,
    )
