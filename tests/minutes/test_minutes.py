"""Minutes: the pure renderer, generation in chat, draft, objections and approval."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.core.enums import DecisionKind, DecisionOutcome
from bot.core.i18n import Translator
from bot.core.text import split_text
from handlers.minutes.data import (
    MinutesAction,
    MinutesData,
    MinutesDecision,
    MinutesTop,
    NextMeeting,
)
from handlers.minutes.parsing import InputError, parse_action, parse_action_ref, parse_decision
from handlers.minutes.render import (
    escape,
    minutes_documents,
    render_docx,
    render_html,
    render_markdown,
)
from storage.models import Identity, OutboxMessage
from tests.harness import GROUP, Conversation, add_matrix_room, person

BERLIN = ZoneInfo("Europe/Berlin")
anna, bernd, clara = person("anna"), person("bernd"), person("clara")


def sample(**changes: object) -> MinutesData:
    values: dict[str, object] = {
        "group_name": "AG Transfer",
        "meeting_number": 4,
        "title": "AG-Sitzung Juni",
        "starts_at": datetime(2021, 6, 15, 9, tzinfo=BERLIN),
        "ends_at": datetime(2021, 6, 15, 12, tzinfo=BERLIN),
        "location": "https://meet.example.org/ag",
        "participants": ("Anna", "Bernd"),
        "guests": ("Dr. Weber (IHK Köln)",),
        "attendance_count": None,
        "tops": (
            MinutesTop(
                1,
                "Begrüßung",
                "topic",
                "Anna (ZDH)",
                datetime(2021, 6, 15, 9, tzinfo=BERLIN),
                notes=("Alle sind da.",),
            ),
            MinutesTop(2, "Mittagspause", "break", None, None),
            MinutesTop(
                3,
                "Checks",
                "topic",
                None,
                datetime(2021, 6, 15, 13, 30, tzinfo=BERLIN),
                notes=("Die Checks laufen gut.",),
                decisions=(
                    MinutesDecision(
                        "B-2021-07",
                        "recommendation",
                        "Strategiekreis",
                        "Ausweiten",
                        "counted",
                        12,
                        0,
                        1,
                    ),
                    MinutesDecision("B-2021-08", "decision", None, "Leitfaden", "unanimous"),
                ),
                actions=(
                    MinutesAction(
                        "A-3",
                        ("Bernd", "HWK Köln"),
                        "Bögen senden",
                        date(2021, 7, 15),
                        "open",
                        "B-2021-07",
                    ),
                ),
                continue_next_time=True,
            ),
        ),
        "unassigned": None,
        "next_meetings": (
            NextMeeting(
                datetime(2021, 7, 8, 9, tzinfo=BERLIN),
                datetime(2021, 7, 8, 10, tzinfo=BERLIN),
                "Juli",
            ),
        ),
        "minute_takers": ("Bernd",),
        "status": "draft",
        "objections_until": datetime(2021, 6, 22, 12, tzinfo=BERLIN),
    }
    values.update(changes)
    return MinutesData(**values)  # type: ignore[arg-type]


def test_german_minutes_have_every_part_in_order() -> None:
    text = render_markdown(sample(), Translator("de"))
    parts = [
        "# Protokoll: AG-Sitzung Juni (#4)",
        "**Gruppe:** AG Transfer",
        "**Datum:** Di, 15.06.2021, 9:00–12:00 Uhr",
        "**Ort:** Videokonferenz – https://meet.example.org/ag",
        "**Teilnehmende (3):** Anna, Bernd",  # the guest is present too
        "**Gäste:** Dr. Weber (IHK Köln)",
        "Entwurf – Einspruch möglich bis Di, 22.06.2021, 12:00 Uhr",
        "## Tagesordnung",
        "| TOP | Thema | Vortragende | Zeit |",
        "| 1 | Begrüßung | Anna (ZDH) | 9:00 |",
        "| 2 | Mittagspause |  |  |",
        "| 3 | Checks |  | 13:30 |",
        "## TOP 1: Begrüßung",
        "*Vortragende: Anna (ZDH)*",
        "**Auszüge aus der Diskussion**",
        "- Alle sind da.",
        "## TOP 3: Checks",
        "- Die Checks laufen gut.",
        "**Beschlüsse**",
        "- **B-2021-07** Empfehlung an Strategiekreis (12 dafür, 0 dagegen, 1 Enthaltung): "
        "Ausweiten",
        "- **B-2021-08** Beschluss (einstimmig): Leitfaden",
        "| Nr. | Wer | Was | Bis |",
        "| A-3 | Bernd, HWK Köln | Bögen senden (zu B-2021-07) | 15.07.2021 |",
        "*Wird in der nächsten Sitzung wieder aufgenommen.*",
        "## Nächste Termine",
        "- Do, 08.07.2021, 9:00–10:00 Uhr – Juli",
        "Mitschrift: Bernd",
    ]
    positions = [text.index(part) for part in parts]
    assert positions == sorted(positions)
    assert "## TOP 2" not in text  # a break with nothing recorded gets no section


def test_english_minutes_and_head_count() -> None:
    text = render_markdown(
        sample(
            participants=(),
            attendance_count=58,
            status="approved",
            approved_at=datetime(2021, 6, 30, 10, tzinfo=BERLIN),
        ),
        Translator("en"),
    )
    assert "**Date:** Tue 2021-06-15, 09:00–12:00" in text
    assert "**Participants:** 58" in text and "58 participants" not in text
    assert "Approved on 2021-06-30." in text
    assert "Recommendation to Strategiekreis (12 for, 0 against, 1 abstention)" in text
    assert "Minutes taken by: Bernd" in text


def test_user_text_cannot_become_markup() -> None:
    evil = MinutesTop(
        1,
        "<script>alert(1)</script> | x",
        "topic",
        None,
        None,
        notes=("*fett* [Link](javascript:alert(1)) # Titel", "- keine Liste"),
        decisions=(MinutesDecision("B-2021-01", "decision", None, "a|b <b>", "no_vote"),),
    )
    data = sample(tops=(evil,), title="<img src=x onerror=alert(1)>")
    markdown = render_markdown(data, Translator("de"))
    assert "| 1 | \\<script\\>alert(1)\\</script\\> \\| x |" in markdown
    page = render_html(data, Translator("de"))
    assert "<script>" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; | x" in page
    assert 'href="javascript' not in page and "<em>" not in page.split("<body>")[1].split("Wird")[
        0
    ].replace("<em>Vortragende", "")
    assert "*fett* [Link](javascript:alert(1)) # Titel" in page
    assert escape("1. Punkt") == "1\\. Punkt"


def test_documents_are_markdown_html_and_word_named_after_group_and_date(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    markdown, page, word = minutes_documents(sample(), Translator("de"))
    assert markdown.filename == "Protokoll-AG-Transfer-2021-06-15.md"
    assert markdown.mime_type == "text/markdown"
    assert page.filename == "Protokoll-AG-Transfer-2021-06-15.html"
    assert page.content.decode().startswith("<!DOCTYPE html>")
    assert "<table>" in page.content.decode() and "<h2>Tagesordnung</h2>" in page.content.decode()
    assert word.filename == "Protokoll-AG-Transfer-2021-06-15.docx"
    assert word.content.startswith(b"PK")  # a zip container
    # the same file for the same minutes: nothing depends on the clock, not even when the
    # second file is saved an hour later (zip entries carry a date of their own)
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert minutes_documents(sample(), Translator("de"))[2].content == word.content


def test_word_file_has_the_same_content() -> None:
    import io

    import docx

    nasty = MinutesTop(1, "Steuer\x00zeichen", "topic", None, None, notes=("a\x07b",))
    document = docx.Document(io.BytesIO(render_docx(sample(), Translator("de"))))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == "Protokoll: AG-Sitzung Juni (#4)"
    assert "Gruppe: AG Transfer" in paragraphs
    assert "Teilnehmende (3): Anna, Bernd" in paragraphs
    decision = "B-2021-07 Empfehlung an Strategiekreis (12 dafür, 0 dagegen, 1 Enthaltung): "
    assert decision + "Ausweiten" in paragraphs
    assert paragraphs[-1] == "Mitschrift: Bernd"
    agenda, actions = document.tables
    assert [c.text for c in agenda.rows[1].cells] == ["1", "Begrüßung", "Anna (ZDH)", "9:00"]
    assert [c.text for c in actions.rows[1].cells] == [
        "A-3",
        "Bernd, HWK Köln",
        "Bögen senden (zu B-2021-07)",
        "15.07.2021",
    ]
    cleaned = docx.Document(io.BytesIO(render_docx(sample(tops=(nasty,)), Translator("de"))))
    assert "TOP 1: Steuerzeichen" in [p.text for p in cleaned.paragraphs]


def test_long_minutes_split_within_the_platform_limit() -> None:
    notes = tuple(f"Wortbeitrag {i}: " + "sehr ausführlich " * 20 for i in range(60))
    top = MinutesTop(1, "Lange Diskussion", "topic", None, None, notes=notes)
    text = render_markdown(sample(tops=(top,)), Translator("de"))
    chunks = split_text(text, 4096)
    assert len(chunks) > 3 and all(len(chunk) <= 4096 for chunk in chunks)
    assert "Mitschrift: Bernd" in chunks[-1]


@pytest.mark.parametrize(
    ("text", "kind", "addressee", "outcome", "votes"),
    [
        ("einstimmig Text", DecisionKind.DECISION, None, DecisionOutcome.UNANIMOUS, (None,) * 3),
        ("12:0:1 Text", DecisionKind.DECISION, None, DecisionOutcome.COUNTED, (12, 0, 1)),
        ("12/3 Text", DecisionKind.DECISION, None, DecisionOutcome.COUNTED, (12, 3, 0)),
        (
            "dafür 12 dagegen 0 Enthaltung 1 Text",
            DecisionKind.DECISION,
            None,
            DecisionOutcome.COUNTED,
            (12, 0, 1),
        ),
        ("for 5, against 1: Text", DecisionKind.DECISION, None, DecisionOutcome.COUNTED, (5, 1, 0)),
        (
            "ohne Abstimmung: Text",
            DecisionKind.DECISION,
            None,
            DecisionOutcome.NO_VOTE,
            (None,) * 3,
        ),
        (
            "Empfehlung an Strategiekreis: Text",
            DecisionKind.RECOMMENDATION,
            "Strategiekreis",
            DecisionOutcome.NOT_GIVEN,
            (None,) * 3,
        ),
        (
            "Die AG empfiehlt dem Strategiekreis, X zu tun",
            DecisionKind.RECOMMENDATION,
            "Strategiekreis",
            DecisionOutcome.NOT_GIVEN,
            (None,) * 3,
        ),
        (
            "einstimmig: Auftrag an AG Qualitätssicherung: Bögen prüfen",
            DecisionKind.ASSIGNMENT,
            "AG Qualitätssicherung",
            DecisionOutcome.UNANIMOUS,
            (None,) * 3,
        ),
        ("Info: Text", DecisionKind.INFORMATION, None, DecisionOutcome.NOT_GIVEN, (None,) * 3),
        ("2021 wird gut", DecisionKind.DECISION, None, DecisionOutcome.NOT_GIVEN, (None,) * 3),
    ],
)
def test_decision_syntax(
    text: str,
    kind: DecisionKind,
    addressee: str | None,
    outcome: DecisionOutcome,
    votes: tuple[int | None, ...],
) -> None:
    parsed = parse_decision(text)
    assert (parsed.kind, parsed.addressee, parsed.outcome.outcome) == (kind, addressee, outcome)
    got = (parsed.outcome.votes_for, parsed.outcome.votes_against, parsed.outcome.abstentions)
    assert got == votes


def test_decision_input_limits() -> None:
    with pytest.raises(InputError, match="name_too_long"):
        parse_decision("Die AG empfiehlt dem " + " ".join(["Gremium"] * 40) + ", X zu tun")
    with pytest.raises(InputError, match="addressee_missing"):
        parse_decision("Empfehlung an   : Text")
    with pytest.raises(InputError, match="too_many_votes"):
        parse_decision("100001:0:0 Text")
    with pytest.raises(InputError, match="decision_text_missing"):
        parse_decision("einstimmig")


def test_action_syntax() -> None:
    now = datetime(2021, 6, 10, 8, tzinfo=UTC)
    parsed = parse_action(
        "@bernd, Handwerkskammer Köln und Dr. Weber: Bögen senden bis zum 15.1. zu B-2021-03",
        now=now,
        tz=BERLIN,
    )
    assert [(a.mention, a.name) for a in parsed.assignees] == [
        ("bernd", None),
        (None, "Handwerkskammer Köln"),
        (None, "Dr. Weber"),
    ]
    assert parsed.text == "Bögen senden" and parsed.due == date(2022, 1, 15)
    assert parsed.decision_ref == (2021, 3)
    prose = parse_action("Anna: bis Ende Juli koordinieren bis Ende Juli", now=now, tz=BERLIN)
    assert prose.due is None and prose.text.endswith("bis Ende Juli")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("A-12", 12), ("a12", 12), ("#12", 12), ("12", 12), ("A-１２", None), ("1234567890", None)],
)
def test_action_ref(text: str, expected: int | None) -> None:
    """Action-item numbers go through the one number parser: plain, small ASCII digits."""
    assert parse_action_ref(text) == expected


# --- in chat ---------------------------------------------------------------------------------


@pytest.fixture
async def chat(chat: Conversation) -> Conversation:
    """Bernd and Clara are members, Bernd takes the minutes; meetings today and in July."""
    for who in (bernd, clara):
        await chat.say(who, "/beitreten")
    await chat.say(anna, "/rolle protokoll @bernd")
    await chat.say(anna, "/sitzung 10.06.2021 10:30-12 Uhr Juni-Sitzung | Zoom")
    await chat.say(anna, "/sitzung 08.07.2021 9-10 Uhr Juli-Sitzung")
    return chat


async def test_minutes_in_chat_with_files(chat: Conversation) -> None:
    await chat.say(bernd, "/beschluss einstimmig Der Leitfaden wird beschlossen.")
    await chat.say(bernd, "/aufgabe @clara: Leitfaden verschicken bis 30.06.")
    text, markdown, page, word = await chat.say(clara, "/protokoll")
    assert "# Protokoll: Juni-Sitzung (#1)" in text.text
    assert "**B-2021-01** Beschluss (einstimmig): Der Leitfaden wird beschlossen." in text.text
    assert "| A-1 | Clara | Leitfaden verschicken | 30.06.2021 |" in text.text
    assert "- Do, 08.07.2021, 9:00–10:00 Uhr – Juli-Sitzung" in text.text
    assert "Mitschrift: Bernd" in text.text
    assert markdown.document.content.decode() == text.text
    assert page.document.filename.endswith(".html")
    assert "<td>Leitfaden verschicken</td>" in page.document.content.decode()
    assert word.document.filename == "Protokoll-AG-Transfer-2021-06-10.docx"
    assert "Protokoll: Juli-Sitzung (#2)" in await chat.text(clara, "/protokoll 2")


async def test_draft_objection_and_approval(chat: Conversation, core) -> None:
    await chat.say(bernd, "/beschluss einstimmig Der Leitfaden wird beschlossen.")
    assert "nur Vorsitzende" in await chat.text(bernd, "/protokollentwurf 1")
    assert "zuerst den Entwurf" in await chat.text(anna, "/protokollgenehmigen 1")
    assert "gerade kein Einspruch" in await chat.text(clara, "/einspruch 1 Falsch")
    core.services.clock.advance(timedelta(minutes=30))  # drafts wait for the start
    [published] = await chat.say(anna, "/protokollentwurf 1")
    assert "Einspruch bis Do, 17.06.2021, 10:30 Uhr" in published.text
    assert published.document is not None and published.document.filename.endswith(".html")
    assert "Entwurf – Einspruch möglich" in await chat.text(clara, "/protokoll 1")
    assert "Keine Einsprüche" in await chat.text(anna, "/einsprueche 1")
    # early approval: only with "sofort" and only without objections
    assert "sofort" in await chat.text(anna, "/protokollgenehmigen 1")
    assert "festgehalten" in await chat.text(clara, "/einspruch 1 Die Enthaltung fehlt.")
    assert "nur Vorsitzende" in await chat.text(clara, "/einsprueche 1")
    listed = await chat.text(anna, "/einsprueche 1")
    assert "Clara" in listed and "Die Enthaltung fehlt." in listed
    async with core.services.sessions() as session:
        [told] = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "minutes_objection")
        )
        chair = await session.scalar(
            select(Identity.user_id).where(Identity.platform_user_id == anna.user_id)
        )
    assert told.user_id == chair  # privately, waiting until Anna opens the private chat
    assert "Clara erhebt Einspruch" in told.payload["text"]
    assert "Einspruch gegen diesen Entwurf" in await chat.text(
        anna, "/protokollgenehmigen 1 sofort"
    )
    # the chair may still correct a decision, then the period ends
    await chat.say(bernd, "/beschlussaendern B-2021-01 12:0:1 Der Leitfaden wird beschlossen.")
    core.services.clock.advance(timedelta(days=8))
    assert "endete am" in await chat.text(clara, "/einspruch 1 Zu spät")
    approved, page = await chat.say(anna, "/protokollgenehmigen 1")
    assert "genehmigt" in approved.text and "1 Einspruch wurde erhoben" in approved.text
    assert approved.markdown and "Genehmigt am 18.06.2021" in approved.text
    assert approved.document is not None and approved.document.filename.endswith(".md")
    assert page.document is not None and page.document.filename.endswith(".html")
    text = await chat.text(clara, "/protokoll 1")
    assert "Genehmigt am 18.06.2021" in text and "12 dafür, 0 dagegen, 1 Enthaltung" in text
    assert "bereits genehmigt" in await chat.text(anna, "/protokollentwurf 1")
    assert "nicht mehr geändert" in await chat.text(bernd, "/beschlussaendern B-2021-01 Info: x")


async def test_early_approval_without_objections_and_other_chats_get_the_draft(
    chat: Conversation, core
) -> None:
    await add_matrix_room(core)
    core.services.clock.advance(timedelta(minutes=30))  # drafts wait for the start
    assert "Tage" in await chat.text(anna, "/protokollentwurf 1 viele")
    await chat.say(anna, "/protokollentwurf 1 14")
    assert "genehmigt" in await chat.text(anna, "/protokollgenehmigen 1 sofort")
    async with core.services.sessions() as session:
        queued = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    matrix = [q for q in queued if q.chat_id == "!room:example.org"]
    purposes = ["minutes_draft", "minutes_draft", "minutes_approved", "minutes_approved"]
    assert [q.purpose for q in matrix] == purposes
    assert matrix[0].payload["document"]["filename"].endswith(".md")
    assert "Einspruch bis Do, 24.06.2021" in matrix[0].payload["text"]
    assert matrix[1].payload["document"]["filename"].endswith(".html")
    assert not [q for q in queued if q.chat_id == GROUP.chat_id]  # this chat got a reply


async def test_in_english(chat: Conversation) -> None:
    await chat.say(anna, "/language en")
    recorded = await chat.text(bernd, "/decision unanimous Recommendation to Strategiekreis: Go")
    assert "Decision recorded for #1" in recorded
    assert "B-2021-01 Recommendation to Strategiekreis (unanimous): Go" in recorded
    task = await chat.text(bernd, "/task @clara: Send the forms by 2021-06-30")
    assert "A-1 Clara: Send the forms – due 2021-06-30" in task
    assert "A-1 is now done." in await chat.text(clara, "/done A-1")
    [text, markdown, _, _] = await chat.say(clara, "/minutes")
    assert "# Minutes: Juni-Sitzung (#1)" in text.text and "Minutes taken by: Bernd" in text.text
    assert markdown.document.filename == "Minutes-AG-Transfer-2021-06-10.md"
    chat.core.services.clock.advance(timedelta(minutes=30))  # drafts wait for the start
    published = await chat.text(anna, "/publishminutes 1")
    assert "Objections until Thu 2021-06-17, 10:30: /object 1 …" in published
    assert "/approveminutes 1 now" in await chat.text(anna, "/approveminutes 1")
    assert "are approved" in await chat.text(anna, "/approveminutes 1 now")


def test_file_names_spell_out_umlauts() -> None:
    data = sample(group_name="AG Qualitätssicherung – Größe & Übersicht")
    markdown, _, word = minutes_documents(data, Translator("de"))
    assert markdown.filename == "Protokoll-AG-Qualitaetssicherung-Groesse-Uebersicht-2021-06-15.md"
    assert word.filename.startswith("Protokoll-AG-Qualitaetssicherung-")


def test_a_place_is_a_place_and_a_link_a_video_conference() -> None:
    german = render_markdown(sample(location="IHK Köln, Raum 3"), Translator("de"))
    assert "**Ort:** IHK Köln, Raum 3" in german and "Videokonferenz" not in german
    english = render_markdown(sample(), Translator("en"))
    assert "**Place:** Video conference – https://meet.example.org/ag" in english
