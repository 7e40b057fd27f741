"""Invitations people can act on: UIDs and the organizer carry a stable, valid domain (a
configured one, or the installation's own kept in the database), and the file sent to a
person names them by their own e-mail address where the bot knows it, nobody else's."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import icalendar
from sqlalchemy import select

from bot.app import Core
from bot.core.clock import FixedClock
from bot.core.enums import AuthorizationSource
from bot.core.settings import load_settings
from handlers.advisors.actions import create_advisor
from storage.models import EmailAddress, Identity, OutboxMessage
from tests.fake_telegram import FakeTelegram
from tests.harness import GROUP, Conversation, dm, outbox_rows, person
from tests.telegram_bot import ANNA, BERND, TelegramBot, converse
from tests.telegram_bot import GROUP as TG_GROUP

anna, bernd, clara = person("anna"), person("bernd"), person("clara")
GENERATED = re.compile(r"ag-[0-9a-f]{16}\.invalid")


def event_of(row: OutboxMessage) -> icalendar.Event:
    raw = base64.b64decode(row.payload["document"]["content_b64"])
    [event] = icalendar.Calendar.from_ical(raw).walk("VEVENT")
    return event


def attendees(event: icalendar.Event) -> dict[str, str]:
    found = event.get("ATTENDEE", [])
    found = found if isinstance(found, list) else [found]
    return {str(a.params["CN"]): str(a) for a in found}


async def start(url: str, clock: FixedClock, **settings: object) -> tuple[Core, Conversation]:
    core = await Core.create(load_settings(database_url=url, _env_file=None, **settings), clock)
    chat = Conversation(core, admins=[(GROUP, anna)])
    return core, chat


async def scene(chat: Conversation) -> None:
    await chat.say(anna, '/registrieren ag "AG Transfer"')
    for who in (bernd, clara):
        await chat.say(who, "/beitreten")
    for who in (anna, bernd, clara):
        await chat.say(who, "/start", dm(who))


async def user_id(core: Core, name: str) -> int:
    async with core.services.sessions() as session:
        return await session.scalar(
            select(Identity.user_id).where(Identity.platform_user_id == name)
        )


async def test_without_configuration_uids_use_the_installations_own_domain(
    database_url: str, clock: FixedClock
) -> None:
    core, chat = await start(database_url, clock)
    try:
        await scene(chat)
        await chat.say(anna, "/sitzung 15.06.2021 9-12 Uhr Sitzung")
        event = event_of((await outbox_rows(core, "meeting_invitation"))[0])
        uid = str(event["UID"])
        local, _, domain = uid.partition("@")
        assert local == "meeting-1" and GENERATED.fullmatch(domain), uid
        assert "127.0.0.1" not in event.to_ical().decode()
        assert str(event["ORGANIZER"]) == f"mailto:noreply@{domain}"
        assert core.services.calendar_domain == domain
    finally:
        await core.close()
    # After a restart the same domain: a change updates the event people already have.
    core, chat = await start(database_url, clock)
    try:
        assert core.services.calendar_domain == domain
        await chat.say(anna, "/verschieben 1 16.06.2021 9-12 Uhr")
        moved = (await outbox_rows(core, "meeting_invitation"))[-1]
        assert str(event_of(moved)["UID"]) == uid and event_of(moved)["SEQUENCE"] == 1
    finally:
        await core.close()


async def test_configured_domain_and_organizer(tmp_path: Path, clock: FixedClock) -> None:
    core, chat = await start(
        f"sqlite:///{tmp_path / 'bot.db'}",
        clock,
        calendar_uid_domain="AG.Example.org",
        mail_organizer="AG-Termine <termine@ag.example.org>",
        public_base_url="https://feeds.example.org",
    )
    try:
        await scene(chat)
        await chat.say(anna, "/sitzung 15.06.2021 9-12 Uhr Sitzung")
        await chat.say(anna, "/serie montags 9 Uhr Jour fixe")
        [meeting] = (await outbox_rows(core, "meeting_invitation"))[:1]
        event = event_of(meeting)
        assert str(event["UID"]) == "meeting-1@ag.example.org"
        assert str(event["ORGANIZER"]) == "mailto:termine@ag.example.org"
        assert event["ORGANIZER"].params["CN"] == "AG Transfer"
        series = [
            r for r in await outbox_rows(core, "meeting_invitation") if "series" in r.dedupe_key
        ]
        assert series and str(event_of(series[0])["UID"]).startswith("series-")
        assert str(event_of(series[0])["UID"]).endswith("@ag.example.org")
    finally:
        await core.close()
    # Without CALENDAR_UID_DOMAIN the public address's host names the UIDs, as before.
    settings = load_settings(_env_file=None, public_base_url="https://bot.example.org:8443/x")
    assert settings.configured_calendar_domain == "bot.example.org"


def test_bad_domain_and_organizer_are_refused() -> None:
    import pytest

    from bot.core.settings import SettingsError

    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None, calendar_uid_domain="127.0.0.1", mail_organizer="nobody")
    assert "CALENDAR_UID_DOMAIN" in str(error.value) and "MAIL_ORGANIZER" in str(error.value)


async def test_each_person_is_an_attendee_by_their_own_address_only(
    database_url: str, clock: FixedClock
) -> None:
    core, chat = await start(database_url, clock)
    try:
        await scene(chat)
        ids = {name: await user_id(core, name) for name in ("anna", "bernd", "clara")}
        async with core.services.sessions.begin() as session:
            # Anna confirmed her address (/email); Bernd's is not confirmed yet.
            for name, confirmed in (("anna", True), ("bernd", False)):
                address = f"{name}@example.org"
                session.add(
                    EmailAddress(
                        user_id=ids[name],
                        address=address,
                        address_key=address,
                        created_at=clock.now(),
                        confirmed_at=clock.now() if confirmed else None,
                    )
                )
            # Clara is a linked advisor: the registry has her address.
            await create_advisor(
                session,
                name="Clara Beispiel",
                email="clara.b@example.org",
                institution="RKW Nord",
                fields="",
                language="de",
                authorized_on=clock.now().date(),
                source=AuthorizationSource.INITIAL,
                now=clock.now(),
                policy=None,
                user_id=ids["clara"],
            )
        await chat.say(anna, "/sitzung 15.06.2021 9-12 Uhr Sitzung")
        await chat.say(anna, "/serie montags 9 Uhr Jour fixe")
        rows = await outbox_rows(core, "meeting_invitation")
        by_reader = {
            (row.chat_id, "series" in row.dedupe_key): attendees(event_of(row)) for row in rows
        }
        for series in (False, True):
            to_anna = by_reader[(anna.user_id, series)]
            to_bernd = by_reader[(bernd.user_id, series)]
            to_clara = by_reader[(clara.user_id, series)]
            assert to_anna["Anna"] == "mailto:anna@example.org"
            assert to_clara["Clara"] == "mailto:clara.b@example.org"
            # Nobody's file carries another person's address; unconfirmed ones never.
            for reader, names in (
                (to_anna, ("Bernd", "Clara")),
                (to_bernd, ("Anna", "Bernd", "Clara")),
                (to_clara, ("Anna", "Bernd")),
            ):
                for name in names:
                    assert reader[name].startswith("urn:x-ag-assistant:"), reader
            everything = b"".join(
                base64.b64decode(r.payload["document"]["content_b64"])
                for r in rows
                if r.chat_id == bernd.user_id
            )
            assert b"@example.org" not in everything
    finally:
        await core.close()


async def test_on_telegram_the_file_names_the_reader_by_address(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    """End to end on the fake Bot API: Bernd, who confirmed his address, finds himself in
    his .ics as `mailto:` (so his calendar app offers to answer); Anna's file has no
    address of his; the UID carries the installation's domain."""
    for who in (ANNA, BERND):
        await converse(telegram, who, who, "/start")
    await converse(telegram, TG_GROUP, ANNA, '/registrieren ag "AG Transfer"')
    await converse(telegram, TG_GROUP, BERND, "/beitreten")
    core = telegram_bot.core
    bernd_id = await user_id(core, str(BERND))
    async with core.services.sessions.begin() as session:
        session.add(
            EmailAddress(
                user_id=bernd_id,
                address="Bernd@Example.org",
                address_key="bernd@example.org",
                created_at=core.services.clock.now(),
                confirmed_at=core.services.clock.now(),
            )
        )
    await converse(telegram, TG_GROUP, ANNA, '/sitzung 15.06.2037 9-12 Uhr "AG-Sitzung"')
    await telegram.wait_until(
        lambda: all(
            any(m.chat_id == who and m.document is not None for m in telegram.sent)
            for who in (ANNA, BERND)
        ),
        timeout=15,
        what="the invitation in both private chats",
    )
    files = {
        m.chat_id: icalendar.Calendar.from_ical(m.document.data)
        for m in telegram.sent
        if m.document is not None
    }
    [to_bernd] = files[BERND].walk("VEVENT")
    [to_anna] = files[ANNA].walk("VEVENT")
    assert attendees(to_bernd)["Bernd"] == "mailto:Bernd@Example.org"
    assert attendees(to_anna)["Bernd"].startswith("urn:x-ag-assistant:")
    assert b"Example.org" not in files[ANNA].to_ical()
    domain = str(to_bernd["UID"]).partition("@")[2]
    assert GENERATED.fullmatch(domain) and str(to_anna["UID"]) == str(to_bernd["UID"])
    assert str(to_bernd["ORGANIZER"]) == f"mailto:noreply@{domain}"
