"""During the meeting: which TOP is discussed now, notes on it, and who attended.

These commands work on the meeting the group is in today (see storage.agenda.active_meeting)
or on one named first: "/notiz #3 …".
"""

from __future__ import annotations

import re

from bot.core.enums import Role
from bot.core.errors import UserError
from bot.core.i18n import N_
from bot.core.mentions import MENTION as _MENTION  # Matrix IDs keep their colon
from bot.core.messages import Reply
from bot.core.router import Arg, ArgKind, Command, Scope
from handlers.agenda.commands import item_label
from handlers.context import HandlerContext
from handlers.meetings.lookup import (
    ensure_not_approved,
    ensure_open,
    find_member_named,
    item_by_arg,
    meeting_from_text,
    member_by_mention,
    member_names,
)
from handlers.minutes.data import with_organisation
from storage import agenda as agenda_store
from storage import meetings as meeting_store
from storage.models import AgendaItem, Meeting

NEXT_WORDS = {"next", "weiter", "nächster", "naechster", "nächste", "naechste", "+"}
_COUNT = re.compile(
    r"^(\d{1,5})(?:\s+(?:teilnehmende|teilnehmer|teilnehmerinnen|personen|participants|"
    r"people|attendees))?$",
    re.IGNORECASE,
)
_EVERYONE_YES = re.compile(
    r"\b(?:alle\s+mit\s+zusage|alle\s+zusagen|everyone\s+who\s+said\s+yes|"
    r"all\s+who\s+said\s+yes|all\s+yes)\b",
    re.IGNORECASE,
)
_GUESTS = re.compile(r"\b(?:gäste|gaeste|gast|guests|guest)\s*:", re.IGNORECASE)
_PARTICIPANTS = re.compile(
    r"^\s*(?:teilnehmende|teilnehmer(?:innen)?|participants|attendees)\s*:", re.IGNORECASE
)


def name_list(names: list[str], *, with_organisations: bool) -> str:
    """Names joined by ", ", or by "; " once one is "Name, Organisation"."""
    return ("; " if with_organisations else ", ").join(names)


def split_participants(text: str) -> list[tuple[str, str | None]]:
    """People named one per line or separated by ";", each "Name, Organisation" as the
    groups' minutes list them: [("Dr. Weber", "IHK Köln"), ("Lena Roth", None)]."""
    found = []
    for entry in re.split(r"[;\n]", _PARTICIPANTS.sub("", text)):
        name, _, organisation = entry.strip(" ,\t").partition(",")
        if name.strip():
            found.append((name.strip(), organisation.strip() or None))
    return found


def split_guests(text: str) -> list[str]:
    """ "Dr. X (IHK Köln), Y (HWK, Kammer); Z" → names; commas inside brackets stay."""
    names, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char in ",;" and depth <= 0:
            names.append(current)
            current = ""
        else:
            current += char
    names.append(current)
    return [n.strip() for n in names if n.strip()]


async def set_current(ctx: HandlerContext) -> Reply:
    raw = ctx.args.get("item") or ""
    # "/top 4 2": meeting 4, TOP 2; "/top 2" alone is TOP 2 of today's meeting.
    meeting, rest = await meeting_from_text(ctx, raw, bare=len(raw.split()) == 2)
    ensure_open(ctx, meeting)
    accepted = await agenda_store.accepted_items(ctx.session, meeting.id)
    numbers = agenda_store.top_numbers(accepted)
    if not numbers:
        raise UserError(ctx._("Meeting #{number} has no agenda items yet.", number=meeting.number))
    if rest.lower() in NEXT_WORDS or not rest:
        # "Next" is the next TOP: breaks are skipped, they have nothing to record.
        current = await agenda_store.current_agenda_item(ctx.session, meeting)
        after = current.position if current is not None else 0
        following = [i for i in accepted if i.position > after and i.id in numbers]
        if not following:
            assert current is not None
            raise UserError(
                ctx._("TOP {number} is the last item.", number=numbers.get(current.id, "–"))
            )
        item = following[0]
    else:
        item = await item_by_arg(ctx, meeting, rest)
    meeting.current_agenda_item_id = item.id
    if item.id not in numbers:  # a break named on purpose ("/top pause1")
        return Reply(
            ctx._(
                "Now the break: {title} (meeting #{meeting}).",
                title=item.title,
                meeting=meeting.number,
            )
        )
    return Reply(
        ctx._(
            "Now TOP {number}: {title} (meeting #{meeting}). Notes go to this TOP.",
            number=numbers[item.id],
            title=item.title,
            meeting=meeting.number,
        )
    )


