"""The .ics documents themselves: iTIP invitations, series, feeds, DST, two parsers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import ics
import pytest

from handlers.calendar.ics import (
    CalendarEvent,
    Method,
    Party,
    render_feed,
    render_invitation,
    uid_for,
)

BERLIN = ZoneInfo("Europe/Berlin")
STAMP = datetime(2021, 3, 1, 12, 0, tzinfo=UTC)


def event(start: datetime, **changes: object) -> CalendarEvent:
    values: dict[str, object] = {
        "uid": uid_for("meeting", 7, "bot.example.org"),
        "summary": "AG-Sitzung Transfer",
        "start": start,
        "end": start + timedelta(hours=3),
        "tzid": "Europe/Berlin",
        "stamp": STAMP,
        "description": "TOP 1 Begrüßung\nTOP 2 Bericht",
        "location": "https://meet.example.org/ag",
        "url": "https://meet.example.org/ag",
        "organizer": Party("AG Transfer", "mailto:noreply@bot.example.org"),
        "attendees": (Party("Anna Muster", "urn:x:user:1"), Party("Bernd", "urn:x:user:2")),
        "alarm_before": timedelta(minutes=15),
    }
    values.update(changes)
    return CalendarEvent(**values)  # type: ignore[arg-type]


def both_parsers(raw: bytes) -> tuple[icalendar.Calendar, ics.Calendar]:
    """Every generated document must be read by icalendar and by the independent `ics`."""
    return icalendar.Calendar.from_ical(raw), ics.Calendar(raw.decode("utf-8"))


def assert_wire_format(raw: bytes) -> None:
    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # folded at 75 octets


def test_invitation_has_every_itip_part() -> None:
    start = datetime(2021, 6, 15, 9, 0, tzinfo=BERLIN)
    raw = render_invitation([event(start, sequence=0)], Method.REQUEST)
    assert_wire_format(raw)
    cal, other = both_parsers(raw)
    assert cal["METHOD"] == "REQUEST"
    [vevent] = cal.walk("VEVENT")
    assert str(vevent["UID"]) == "meeting-7@bot.example.org"
    assert vevent["SEQUENCE"] == 0
    assert vevent["DTSTAMP"].dt == STAMP
    assert vevent["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert vevent["DTSTART"].dt == start
    assert str(vevent["ORGANIZER"]) == "mailto:noreply@bot.example.org"
    assert [a.params["CN"] for a in vevent["ATTENDEE"]] == ["Anna Muster", "Bernd"]
    assert "TOP 2 Bericht" in vevent["DESCRIPTION"]
    [alarm] = vevent.walk("VALARM")
    assert alarm["TRIGGER"].dt == -timedelta(minutes=15)
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert cal.get_missing_tzids() == set()
    [parsed] = other.events
    assert parsed.uid == "meeting-7@bot.example.org"
    assert parsed.begin.datetime == start


def test_update_keeps_the_uid_and_raises_the_sequence_and_cancel_says_so() -> None:
    start = datetime(2021, 6, 15, 9, 0, tzinfo=BERLIN)
    first = icalendar.Calendar.from_ical(render_invitation([event(start)], Method.REQUEST))
    moved = render_invitation([event(start + timedelta(days=7), sequence=1)], Method.REQUEST)
    cancel = render_invitation([event(start + timedelta(days=7), sequence=2)], Method.CANCEL)
    for raw in (moved, cancel):
        assert_wire_format(raw)
        both_parsers(raw)
    [a] = first.walk("VEVENT")
    [b] = icalendar.Calendar.from_ical(moved).walk("VEVENT")
    cancelled = icalendar.Calendar.from_ical(cancel)
    [c] = cancelled.walk("VEVENT")
    assert a["UID"] == b["UID"] == c["UID"]
    assert a["SEQUENCE"] < b["SEQUENCE"] < c["SEQUENCE"]
    assert cancelled["METHOD"] == "CANCEL" and c["STATUS"] == "CANCELLED"
    assert not c.walk("VALARM")  # no reminder for a meeting that will not take place


@pytest.mark.parametrize(
    ("day", "utc_hour", "offset"),
    [
        (datetime(2021, 3, 28), 7, timedelta(hours=2)),  # spring forward, 02:00 → 03:00
        (datetime(2021, 10, 31), 8, timedelta(hours=1)),  # fall back, 03:00 → 02:00
    ],
)
def test_nine_oclock_in_berlin_stays_nine_on_both_dst_change_days(
    day: datetime, utc_hour: int, offset: timedelta
) -> None:
    start = day.replace(hour=utc_hour, tzinfo=UTC)  # what the database stores
    raw = render_invitation([event(start)], Method.REQUEST)
    assert f"DTSTART;TZID=Europe/Berlin:{day:%Y%m%d}T090000".encode() in raw
    cal, other = both_parsers(raw)
    [vevent] = cal.walk("VEVENT")
    assert vevent["DTSTART"].dt.hour == 9 and vevent["DTSTART"].dt.utcoffset() == offset
    # The independent parser resolves the local time through our VTIMEZONE.
    [parsed] = other.events
    assert parsed.begin.datetime.hour == 9 and parsed.begin.datetime.utcoffset() == offset
    assert parsed.begin.datetime.astimezone(UTC).hour == utc_hour
    # The VTIMEZONE we ship names that day's transition.
    assert f"{day:%Y%m%d}T0".encode() in raw.split(b"BEGIN:VEVENT")[0]


def test_series_with_exdate_and_override() -> None:
    first = datetime(2021, 9, 2, 9, 0, tzinfo=BERLIN)
    uid = uid_for("series", 3, "bot.example.org")
    master = event(
        first,
        uid=uid,
        rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",
        until=datetime(2021, 12, 31, tzinfo=UTC),
        exdates=(first + timedelta(weeks=4),),
    )
    moved = event(
        first + timedelta(weeks=2, hours=1),
        uid=uid,
        recurrence_id=first + timedelta(weeks=2),
        sequence=1,
    )
    raw = render_invitation([master, moved], Method.REQUEST)
    assert_wire_format(raw)
    cal, other = both_parsers(raw)
    assert other.events  # the independent parser reads the series too
    main, override = cal.walk("VEVENT")
    assert main["RRULE"]["FREQ"] == ["WEEKLY"] and main["RRULE"]["INTERVAL"] == [2]
    assert main["RRULE"]["UNTIL"][0] == datetime(2021, 12, 31, tzinfo=UTC)
    assert main["EXDATE"].dts[0].dt == first + timedelta(weeks=4)
    assert override["RECURRENCE-ID"].dt == first + timedelta(weeks=2)
    assert override["RECURRENCE-ID"].params["TZID"] == "Europe/Berlin"
    assert b"RRULE:FREQ=WEEKLY;UNTIL=20211231T000000Z;INTERVAL=2;BYDAY=TH" in raw
    # The VTIMEZONE covers the years the series runs in, not only its first date.
    tz_text = raw.split(b"BEGIN:VEVENT")[0]
    assert b"20301027T030000" in tz_text
    with pytest.raises(ValueError):
        render_invitation([master, event(first)], Method.REQUEST)  # two UIDs


def test_feed_is_a_subscribable_calendar() -> None:
    events = [
        event(datetime(2021, 6, 15, 9, 0, tzinfo=BERLIN)),
        event(
            datetime(2021, 7, 1, tzinfo=BERLIN),
            uid=uid_for("action", 4, "bot.example.org"),
            summary="Fällig: Bögen an Anna senden",
            all_day=True,
            alarm_before=None,
        ),
        event(
            datetime(2021, 6, 20, 14, 0, tzinfo=ZoneInfo("America/New_York")),
            uid="meeting-9@bot.example.org",
            tzid="America/New_York",
            cancelled=True,
        ),
    ]
    raw = render_feed(events, name="AG Transfer", refresh=timedelta(hours=1))
    assert_wire_format(raw)
    cal, other = both_parsers(raw)
    assert "METHOD" not in cal
    assert cal["REFRESH-INTERVAL"].dt == timedelta(hours=1)
    assert cal["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert str(cal["X-PUBLISHED-TTL"]) == "PT1H"
    assert str(cal["X-WR-CALNAME"]) == "AG Transfer" and str(cal["NAME"]) == "AG Transfer"
    assert sorted(str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")) == [
        "America/New_York",
        "Europe/Berlin",
    ]
    due = next(e for e in cal.walk("VEVENT") if str(e["UID"]).startswith("action-"))
    assert due["DTSTART"].dt == datetime(2021, 7, 1).date()
    assert b"DTSTART;VALUE=DATE:20210701" in raw
    assert not any(e.get("ATTENDEE") for e in cal.walk("VEVENT"))  # feeds list nobody
    assert len(other.events) == 3
    assert {e.status for e in other.events} == {"CONFIRMED", "CANCELLED"}
