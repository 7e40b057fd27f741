"""Whose address it was that could not be delivered to, as the admins' notices name it: the
member whose own address it is, and every advisor registry entry with it (number and name,
as `/berater` lists them). Both the bounce path (`handlers.inbound_mail.apply`) and the
SMTP refusal path (`handlers.email.failures`) mark through
`storage.email_addresses.mark_unreachable` and describe the owners here."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.i18n import Translator
from storage import people
from storage.db import Session
from storage.email_addresses import MarkedUnreachable


@dataclass(frozen=True, slots=True)
class Owners:
    """The owners of a marked address, with the member's shown name looked up."""

    member: str | None  # the member's name; "" when they have no name the bot can show
    advisors: tuple[tuple[int, str], ...]


async def owners(session: Session, marked: MarkedUnreachable) -> Owners:
    member = None
    if marked.user_id is not None:
        names = await people.display_names(session, [marked.user_id])
        member = names.get(marked.user_id, "")
    return Owners(member=member, advisors=marked.advisors)


def describe_owners(t: Translator, found: Owners) -> str:
    """E.g. "Anna Muster; advisor #3 Berta Beispiel", or "unknown person"."""
    parts = []
    if found.member is not None:
        parts.append(found.member or t.gettext("unknown person"))
    parts += [
        t.gettext("advisor #{number} {name}", number=number, name=name)
        for number, name in found.advisors
    ]
    return "; ".join(parts) or t.gettext("unknown person")
