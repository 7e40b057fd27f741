"""The experience exchanges of an advisor's reminder as an `.ics` file, so the dates go into
the advisor's calendar with one tap instead of being typed over from the letter."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.i18n import Translator
from bot.core.messages import Document
from handlers.advisors.letters import ExchangeInfo
from handlers.calendar.ics import ICS_MIME, CalendarEvent, render_publication, uid_for


def exchange_events(
    exchanges: Sequence[ExchangeInfo], *, t: Translator, tz: ZoneInfo, domain: str, now: datetime
) -> list[CalendarEvent]:
    events = []
    for exchange in exchanges:
        description = t.gettext("Experience exchange by {provider}", provider=exchange.provider)
        if exchange.capacity is not None:
            description += " " + t.gettext("({capacity} places)", capacity=exchange.capacity)
        events.append(
            CalendarEvent(
                uid=uid_for("exchange", exchange.number, domain),
                summary=t.gettext("Experience exchange: {provider}", provider=exchange.provider),
                start=exchange.starts_at,
                end=exchange.ends_at,
                tzid=tz.key,
                stamp=now,
                description=description,
                location=exchange.place,
            )
        )
    return events


def exchanges_document(
    exchanges: Sequence[ExchangeInfo], *, t: Translator, tz: ZoneInfo, domain: str, now: datetime
) -> Document:
    events = exchange_events(exchanges, t=t, tz=tz, domain=domain, now=now)
    name = t.gettext("experience-exchanges")
    return Document(f"{name}.ics", render_publication(events), ICS_MIME)
