"""Calendar answers and bounces by e-mail, end to end: mail is APPENDed into a real Dovecot
mailbox, the bot's IMAP reader picks it up, and the answer shows where /zusage's would
(SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.adapters.imap import DONE_KEYWORD, ImapReader
from bot.app import Core
from bot.core.clock import FixedClock
from bot.core.messages import UserRef
from bot.core.settings import Settings, load_settings
from handlers.calendar.events import meeting_uid, series_uid
from storage import people
from storage.email_addresses import address_key
from storage.models import Advisor, EmailAddress, Meeting, ProcessedEvent, Rsvp
from tests.dovecot import Dovecot, Mailbox
from tests.harness import (
    OTHER_GROUP,
    Conversation,
    dm,
    outbox_rows,
    person,
    registered_ag_transfer,
)
from tests.mails import bounce, calendar_reply

anna, bernd, clara, dora = person("anna"), person("bernd"), person("clara"), person("dora")
DOMAIN = "bot.example.org"
WAIT_SECONDS = 15.0


def mail_settings(database_url: str, box: Mailbox, poll_seconds: float = 1) -> Settings:
    """The bot reading `box`; it looks every second besides the push, so a test never
    waits on an arrival announced while the reader was busy."""
    return load_settings(
        database_url=database_url,
        _env_file=None,
        public_base_url=f"https://{DOMAIN}",
        admin_users="test:anna",
        imap_host=box.host,
        imap_port=box.port,
        imap_user=box.user,
        imap_password=box.password,
        imap_tls=False,
        imap_poll_seconds=poll_seconds,
    )


async def start_bot(settings: Settings, clock: FixedClock) -> tuple[Core, ImapReader]:
    core = await Core.create(settings, clock)
    reader = core.start_mail_reader()
    assert reader is not None
    await asyncio.wait_for(reader.connected.wait(), WAIT_SECONDS)
    return core, reader


@pytest.fixture
def settings(database_url: str, mailbox: Mailbox) -> Settings:
    return mail_settings(database_url, mailbox)


@pytest.fixture
async def bot(settings: Settings, clock: FixedClock) -> AsyncIterator[Core]:
    """The bot with its mail reader on the test's mailbox (IDLE: Dovecot offers it)."""
    core, _ = await start_bot(settings, clock)
    yield core
    await core.close()


@pytest.fixture
async def chat(bot: Core) -> Conversation:
    """AG Transfer with Anna (chair), Bernd and Clara, and meeting #1 on 15.06.2021."""
    chat = await registered_ag_transfer(bot)
    for who in (bernd, clara):
        await chat.say(who, "/beitreten")
    await chat.say(anna, "/sitzung 15.06.2021 9-12 Uhr AG-Sitzung")
    return chat


async def user_id(core: Core, who: UserRef) -> int:
    async with core.services.sessions() as session:
        found = await people.user_id_of_identity(session, "test", who.user_id)
    assert found is not None
    return found


async def give_address(core: Core, who: UserRef, address: str, *, confirmed: bool = True) -> None:
    """An address as the outbound half's /email double opt-in would leave it."""
    now = core.services.clock.now()
    owner = await user_id(core, who)
    async with core.services.sessions.begin() as session:
        session.add(
            EmailAddress(
                user_id=owner,
                address=address,
                address_key=address_key(address),
                created_at=now,
                confirmed_at=now if confirmed else None,
            )
        )


async def meeting(core: Core, number: int = 1) -> Meeting:
    async with core.services.sessions() as session:
        found = await session.scalar(select(Meeting).where(Meeting.number == number))
    assert found is not None
    return found


async def answers(core: Core) -> dict[tuple[int, int], str]:
    async with core.services.sessions() as session:
        rows = await session.scalars(select(Rsvp))
        return {(row.meeting_id, row.user_id): row.answer for row in rows}