async def add_note(ctx: HandlerContext) -> Reply:
    meeting, text = await meeting_from_text(ctx, ctx.args["text"])
    ensure_open(ctx, meeting)
    ensure_not_approved(ctx, meeting)
    if not text:
        raise UserError(
            ctx._(
                "Please write the note after the command, e.g. {example}",
                example=f"{ctx.command_name('note')} Die AG begrüßt den Vorschlag.",
            )
        )
    note = await agenda_store.add_note(
        ctx.session, meeting, text=text, author_user_id=ctx.user.id, now=ctx.now
    )
    if note.agenda_item_id is None:
        return Reply(
            ctx._("Note saved for meeting #{number} (no TOP is current).", number=meeting.number)
        )
    item = await agenda_store.current_agenda_item(ctx.session, meeting)
    assert item is not None
    label = await item_label(ctx, meeting, item)
    return Reply(ctx._("Note saved for {item}.", item=label), toast=ctx._("Saved"))


def _meeting_arg(ctx: HandlerContext) -> str | None:
    """The optional meeting argument: "#3", or a bare "3" (it can mean nothing else here)."""
    raw = ctx.args.get("meeting")
    return f"#{raw}" if raw and raw.isdigit() else raw


async def list_notes(ctx: HandlerContext) -> Reply:
    meeting, rest = await meeting_from_text(ctx, _meeting_arg(ctx))
    if rest:
        raise UserError(ctx._("I did not understand the extra words: {value}", value=rest))
    notes = await agenda_store.notes_of(ctx.session, meeting.id)
    if not notes:
        return Reply(ctx._("No notes for meeting #{number} yet.", number=meeting.number))
    names = await member_names(ctx)
    items = {i.id: i for i in await agenda_store.items_of(ctx.session, meeting.id)}
    numbers = agenda_store.top_numbers(list(items.values()))
    lines = [ctx._("Notes of meeting #{number}:", number=meeting.number)]
    grouped: dict[int | None, list[str]] = {}
    for note in notes:
        author = names.get(note.author_user_id or 0)
        by = f" ({author})" if author else ""
        grouped.setdefault(note.agenda_item_id, []).append(f"• {note.text}{by}")
    order = sorted(
        grouped, key=lambda key: (key is not None, items[key].position if key in items else 0)
    )
    for key in order:
        item: AgendaItem | None = items.get(key) if key is not None else None
        if item is None:
            heading = ctx._("General")
        elif item.id in numbers:
            heading = f"TOP {numbers[item.id]} {item.title}"
        else:
            heading = f"☕ {item.title}"
        lines += ["", heading, *grouped[key]]
    return Reply("\n".join(lines))


