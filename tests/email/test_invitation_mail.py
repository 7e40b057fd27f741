"""Meeting invitations by e-mail (iMIP, RFC 6047) as a real SMTP server receives them: one
mail per recipient, multipart/alternative of text, HTML and `text/calendar; method=…`, read
by Python's `email` package and two independent iCalendar parsers; ATTENDEE is that
recipient's address only, ORGANIZER the configured one; a change keeps the UID with a
higher SEQUENCE, a cancellation is METHOD:CANCEL; khal imports it."""

from __future__ import annotations

import os
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

import icalendar
import ics
import pytest

from bot.core.settings import load_settings
from tests.calendar_tools import calendar_tool, run_tool
from tests.harness import Conversation, dm, outbox_rows, person
from tests.smtp_server import SmtpServer, confirm_address, deliver_mail

anna, bernd, clara = person("anna"), person("bernd"), person("clara", "en")
ORGANIZER = "termine@ag.example.org"


@pytest.fixture
async def members(chat: Conversation, smtp_server: SmtpServer) -> Conversation:
    """Bernd (German) and Clara (English) take invitations by e-mail; Anna by chat."""
    core = chat.core
    core.services.settings = load_settings(
        database_url=core.settings.database_url,
        mail_organizer=f"AG Transfer <{ORGANIZER}>",
        _env_file=None,
    )
    await chat.say(bernd, "/beitreten")
    await chat.say(clara, "/beitreten")
    await chat.say(clara, "/language en", dm(clara))
    await confirm_address(chat, smtp_server, bernd, "bernd@example.org")
    await confirm_address(chat, smtp_server, clara, "clara@example.net")
    await chat.say(bernd, "/email einladungen email", dm(bernd))
    await chat.say(clara, "/email invitations both", dm(clara))
    return chat


def calendar_part(mail: EmailMessage) -> EmailMessage:
    [part] = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    return part


def parsed(mail: EmailMessage) -> tuple[icalendar.Calendar, ics.Calendar]:
    raw = calendar_part(mail).get_content()
    return icalendar.Calendar.from_ical(raw), ics.Calendar(raw)


def by_recipient(received) -> dict[str, EmailMessage]:
    return {r.rcpt_tos[0]: r.message() for r in received}


async def test_each_recipient_gets_an_imip_request_naming_only_them(
    members: Conversation, smtp_server: SmtpServer
) -> None:
    chat = members
    await chat.say(anna, '/sitzung 17.06.2021 10-12 Uhr "Qualität – Größe" | Köln')
    received = await deliver_mail(chat.core, smtp_server)
    mails = by_recipient(received)
    assert set(mails) == {"bernd@example.org", "clara@example.net"}  # Anna: chat only
    # Clara chose both, Bernd e-mail only, Anna the default: chat.
    rows = await outbox_rows(chat.core, "meeting_invitation")
    assert sorted(r.platform for r in rows) == ["email", "email", "test", "test"]

    for address, mail in mails.items():
        assert mail["MIME-Version"] == "1.0"
        assert mail["Message-ID"].startswith("<outbox-") and mail["Message-ID"].endswith(
            "@bot.example.org>"
        )
        assert parsedate_to_datetime(mail["Date"]).tzinfo is not None
        assert mail.get_content_type() == "multipart/alternative"
        kinds = [p.get_content_type() for p in mail.iter_parts()]
        assert kinds == ["text/plain", "text/html", "text/calendar"]
        part = calendar_part(mail)
        assert part.get_param("method") == "REQUEST"
        assert part.get_content_charset() == "utf-8"
        cal, other = parsed(mail)
        assert cal["METHOD"] == "REQUEST"
        [event] = cal.walk("VEVENT")
        attendees = event.get("ATTENDEE")
        attendees = attendees if isinstance(attendees, list) else [attendees]
        assert [str(a) for a in attendees] == [f"mailto:{address}"]
        assert attendees[0].params["RSVP"] == "TRUE"
        assert str(event["ORGANIZER"]) == f"mailto:{ORGANIZER}"
        assert "Qualität – Größe" in str(event["SUMMARY"])
        [other_event] = other.events
        assert other_event.uid == str(event["UID"])
        assert {a.email for a in other_event.attendees} == {address}
        everything = mail.as_string()
        for someone_else in {"bernd@example.org", "clara@example.net"} - {address}:
            assert someone_else not in everything  # no other member's address, anywhere

    german, english = mails["bernd@example.org"], mails["clara@example.net"]
    assert german["Subject"] == "Einladung: Qualität – Größe"
    assert english["Subject"] == "Invitation: Qualität – Größe"
    text = german.get_body(("plain",)).get_content()
    assert "Mitglied der Arbeitsgruppe „AG Transfer“" in text  # why it came
    assert "/email einladungen chat" in text and "/email aus" in text  # how to stop it
    html = german.get_body(("html",)).get_content()
    assert "Qualität – Größe" in html and "<p>" in html
    assert "/email invitations chat" in english.get_body(("plain",)).get_content()