async def deliver(dovecot: Dovecot, box: Mailbox, *mails: bytes) -> None:
    """Put mail into the box (IMAP APPEND) and wait until the bot has marked all of it."""
    for raw in mails:
        await asyncio.to_thread(dovecot.append, box, raw)
    await processed(dovecot, box)


async def processed(dovecot: Dovecot, box: Mailbox) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        flags = await asyncio.to_thread(dovecot.flags, box)
        if flags and all(DONE_KEYWORD in item for item in flags):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the bot did not mark every mail: {flags}\n{dovecot.log()}")


async def test_a_calendar_apps_answer_counts_exactly_as_zusage(
    chat: Conversation, bot: Core, dovecot: Dovecot, mailbox: Mailbox
) -> None:
    await give_address(bot, bernd, "Bernd.Berger@example.org")
    uid = meeting_uid(await meeting(bot), DOMAIN)
    # the address compares case-insensitively, as mail systems treat it
    await deliver(dovecot, mailbox, calendar_reply(uid, "bernd.berger@EXAMPLE.org", "ACCEPTED"))
    shown = await chat.text(bernd, "/sitzunginfo 1")
    assert "Antworten: 1 ja, 0 vielleicht, 0 nein" in shown
    assert "Antworten: 1 ja, 0 vielleicht, 0 nein" in await chat.text(anna, "/sitzungen")
    await deliver(dovecot, mailbox, calendar_reply(uid, "Bernd.Berger@example.org", "TENTATIVE"))
    assert "0 ja, 1 vielleicht, 0 nein" in await chat.text(bernd, "/sitzunginfo 1")
    await deliver(dovecot, mailbox, calendar_reply(uid, "Bernd.Berger@example.org", "DECLINED"))
    assert "0 ja, 0 vielleicht, 1 nein" in await chat.text(bernd, "/sitzunginfo 1")
    # the chat's own answer and the mail's are one and the same record
    counted = await chat.text(clara, "/zusage 1 ja")
    assert "1 ja, 0 vielleicht, 1 nein" in counted
    assert sorted((await answers(bot)).values()) == ["no", "yes"]


async def test_forged_or_foreign_answers_change_nothing_and_leave_no_trace(
    chat: Conversation, bot: Core, dovecot: Dovecot, mailbox: Mailbox
) -> None:
    await give_address(bot, bernd, "bernd@example.org")
    await give_address(bot, clara, "clara@example.org", confirmed=False)
    # Dora is confirmed, but in another working group, not invited to #1
    bot_chat = chat
    bot_chat.platform.admins.add((OTHER_GROUP.chat_id, dora.user_id))
    await bot_chat.say(dora, '/registrieren ag "AG Qualität"', OTHER_GROUP)
    await give_address(bot, dora, "dora@example.org")
    await chat.say(anna, "/sitzung 16.06.2021 9 Uhr Abgesagt")
    await chat.say(anna, "/absagen 2")
    ours = meeting_uid(await meeting(bot), DOMAIN)
    cancelled = meeting_uid(await meeting(bot, 2), DOMAIN)
    first = await meeting(bot)
    await deliver(
        dovecot,
        mailbox,
        # a UID of someone else's domain, the same id
        calendar_reply(f"meeting-{first.id}@evil.example.org", "bernd@example.org", "ACCEPTED"),
        # our shape, but no such meeting
        calendar_reply(f"meeting-{first.id + 99}@{DOMAIN}", "bernd@example.org", "ACCEPTED"),
        # an occurrence of a series that does not exist
        calendar_reply(
            f"series-7@{DOMAIN}", "bernd@example.org", "ACCEPTED", recurrence_id=first.starts_at
        ),
        # an address nobody has, an unconfirmed one, one of someone not invited
        calendar_reply(ours, "mallory@example.net", "ACCEPTED"),
        calendar_reply(ours, "clara@example.org", "ACCEPTED"),
        calendar_reply(ours, "dora@example.org", "ACCEPTED"),
        # a From header saying Bernd does not make Mallory's ATTENDEE his
        calendar_reply(ours, "mallory@example.net", "DECLINED", sender="bernd@example.org"),
        # an answer that is none, and one for a cancelled meeting
        calendar_reply(ours, "bernd@example.org", "NEEDS-ACTION"),
        calendar_reply(cancelled, "bernd@example.org", "ACCEPTED"),
        # not a calendar answer at all, and bytes that are no mail
        b"Subject: Hallo\r\nFrom: bernd@example.org\r\n\r\nIch komme gern.\r\n",
        b"\x00\xff\xfe garbage",
    )
    assert await answers(bot) == {}
    assert "Antworten" not in await chat.text(bernd, "/sitzungen")
    async with bot.services.sessions() as session:
        assert list(await session.scalars(select(ProcessedEvent))) == []
    assert await outbox_rows(bot, "email_bounce") == []


