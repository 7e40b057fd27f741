"""A video meeting's calendar entry says "Videokonferenz" with its link, as the chat and the
groups' own invitations do – while URL stays the bare link and LOCATION still starts with
nothing but words a client shows, so the link remains clickable and parseable."""

from __future__ import annotations

import base64

import icalendar
import ics

from tests.harness import Conversation, dm, outbox_rows, person

anna = person("anna")
LINK = "https://meet.example.org/ag-transfer"


async def test_a_video_meetings_invitation_says_videokonferenz(chat: Conversation, core) -> None:
    await chat.say(anna, "/start", dm(anna))
    created = await chat.text(anna, f"/sitzung 15.06.2021 9–12 Uhr AG-Sitzung | {LINK}")
    assert f"Videokonferenz – {LINK}" in created  # what the chat says
    [invitation] = await outbox_rows(core, "meeting_invitation")
    raw = base64.b64decode(invitation.payload["document"]["content_b64"])
    [event] = icalendar.Calendar.from_ical(raw).walk("VEVENT")
    assert str(event["LOCATION"]) == f"Videokonferenz – {LINK}"
    assert str(event["URL"]) == LINK
    assert f"Videokonferenz: {LINK}" in str(event["DESCRIPTION"])
    [parsed] = ics.Calendar(raw.decode()).events  # an independent parser reads it too
    assert parsed.location == f"Videokonferenz – {LINK}" and parsed.url == LINK


async def test_a_place_stays_just_the_place(chat: Conversation, core) -> None:
    await chat.say(anna, "/start", dm(anna))
    await chat.say(anna, "/sitzung 15.06.2021 9–12 Uhr AG-Sitzung | IHK Köln, Raum 3")
    [invitation] = await outbox_rows(core, "meeting_invitation")
    raw = base64.b64decode(invitation.payload["document"]["content_b64"])
    [event] = icalendar.Calendar.from_ical(raw).walk("VEVENT")
    assert str(event["LOCATION"]) == "IHK Köln, Raum 3" and "URL" not in event
    assert "Videokonferenz" not in str(event["DESCRIPTION"])
