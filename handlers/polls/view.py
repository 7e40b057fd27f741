"""How a poll looks in a chat: the overview text and its buttons (pure; no I/O).

One function renders the message that is sent when a poll is created, edited in place on
every answer, and sent again when it closes, so every chat shows the same table.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.core.dates import ParsedWhen, format_when
from bot.core.enums import PollKind, PollStatus
from bot.core.i18n import N_, Translator
from bot.core.messages import Button
from handlers.polls.tally import Tally

if TYPE_CHECKING:
    from storage.models import Poll, PollOption

ICONS = {"yes": "✅", "maybe": "🟡", "no": "❌"}
ANSWER_LABELS = {"yes": N_("yes"), "maybe": N_("if need be"), "no": N_("no")}
TITLES = {
    PollKind.DATE.value: N_("Date poll #{number}: {title}"),
    PollKind.SINGLE.value: N_("Survey #{number}: {title}"),
    PollKind.MULTIPLE.value: N_("Survey #{number}: {title}"),
}


def slot_when(option: PollOption, tz: ZoneInfo) -> ParsedWhen:
    assert option.starts_at is not None
    start = option.starts_at.astimezone(tz)
    end = option.ends_at.astimezone(tz) if option.ends_at else None
    same_day = end is not None and end.date() == start.date()
    return ParsedWhen(start.date(), start.time(), end.time() if same_day else None, tz)


def moment_text(moment: datetime, tz: ZoneInfo, language: str) -> str:
    local = moment.astimezone(tz)
    return format_when(ParsedWhen(local.date(), local.time(), None, tz), language)


def option_text(poll: Poll, option: PollOption, tz: ZoneInfo, language: str) -> str:
    if poll.kind == PollKind.DATE.value:
        return format_when(slot_when(option, tz), language)
    return option.label or ""


def short_option(poll: Poll, option: PollOption, tz: ZoneInfo, language: str) -> str:
    """A button-sized label: `15.06. 9:00` / `06-15 09:00`, or the first words of a choice."""
    if poll.kind != PollKind.DATE.value:
        label = option.label or ""
        return label if len(label) <= 40 else label[:39] + "…"
    assert option.starts_at is not None
    start = option.starts_at.astimezone(tz)
    if language == "de":
        return f"{start.day:02d}.{start.month:02d}. {start.hour}:{start.minute:02d}"
    return f"{start.month:02d}-{start.day:02d} {start.hour:02d}:{start.minute:02d}"


def best_position(poll: Poll, result: Tally, now: datetime) -> int | None:
    """The option to suggest: a date poll's best slot among those still ahead."""
    if poll.kind != PollKind.DATE.value:
        return result.best
    ahead = [o.position for o in poll.options if o.starts_at is not None and o.starts_at > now]
    return result.best_of(ahead)


def shows_poll(text: str, poll: Poll) -> bool:
    """True if `text` (a message as the platform reports it) is a view of `poll`: it starts
    with the header `render` writes, in any language, or has it under a headline."""
    return any(
        line.startswith(("📅 ", "📊 ")) and line.endswith(f" #{poll.number}: {poll.title}")
        for line in text.split("\n", 2)[:2]
    )


def render(
    t: Translator,
    poll: Poll,
    result: Tally,
    tz: ZoneInfo,
    now: datetime,
    *,
    hint: str | None = None,
) -> str:
    """The overview: one numbered line per slot with counts (and names unless anonymous),
    totals, the best option marked ⭐ and the chosen one 📌."""
    is_date = poll.kind == PollKind.DATE.value
    lines = [
        ("📅 " if is_date else "📊 ")
        + t.gettext(TITLES[poll.kind], number=poll.number, title=poll.title)
    ]
    facts = []
    if poll.kind == PollKind.MULTIPLE.value:
        facts.append(t.gettext("several answers possible"))
    if poll.anonymous:
        facts.append(t.gettext("anonymous"))
    if poll.status == PollStatus.CLOSED.value:
        facts.append(t.gettext("closed"))
    elif poll.deadline is not None:
        facts.append(
            t.gettext("answers until {when}", when=moment_text(poll.deadline, tz, t.language))
        )
    if facts:
        lines.append(" · ".join(facts))
    lines.append("")
    best = best_position(poll, result, now)
    for option in poll.options:
        counts = result.options[option.position]
        mark = " ⭐" if option.position == best else ""
        if option.position == poll.chosen_position:
            mark += " 📌"
        text = option_text(poll, option, tz, t.language)
        if is_date:
            lines.append(f"{option.position}) {text}{mark}")
            answers = ("yes", "maybe", "no") if poll.allow_maybe else ("yes", "no")
            lines.append("    " + " · ".join(f"{ICONS[a]} {counts.count(a)}" for a in answers))
            named = [f"{ICONS[a]} {', '.join(counts.names[a])}" for a in answers if counts.names[a]]
            if named and not poll.anonymous:
                lines.append("    " + "  ".join(named))
        else:
            percent = t.gettext("{percent}%", percent=result.percent(option.position))
            lines.append(f"{option.position}) {text} – {counts.count('yes')} ({percent}){mark}")
            if counts.names["yes"] and not poll.anonymous:
                lines.append("    " + ", ".join(counts.names["yes"]))
    lines.append("")
    lines.append(t.ngettext("{n} person answered.", "{n} people answered.", result.respondents))
    if best is not None:
        lines.append(t.gettext("⭐ best date") if is_date else t.gettext("⭐ most votes"))
    if hint:
        lines.append(hint)
    return "\n".join(lines)