async def test_a_restart_never_applies_an_answer_twice(
    chat: Conversation,
    bot: Core,
    settings: Settings,
    clock: FixedClock,
    dovecot: Dovecot,
    mailbox: Mailbox,
) -> None:
    await give_address(bot, bernd, "bernd@example.org")
    uid = meeting_uid(await meeting(bot), DOMAIN)
    await deliver(dovecot, mailbox, calendar_reply(uid, "bernd@example.org", "ACCEPTED"))
    assert list((await answers(bot)).values()) == ["yes"]
    # later Bernd changes his mind in the chat; the old mail must not overrule him
    await chat.say(bernd, "/zusage 1 nein")
    await bot.close()
    # the mark in the mailbox is lost (another client, or a crash before the STORE) …
    await asyncio.to_thread(dovecot.clear_flags, mailbox)
    assert await asyncio.to_thread(dovecot.flags, mailbox) == ["1 (FLAGS ())"]
    again, _ = await start_bot(settings, clock)
    try:
        await processed(dovecot, mailbox)
        # … and still the Message-ID in the database keeps the answer from applying again
        assert list((await answers(again)).values()) == ["no"]
        assert "0 ja, 0 vielleicht, 1 nein" in await Conversation(again).text(
            bernd, "/sitzunginfo 1"
        )
    finally:
        await again.close()


async def test_the_reader_survives_bad_mail_and_a_server_restart(
    chat: Conversation, bot: Core, dovecot: Dovecot, mailbox: Mailbox
) -> None:
    await give_address(bot, bernd, "bernd@example.org")
    uid = meeting_uid(await meeting(bot), DOMAIN)
    broken_calendar = calendar_reply(uid, "bernd@example.org", "ACCEPTED").replace(
        b"Content-Type: text/calendar", b'Content-Type: text/calendar; charset="x-nonsense"'
    )
    await deliver(dovecot, mailbox, b"\r\n\r\n", broken_calendar, b"From: x\r\n" * 2000)
    await asyncio.to_thread(dovecot.restart)
    # the reader reconnects by itself (after a pause of a second or two)
    await deliver(dovecot, mailbox, calendar_reply(uid, "bernd@example.org", "TENTATIVE"))
    assert list((await answers(bot)).values()) == ["maybe"]


async def test_an_answer_for_one_occurrence_of_a_series(
    chat: Conversation, bot: Core, dovecot: Dovecot, mailbox: Mailbox
) -> None:
    await give_address(bot, bernd, "bernd@example.org")
    await chat.say(anna, "/serie wöchentlich donnerstags 9-10 Uhr Jour fixe")
    async with bot.services.sessions() as session:
        occurrences = list(
            await session.scalars(
                select(Meeting).where(Meeting.series_id.is_not(None)).order_by(Meeting.starts_at)
            )
        )
    second = occurrences[1]
    assert second.series_id is not None and second.recurrence_id is not None
    uid = series_uid(second.series_id, DOMAIN)
    await deliver(
        dovecot,
        mailbox,
        calendar_reply(uid, "bernd@example.org", "DECLINED", recurrence_id=second.recurrence_id),
    )
    bernd_id = await user_id(bot, bernd)
    assert await answers(bot) == {(second.id, bernd_id): "no"}
    # the occurrence's own meeting-N UID is not one we send: not accepted
    await deliver(
        dovecot,
        mailbox,
        calendar_reply(f"meeting-{second.id}@{DOMAIN}", "bernd@example.org", "ACCEPTED"),
    )
    assert await answers(bot) == {(second.id, bernd_id): "no"}
    # an answer to the whole series counts for every occurrence still ahead
    await deliver(dovecot, mailbox, calendar_reply(uid, "bernd@example.org", "TENTATIVE"))
    recorded = await answers(bot)
    assert {recorded[(m.id, bernd_id)] for m in occurrences} == {"maybe"}