async def record_attendance(ctx: HandlerContext) -> Reply:
    who = ctx.args["who"]
    # "/anwesend 3 @anna" names meeting 3; "/anwesend 58 Teilnehmende" is a head count.
    meeting, text = await meeting_from_text(ctx, who, bare=not _COUNT.match(who.strip()))
    ensure_open(ctx, meeting)
    ensure_not_approved(ctx, meeting)
    if not text:
        raise UserError(_attendance_help(ctx))
    count = _COUNT.match(text.strip())
    if count:
        meeting.attendance_count = int(count.group(1))
        return Reply(
            ctx.ngettext(
                "Meeting #{number}: {n} participant recorded.",
                "Meeting #{number}: {n} participants recorded.",
                meeting.attendance_count,
                number=meeting.number,
            )
        )
    guests_at = _GUESTS.search(text)
    people, guests = (
        (text[: guests_at.start()], text[guests_at.end() :]) if guests_at else (text, "")
    )
    added: list[str] = []
    if _EVERYONE_YES.search(people):
        people = _EVERYONE_YES.sub(" ", people)
        said_yes = await meeting_store.said_yes(ctx.session, meeting.id)
        names = await member_names(ctx)
        for user_id in said_yes:
            if await agenda_store.mark_present(
                ctx.session, meeting, user_id=user_id, by_user_id=ctx.user.id, now=ctx.now
            ):
                added.append(names.get(user_id, "?"))
    for mention in _MENTION.findall(people):
        identity = await member_by_mention(ctx, mention)
        if await agenda_store.mark_present(
            ctx.session, meeting, user_id=identity.user_id, by_user_id=ctx.user.id, now=ctx.now
        ):
            added.append(identity.display_name)
    # Participants who are not in the chat, by name and organisation: still participants.
    # A name that is a member's display name (Matrix users often type it) is that member.
    # A single word is rather a username without its @ ("anna"): asked back, not recorded.
    named = split_participants(_MENTION.sub(" ", people))
    listed = bool(_PARTICIPANTS.match(people))
    outsiders: list[tuple[str, str | None]] = []
    for name, organisation in named:
        identity = None if organisation else await find_member_named(ctx, name)
        if identity is not None:
            if await agenda_store.mark_present(
                ctx.session, meeting, user_id=identity.user_id, by_user_id=ctx.user.id, now=ctx.now
            ):
                added.append(identity.display_name)
            continue
        if not (listed or organisation or " " in name):
            raise UserError(
                ctx._("I did not understand “{value}”.", value=name) + "\n" + _attendance_help(ctx)
            )
        outsiders.append((name, organisation))
    for name, organisation in outsiders:
        if len(name) > 200 or len(organisation or "") > 200:
            raise UserError(ctx._("A guest's name is too long (at most 200 characters)."))
        if await agenda_store.mark_present(
            ctx.session,
            meeting,
            guest_name=name,
            organisation=organisation,
            as_guest=False,
            by_user_id=ctx.user.id,
            now=ctx.now,
        ):
            added.append(with_organisation(name, organisation))
    for guest in split_guests(guests):
        if len(guest) > 200:
            raise UserError(ctx._("A guest's name is too long (at most 200 characters)."))
        if await agenda_store.mark_present(
            ctx.session, meeting, guest_name=guest, by_user_id=ctx.user.id, now=ctx.now
        ):
            added.append(guest)
    listing = name_list(added, with_organisations=any(org for _, org in named))
    headline = (
        ctx._("Recorded as present: {names}", names=listing)
        if added
        else ctx._("Everyone named was recorded already.")
    )
    return Reply("\n".join([headline, *await attendance_lines(ctx, meeting)]))


def _attendance_help(ctx: HandlerContext) -> str:
    return ctx._(
        "Examples: {a} @anna @bernd · {a} Dr. Weber, IHK Köln; Lena Roth, HWK (people not "
        "in the chat: one per line or separated by ;) · {a} alle mit Zusage · "
        "{a} 58 Teilnehmende · {a} Gäste: Dr. Weber (IHK Köln), Lena Roth (HWK)",
        a=ctx.command_name("present"),
    )


async def remove_attendance(ctx: HandlerContext) -> Reply:
    meeting, text = await meeting_from_text(ctx, ctx.args["who"], bare=True)
    ensure_not_approved(ctx, meeting)
    removed = []
    for mention in _MENTION.findall(text):
        identity = await member_by_mention(ctx, mention)
        if await agenda_store.mark_absent(ctx.session, meeting, user_id=identity.user_id):
            removed.append(identity.display_name)
    guest = _MENTION.sub(" ", text).strip()
    # A member's display name, typed as shown (the one resolver, as /anwesend reads it).
    member = await find_member_named(ctx, guest) if guest else None
    if member is not None and await agenda_store.mark_absent(
        ctx.session, meeting, user_id=member.user_id
    ):
        removed.append(member.display_name)
        guest = ""
    if guest:
        # "Dr. Weber, IHK Köln" as listed, or just the name
        names = dict.fromkeys([guest, guest.partition(",")[0].strip()])
        for name in names:
            if await agenda_store.mark_absent(ctx.session, meeting, guest_name=name):
                removed.append(guest)
                break
        else:
            raise UserError(ctx._("“{value}” is not on the list.", value=guest))
    if not removed:
        raise UserError(ctx._("Nobody named was on the list."))
    return Reply(
        "\n".join(
            [
                ctx._("Removed from the list: {names}", names=", ".join(removed)),
                *await attendance_lines(ctx, meeting),
            ]
        )
    )