async def test_a_change_keeps_the_uid_with_a_higher_sequence_and_a_cancel_is_cancel(
    members: Conversation, smtp_server: SmtpServer
) -> None:
    chat = members
    await chat.say(anna, '/sitzung 17.06.2021 10-12 Uhr "Juni-Sitzung" | Köln')
    first = by_recipient(await deliver_mail(chat.core, smtp_server))["bernd@example.org"]
    await chat.say(anna, "/verschieben 1 24.06.2021 10-12 Uhr")
    moved = by_recipient(await deliver_mail(chat.core, smtp_server))["bernd@example.org"]
    await chat.say(anna, "/absagen 1")
    cancelled = by_recipient(await deliver_mail(chat.core, smtp_server))["bernd@example.org"]

    events = [parsed(m)[0].walk("VEVENT")[0] for m in (first, moved, cancelled)]
    assert len({str(e["UID"]) for e in events}) == 1
    sequences = [int(e["SEQUENCE"]) for e in events]
    assert sequences == sorted(sequences) and len(set(sequences)) == 3
    assert calendar_part(cancelled).get_param("method") == "CANCEL"
    assert parsed(cancelled)[0]["METHOD"] == "CANCEL"
    assert str(events[2]["STATUS"]) == "CANCELLED"
    assert len({m["Message-ID"] for m in (first, moved, cancelled)}) == 3
    assert moved["Subject"].startswith("Geändert")


async def test_khal_imports_the_invitation(
    members: Conversation, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    chat = members
    await chat.say(anna, '/sitzung 17.06.2021 10-12 Uhr "Juni-Sitzung" | Köln')
    mail = by_recipient(await deliver_mail(chat.core, smtp_server))["bernd@example.org"]
    invite = tmp_path / "invite.ics"
    invite.write_bytes(calendar_part(mail).get_content().encode("utf-8"))
    calendar = tmp_path / "calendar"
    calendar.mkdir()
    (tmp_path / "khal.conf").write_text(
        f"""[calendars]
[[ag]]
path = {calendar}/
[locale]
timeformat = %H:%M
dateformat = %d.%m.%Y
longdateformat = %d.%m.%Y
datetimeformat = %d.%m.%Y %H:%M
longdatetimeformat = %d.%m.%Y %H:%M
local_timezone = Europe/Berlin
default_timezone = Europe/Berlin
[default]
default_calendar = ag
[sqlite]
path = {tmp_path / "khal.db"}
""",
        encoding="utf-8",
    )
    khal = [calendar_tool("khal"), "-c", str(tmp_path / "khal.conf")]
    env = {**os.environ, "HOME": str(tmp_path), "TZ": "Europe/Berlin"}
    await run_tool(*khal, "import", "--batch", "-a", "ag", str(invite), env=env)
    assert len(list(calendar.glob("*.ics"))) == 1
    listed = await run_tool(*khal, "list", "-f", "{start} {title}", "17.06.2021", "1d", env=env)
    assert "17.06.2021 10:00" in listed and "Juni-Sitzung" in listed


async def test_a_series_comes_as_one_imip_request_with_its_rule(
    members: Conversation, smtp_server: SmtpServer
) -> None:
    chat = members
    await chat.say(anna, "/serie montags 9 Uhr Jour fixe")
    mails = by_recipient(await deliver_mail(chat.core, smtp_server))
    assert set(mails) == {"bernd@example.org", "clara@example.net"}
    mail = mails["bernd@example.org"]
    assert calendar_part(mail).get_param("method") == "REQUEST"
    cal, other = parsed(mail)
    [master] = [e for e in cal.walk("VEVENT") if "RRULE" in e]
    assert "MO" in str(master["RRULE"].to_ical())
    for event in cal.walk("VEVENT"):
        attendees = event.get("ATTENDEE")
        attendees = attendees if isinstance(attendees, list) else [attendees]
        assert [str(a) for a in attendees] == ["mailto:bernd@example.org"]
        assert str(event["ORGANIZER"]) == f"mailto:{ORGANIZER}"
    assert other.events  # the second parser reads it too
    assert mail["Subject"] == "Sitzungsreihe: Jour fixe"