async def test_a_bounce_marks_the_address_unreachable_and_tells_the_admins(
    chat: Conversation, bot: Core, dovecot: Dovecot, mailbox: Mailbox
) -> None:
    await give_address(bot, bernd, "bernd@example.org")
    await deliver(
        dovecot,
        mailbox,
        bounce("Bernd@example.org"),
        bounce("nobody@example.org"),  # not an address of ours: nothing to mark or tell
        bounce("bernd@example.org", action="delayed", status="4.4.1"),  # not lost yet
    )
    async with bot.services.sessions() as session:
        row = await session.scalar(select(EmailAddress))
    assert row is not None and row.unreachable_at == bot.services.clock.now()
    assert row.unreachable_reason is not None and row.unreachable_reason.startswith("5.1.1")
    [note] = await outbox_rows(bot, "email_bounce")
    anna_id = await user_id(bot, anna)
    assert note.user_id == anna_id
    text = note.payload["text"]
    assert text.startswith("Die E-Mail an Bernd@example.org (Bernd) konnte nicht zugestellt")
    assert "5.1.1" in text and "als nicht erreichbar markiert" in text


ADVISOR_ADD = (
    "/beraterneu Berta Beispiel | Berta@example.org | RKW Nord | Digitalisierung | 15.03.2019"
)


async def advisors(core: Core) -> list[Advisor]:
    async with core.services.sessions() as session:
        return list(await session.scalars(select(Advisor).order_by(Advisor.id)))


async def test_a_bounce_for_an_advisors_registry_address_marks_it_and_names_the_advisor(
    chat: Conversation, bot: Core, dovecot: Dovecot, mailbox: Mailbox
) -> None:
    """Advisors' addresses live only in the registry: a bounce marks the entry, the admins
    learn which advisor it was, and `/berater` shows it until the address is changed."""
    await chat.say(anna, ADVISOR_ADD, dm(anna))
    await deliver(dovecot, mailbox, bounce("berta@example.org"))
    [berta] = await advisors(bot)
    assert berta.email_unreachable_at == bot.services.clock.now()
    assert (berta.email_unreachable_reason or "").startswith("5.1.1 smtp; 550 5.1.1")
    [note] = await outbox_rows(bot, "email_bounce")
    assert note.user_id == await user_id(bot, anna)
    text = note.payload["text"]
    assert text.startswith(
        f"Die E-Mail an berta@example.org (Berater*in #{berta.id} Berta Beispiel) konnte nicht"
    )
    assert "als nicht erreichbar markiert" in text

    shown = await chat.text(anna, f"/berater {berta.id}", dm(anna))
    assert "E-Mail unzustellbar seit 10.06.2021 (5.1.1 smtp; 550 5.1.1" in shown
    await chat.say(anna, f"/berateraendern {berta.id} email=berta.neu@example.org", dm(anna))
    [berta] = await advisors(bot)
    assert berta.email_unreachable_at is None and berta.email_unreachable_reason is None
    assert "unzustellbar" not in await chat.text(anna, f"/berater {berta.id}", dm(anna))


