"""The public advisor list's data: consent (set in chat and by the CSV import), what an entry
shows, filters, JSON and CSV, and the letters that point at the page."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from bot.cli import main
from bot.core.clock import FixedClock
from handlers.advisors.consent import ConsentError, PublicField, consented, parse_consent, stored
from handlers.advisors.escalation import run_advisor_escalation
from handlers.advisors.public import public_entries
from handlers.advisors.public_list import (
    Filters,
    PublicEntry,
    as_csv,
    as_json,
    listing,
    public_entry,
)
from storage.db import create_engine, session_factory
from storage.outbox import decode_message
from tests.advisor_registry import ADD, ADMIN, ADVISOR, CHAIR, registry_chat
from tests.harness import Conversation, dm, outbox_rows

SECRET = {
    "name": "Geheim Person",
    "fields": "Geheimfeld",
    "region": "Geheimregion",
    "institution": "Geheiminstitut",
    "email": "geheim@example.org",
}


def entry_of(published: str) -> PublicEntry | None:
    return public_entry(**SECRET, published=published)


def test_consent_words_in_german_and_english() -> None:
    assert parse_consent("name, felder, region") == {
        PublicField.NAME,
        PublicField.FIELDS,
        PublicField.REGION,
    }
    assert parse_consent("Name; Institut + Kontakt") == {
        PublicField.NAME,
        PublicField.INSTITUTION,
        PublicField.CONTACT,
    }
    assert parse_consent("alle") == set(PublicField)
    assert parse_consent("nichts") == parse_consent("") == parse_consent("none") == set()
    with pytest.raises(ConsentError) as error:
        parse_consent("name, telefon")
    assert error.value.word == "telefon"
    assert stored(parse_consent("region name")) == "name,region"  # one order, compares equal
    assert consented("name,unknown-later-field") == {PublicField.NAME}


@given(st.sets(st.sampled_from(list(PublicField))))
def test_an_entry_shows_exactly_the_consented_fields(chosen: set[PublicField]) -> None:
    entry = entry_of(stored(chosen))
    if not chosen:
        assert entry is None  # nothing consented: not on the list at all
        return
    assert entry is not None
    shown = entry.as_json()
    assert set(shown) == {f.value for f in chosen}
    rendered = as_json(listing([entry], Filters())) + as_csv(listing([entry], Filters()))
    for field, key in (
        (PublicField.NAME, "name"),
        (PublicField.FIELDS, "fields"),
        (PublicField.REGION, "region"),
        (PublicField.INSTITUTION, "institution"),
        (PublicField.CONTACT, "email"),
    ):
        assert (SECRET[key] in rendered) == (field in chosen), (field, rendered)


def test_filters_and_their_choices_see_only_published_values() -> None:
    public = public_entry(
        name="Berta Beispiel",
        fields="Digitalisierung; Finanzierung",
        region="Köln",
        institution="RKW Nord",
        email="berta@example.org",
        published="name,fields,region,institution",
    )
    hidden = entry_of("fields")  # only the consulting field is published
    assert public is not None and hidden is not None
    entries = [public, hidden]
    every = listing(entries, Filters())
    assert every.choices.regions == ("Köln",)
    assert every.choices.institutions == ("RKW Nord",)
    assert every.choices.fields == ("Digitalisierung", "Finanzierung", "Geheimfeld")
    # A filter for an unpublished value finds nobody: it cannot be used to learn it.
    for filters in (
        Filters(query="Geheim"),
        Filters(region="Geheimregion"),
        Filters(institution="Geheiminstitut"),
    ):
        assert listing(entries, filters).entries == ()
    assert listing(entries, Filters(field="geheimfeld")).entries == (hidden,)
    # Case, accents and ß do not matter; unnamed entries come last.
    assert listing(entries, Filters(query="BERTA beis")).entries == (public,)
    assert listing(entries, Filters(region="koln")).entries == (public,)
    assert every.entries == (public, hidden)
    assert Filters.from_query({"q": "  x " * 80}).query == ("x " * 50).strip()


def test_public_csv_cannot_run_formulas_in_a_spreadsheet() -> None:
    entry = public_entry(
        name='=HYPERLINK("http://evil.example";"klick")',
        fields="+1+1; Digitalisierung",
        region="@SUM(A1)",
        institution="-2+3",
        email="berta@example.org",
        published=stored(PublicField),
    )
    assert entry is not None
    text = as_csv(listing([entry], Filters()))
    assert text.startswith("\ufeffname,fields,region,institution,contact")
    [row] = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    for column in ("name", "fields", "region", "institution"):
        assert row[column].startswith("'"), row
    assert json.loads(as_json(listing([entry], Filters())))["advisors"][0]["region"] == "@SUM(A1)"


@pytest.fixture
async def chat(database_url: str, clock: FixedClock):
    async with registry_chat(database_url, clock) as conversation:
        yield conversation


async def names_on_the_list(chat: Conversation) -> list[str | None]:
    async with chat.core.services.sessions() as session:
        return [e.name for e in await public_entries(session)]


async def test_admins_record_consent_and_see_it(chat: Conversation) -> None:
    await chat.say(ADMIN, ADD, dm(ADMIN))
    shown = await chat.text(ADMIN, "/berater 1", dm(ADMIN))
    assert "Öffentliche Berater*innen-Liste: nichts veröffentlicht" in shown
    assert await names_on_the_list(chat) == []  # default: not published
    text = await chat.text(ADMIN, "/berateraendern 1 region=Köln", dm(ADMIN))
    assert "Region: Köln" in text
    text = await chat.text(ADMIN, "/berateraendern 1 veroeffentlichen=name, felder", dm(ADMIN))
    assert "Einwilligung: Name, Beratungsfelder (erfasst am 10.06.2021)" in text
    assert await names_on_the_list(chat) == ["Berta Beispiel"]
    wrong = await chat.text(ADMIN, "/berateraendern 1 veroeffentlichen=telefon", dm(ADMIN))
    assert "„telefon“ ist kein Teil eines Eintrags" in wrong
    assert "Berta" not in await chat.text(
        CHAIR, "/berateraendern 1 veroeffentlichen=alle", dm(CHAIR)
    )
    await chat.say(ADMIN, "/berateraendern 1 status=delisted", dm(ADMIN))
    assert "nicht sichtbar, solange ausgelistet" in await chat.text(ADMIN, "/berater 1", dm(ADMIN))
    assert await names_on_the_list(chat) == []
    await chat.say(ADMIN, "/berateraendern 1 autorisiert=01.06.2021", dm(ADMIN))
    assert await names_on_the_list(chat) == ["Berta Beispiel"]
    await chat.say(ADMIN, "/berateraendern 1 published=nothing", dm(ADMIN))
    assert await names_on_the_list(chat) == []


def test_csv_import_sets_consent_and_a_file_without_the_column_keeps_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    cli = CliRunner()
    with_consent = tmp_path / "with.csv"
    with_consent.write_text(
        "name,email,institution,fields,authorized_on,region,published\n"
        "Berta Beispiel,berta@example.org,RKW Nord,Digitalisierung,2021-03-15,Köln,name;region\n"
        "Erik Example,erik@example.org,BIFA,Export,2021-03-15,Hannover,\n",
        encoding="utf-8",
    )
    result = cli.invoke(main, ["advisors", "import", str(with_consent)])
    assert result.exit_code == 0, result.output
    old_format = tmp_path / "old.csv"
    old_format.write_text(
        "name,email,institution,fields,authorized_on\n"
        "Berta Beispiel,berta@example.org,RKW Nord,Digitalisierung,2021-03-15\n",
        encoding="utf-8",
    )
    result = cli.invoke(main, ["advisors", "import", str(old_format)])
    assert result.exit_code == 0 and "unchanged 1" in result.output, result.output
    exported = tmp_path / "out.csv"
    assert cli.invoke(main, ["advisors", "export", str(exported)]).exit_code == 0
    rows = list(csv.DictReader(exported.open(encoding="utf-8")))
    assert [(r["name"], r["region"], r["published"]) for r in rows] == [
        ("Berta Beispiel", "Köln", "name,region"),
        ("Erik Example", "Hannover", ""),
    ]
    again = cli.invoke(main, ["advisors", "import", str(exported)])
    assert "created 0, updated 0 (renewed 0), unchanged 2" in again.output, again.output
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "name,email,institution,authorized_on,published\n"
        "Berta Beispiel,berta@example.org,RKW Nord,2021-03-15,name telefon\n",
        encoding="utf-8",
    )
    result = cli.invoke(main, ["advisors", "import", str(bad)])
    assert result.exit_code != 0 and "line 2: published: 'telefon'" in result.output

    async def shown() -> list[dict[str, object]]:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                return [e.as_json() for e in await public_entries(session)]
        finally:
            await engine.dispose()

    import asyncio

    assert asyncio.run(shown()) == [{"name": "Berta Beispiel", "region": "Köln"}]


async def test_delisting_and_relisting_letters_point_at_the_public_list(
    database_url: str, clock: FixedClock
) -> None:
    from bot.app import Core
    from tests.advisor_registry import advisor_settings
    from tests.harness import GROUP

    clock.set(datetime(2021, 6, 10, 8, 0, tzinfo=UTC))
    core = await Core.create(
        advisor_settings(
            database_url,
            public_base_url="https://bot.example.org/",
            advisor_delist_without_exchange=True,
        ),
        clock,
    )
    try:
        chat = Conversation(core, admins=[(GROUP, ADMIN)])
        await chat.say(ADMIN, '/registrieren ag "Admins"', GROUP)
        await chat.say(ADMIN, ADD, dm(ADMIN))  # authorized 15.03.2019: delisted 15.08.2021
        await chat.say(ADMIN, "/berateraendern 1 veroeffentlichen=name, region", dm(ADMIN))
        clock.set(datetime(2021, 8, 15, 6, 0, tzinfo=UTC))
        await run_advisor_escalation(core.services, date(2021, 8, 15))
        clock.set(datetime(2021, 8, 16, 8, 0, tzinfo=UTC))
        await chat.say(ADMIN, "/berateraendern 1 autorisiert=16.08.2021", dm(ADMIN))
        texts = {
            row.dedupe_key: decode_message(row.payload).text
            for row in await outbox_rows(core, "advisor_escalation")
        }
        delisting = next(t for k, t in texts.items() if "delisting" in k)
        relisting = next(t for k, t in texts.items() if "relisting" in k)
        assert "(https://bot.example.org/berater) zeigt Sie nicht mehr" in delisting
        assert "zeigt Sie wieder (Name, Region): https://bot.example.org/berater" in relisting
    finally:
        await core.close()


async def test_an_advisor_who_erases_their_data_leaves_the_public_list(chat: Conversation) -> None:
    await chat.say(ADMIN, ADD, dm(ADMIN))
    await chat.say(ADMIN, "/berateraendern 1 veroeffentlichen=alle", dm(ADMIN))
    code = re.search(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}\b", await chat.text(ADMIN, "/beratercode 1"))
    assert code is not None
    await chat.say(ADVISOR, f"/verknuepfen {code.group(0)}", dm(ADVISOR))
    assert await names_on_the_list(chat) == ["Berta Beispiel"]
    reply = await chat.text(ADVISOR, "/datenloeschen ja", dm(ADVISOR))
    assert "Die öffentliche Berater*innen-Liste zeigt Ihren Eintrag nicht mehr." in reply
    assert await names_on_the_list(chat) == []
    shown = await chat.text(ADMIN, "/berater 1", dm(ADMIN))  # the entry stays for the admins
    assert "Berta Beispiel" in shown and "nichts veröffentlicht" in shown