def vote_hint(t: Translator, poll: Poll, command: str) -> str:
    """The typed alternative to the buttons (console, Matrix with many slots); `command`
    is the vote command as written on the platform, e.g. `/abstimmen` or `!abstimmen`."""
    if poll.kind == PollKind.DATE.value:
        words = "ja|notfalls|nein" if poll.allow_maybe else "ja|nein"
        if t.language != "de":
            words = "yes|ifneedbe|no" if poll.allow_maybe else "yes|no"
        example = f"{command} #{poll.number} 1 2 {words.split('|')[0]}"
        return t.gettext(
            "Answer with the buttons or type e.g. {example} (answers: {words}).",
            example=example,
            words=words,
        )
    return t.gettext(
        "Answer with the buttons or type e.g. {example}.",
        example=f"{command} #{poll.number} 1",
    )


def vote_buttons(
    t: Translator, poll: Poll, tz: ZoneInfo, limit: int | None
) -> tuple[tuple[Button, ...], ...]:
    """One row per slot with yes / if need be / no; where a platform has few buttons
    (Matrix reactions), one "yes" per slot, the rest by typed command (see vote_hint)."""
    if poll.status != PollStatus.OPEN.value:
        return ()
    command = f"/vote #{poll.number}"
    if poll.kind != PollKind.DATE.value:
        answer = "toggle" if poll.kind == PollKind.MULTIPLE.value else "yes"
        rows = tuple(
            (
                Button(
                    f"{o.position}) {short_option(poll, o, tz, t.language)}",
                    f"{command} {o.position} {answer}",
                    undo=f"{command} {o.position} {'toggle' if answer == 'toggle' else 'no'}",
                    exclusive=poll.kind == PollKind.SINGLE.value,
                ),
            )
            for o in poll.options
        )
        return rows if limit is None or len(rows) <= limit else ()
    answers = ("yes", "maybe", "no") if poll.allow_maybe else ("yes", "no")
    full = tuple(
        tuple(
            Button(
                f"{o.position} {ICONS[a]} {t.gettext(ANSWER_LABELS[a])}",
                f"{command} {o.position} {a}",
            )
            for a in answers
        )
        for o in poll.options
    )
    if limit is None:
        return full
    # Where buttons are few (Matrix reactions 1️⃣…🔟), one "yes" per slot with the slot's own
    # number: a keycap then means the date with that number, never "2 ✅ ja" behind 4️⃣.
    if len(poll.options) > limit:
        return ()
    return tuple(
        (
            Button(
                f"{o.position} {ICONS['yes']} {short_option(poll, o, tz, t.language)}",
                f"{command} {o.position} yes",
                undo=f"{command} {o.position} no",
            ),
        )
        for o in poll.options
    )


def pick_buttons(
    t: Translator, poll: Poll, result: Tally, tz: ZoneInfo, now: datetime, limit: int | None
) -> tuple[tuple[Button, ...], ...]:
    """After closing a date poll: one button per slot still ahead, for the chair to pick."""
    if poll.kind != PollKind.DATE.value or poll.meeting_id is not None:
        return ()
    best = best_position(poll, result, now)
    rows = tuple(
        (
            Button(
                f"{o.position}) {short_option(poll, o, tz, t.language)}"
                + (" ⭐" if o.position == best else ""),
                f"/pickdate #{poll.number} {o.position}",
            ),
        )
        for o in poll.options
        if o.starts_at is not None and o.starts_at > now
    )
    return rows if limit is None or len(rows) <= limit else rows[:limit]


def closed_headline(t: Translator, poll: Poll, result: Tally, tz: ZoneInfo, now: datetime) -> str:
    if poll.kind != PollKind.DATE.value:
        return t.gettext("The survey is closed. Result:")
    suggested = best_position(poll, result, now)
    best = next((o for o in poll.options if o.position == suggested), None)
    if best is None:
        return t.gettext("The date poll is closed; nobody can make any of the dates.")
    return t.gettext(
        "The date poll is closed. Suggested: {when}. A chair picks the date with the buttons.",
        when=option_text(poll, best, tz, t.language),
    )