async def attendance_lines(ctx: HandlerContext, meeting: Meeting) -> list[str]:
    """Who attended (members, then guests) and the head count, if anything is recorded."""
    rows = await agenda_store.attendance_of(ctx.session, meeting.id)
    if not rows and meeting.attendance_count is None:
        return []
    names = await member_names(ctx)
    # A member who erased their data: a nameless stand-in labelled "former member".
    members = [names.get(r.user_id, r.guest_name or "?") for r in rows if r.user_id is not None]
    members += [
        with_organisation(r.guest_name, r.organisation)
        for r in rows
        if r.user_id is None and r.guest_name and not r.as_guest
    ]
    guests = [r.guest_name for r in rows if r.user_id is None and r.guest_name and r.as_guest]
    # Everyone present adds up: members, people named, guests – or the head count if higher.
    total = max(meeting.attendance_count or 0, len(rows))
    lines = [ctx.ngettext("Attendance: {n} participant", "Attendance: {n} participants", total)]
    lines += [f"• {name}" for name in members]
    if guests:
        lines.append(ctx._("Guests:"))
        lines += [f"• {name}" for name in guests]
    return lines


async def show_attendance(ctx: HandlerContext) -> Reply:
    meeting, rest = await meeting_from_text(ctx, _meeting_arg(ctx))
    if rest:
        raise UserError(ctx._("I did not understand the extra words: {value}", value=rest))
    lines = await attendance_lines(ctx, meeting)
    if not lines:
        return Reply(
            ctx._("No attendance recorded for meeting #{number} yet.", number=meeting.number)
            + "\n"
            + _attendance_help(ctx)
        )
    return Reply("\n".join([ctx._("Meeting #{number}", number=meeting.number), *lines]))


_MEETING_OPTIONAL = Arg("meeting", N_("#meeting"), required=False)

COMMANDS = (
    Command(
        "item",
        set_current,
        N_("Say which TOP is discussed now (or “next”)"),
        german="top",
        args=(Arg("item", N_("number|next"), kind=ArgKind.TEXT, required=False, max_length=40),),
        details=N_(
            "Example: /top 3, or /top weiter for the next one. Notes (and decisions and "
            "action items) recorded from now on belong to this TOP. Works on today's "
            "meeting; name another one first: /top #4 2."
        ),
        role=Role.MINUTE_TAKER,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "note",
        add_note,
        N_("Add a note to the TOP being discussed"),
        german="notiz",
        args=(Arg("text", N_("text"), kind=ArgKind.TEXT, max_length=3000),),
        details=N_(
            "Example: /notiz Die AG begrüßt den Vorschlag, Details klärt die Fachgruppe. "
            "For another meeting than today's: /notiz #3 …"
        ),
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "notes",
        list_notes,
        N_("Show the notes of a meeting, per TOP"),
        german="notizen",
        args=(_MEETING_OPTIONAL,),
        details=N_("Example: /notizen (today's meeting) or /notizen #3"),
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "present",
        record_attendance,
        N_("Record who attended: @names, everyone who said yes, a count, or guests"),
        german="anwesend",
        args=(Arg("who", N_("who"), kind=ArgKind.TEXT, max_length=3000),),
        details=N_(
            "Examples: /anwesend @anna @bernd · /anwesend Dr. Weber, IHK Köln; Lena Roth, HWK "
            "(participants not in the chat, by name and organisation: one per line or "
            "separated by ;) · /anwesend alle mit Zusage · /anwesend 58 Teilnehmende · "
            "/anwesend Gäste: Dr. Weber (IHK Köln), Lena Roth (HWK) · for another meeting "
            "than today's: /anwesend #3 @anna or /anwesend 3 @anna"
        ),
        role=Role.MINUTE_TAKER,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "absent",
        remove_attendance,
        N_("Take someone off the attendance list"),
        german="abwesend",
        args=(Arg("who", N_("who"), kind=ArgKind.TEXT, max_length=400),),
        details=N_("Example: /abwesend @bernd or /abwesend Dr. Weber (IHK Köln)"),
        role=Role.MINUTE_TAKER,
        scope=Scope.GROUP,
        needs_group=True,
    ),
    Command(
        "attendance",
        show_attendance,
        N_("Show who attended a meeting"),
        german="anwesenheit",
        args=(_MEETING_OPTIONAL,),
        details=N_("Example: /anwesenheit (today's meeting) or /anwesenheit #3"),
        scope=Scope.GROUP,
        needs_group=True,
    ),
)