async def test_a_bounce_for_an_address_of_a_member_and_an_advisor_marks_both(
    chat: Conversation, bot: Core, dovecot: Dovecot, mailbox: Mailbox
) -> None:
    await chat.say(anna, ADVISOR_ADD, dm(anna))
    await give_address(bot, bernd, "berta@example.org")
    await deliver(dovecot, mailbox, bounce("BERTA@example.org"))
    async with bot.services.sessions() as session:
        member = await session.scalar(select(EmailAddress))
    assert member is not None and member.unreachable_at == bot.services.clock.now()
    [berta] = await advisors(bot)
    assert berta.email_unreachable_at == bot.services.clock.now()
    [note] = await outbox_rows(bot, "email_bounce")
    assert f"(Bernd; Berater*in #{berta.id} Berta Beispiel)" in note.payload["text"]


async def test_without_imap_host_no_mailbox_is_read(core: Core) -> None:
    assert not core.settings.imap_enabled
    assert core.start_mail_reader() is None


async def test_new_mail_is_pushed_by_the_server_not_polled(
    database_url: str, clock: FixedClock, dovecot: Dovecot, mailbox: Mailbox
) -> None:
    """With a look only every 10 minutes, only IDLE can bring the answer in seconds."""
    core, reader = await start_bot(mail_settings(database_url, mailbox, 600), clock)
    try:
        chat = await registered_ag_transfer(core)
        await chat.say(bernd, "/beitreten")
        await chat.say(anna, "/sitzung 15.06.2021 9-12 Uhr AG-Sitzung")
        await give_address(core, bernd, "bernd@example.org")
        await asyncio.wait_for(reader.idling.wait(), WAIT_SECONDS)
        uid = meeting_uid(await meeting(core), DOMAIN)
        started = time.monotonic()
        await deliver(dovecot, mailbox, calendar_reply(uid, "bernd@example.org", "ACCEPTED"))
        assert time.monotonic() - started < 10
        assert list((await answers(core)).values()) == ["yes"]
    finally:
        await core.close()


async def test_without_idle_the_reader_polls(
    database_url: str, clock: FixedClock, dovecot_without_idle: Dovecot
) -> None:
    """A server without IDLE: the reader looks every IMAP_POLL_SECONDS instead (relying on
    push, it would fail to start IDLE and never get past reconnecting)."""
    server = dovecot_without_idle
    box = server.new_mailbox()
    core, _ = await start_bot(mail_settings(database_url, box, 1), clock)
    try:
        chat = await registered_ag_transfer(core)
        await chat.say(bernd, "/beitreten")
        await chat.say(anna, "/sitzung 15.06.2021 9-12 Uhr AG-Sitzung")
        await give_address(core, bernd, "bernd@example.org")
        uid = meeting_uid(await meeting(core), DOMAIN)
        await deliver(server, box, calendar_reply(uid, "bernd@example.org", "DECLINED"))
        assert list((await answers(core)).values()) == ["no"]
    finally:
        await core.close()


def test_the_running_bot_reads_its_mailbox(
    tmp_path: Path, dovecot: Dovecot, mailbox: Mailbox
) -> None:
    """`python -m bot` with IMAP_* set starts the reader itself (here with the console)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MATRIX_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}",
        IMAP_HOST=mailbox.host,
        IMAP_PORT=str(mailbox.port),
        IMAP_USER=mailbox.user,
        IMAP_PASSWORD=mailbox.password,
        IMAP_TLS="false",
        IMAP_POLL_SECONDS="1",
    )
    dovecot.append(mailbox, calendar_reply(f"meeting-1@{DOMAIN}", "x@example.org", "ACCEPTED"))
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--console"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and DONE_KEYWORD not in str(dovecot.flags(mailbox)):
            time.sleep(0.2)
        assert DONE_KEYWORD in str(dovecot.flags(mailbox))
    finally:
        _, errors = bot.communicate(":quit\n", timeout=60)
    assert bot.returncode == 0, errors
    assert mailbox.password not in errors
