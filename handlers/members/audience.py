"""How to address one person of a working group: in their language and time zone, else the
group's. Every message written for one member (reminders, poll nudges, invitations) asks here,
so a person's /sprache and /zeitzone count the same everywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

from bot.core.i18n import Translator

if TYPE_CHECKING:
    from storage.models import Group, User


class Audience(NamedTuple):
    t: Translator
    tz: ZoneInfo


def language_of(user: User, group: Group) -> str:
    return user.language or group.language


def audience(user: User, group: Group) -> Audience:
    return Audience(Translator(language_of(user, group)), ZoneInfo(user.timezone or group.timezone))
