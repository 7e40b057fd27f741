"""Admins search the decisions of all groups; only approved minutes are searchable, and only
by admins, in a private chat or the admin group."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.app import Core
from bot.core.clock import FixedClock
from bot.core.enums import DecisionKind
from bot.core.messages import ChatKind, ChatRef
from bot.core.settings import load_settings
from handlers.organisation.search_query import QueryError, SearchQuery, parse_query
from tests.harness import GROUP, OTHER_GROUP, Conversation, dm, person

anna, clara, olaf = person("anna"), person("clara"), person("olaf")
NOW = datetime(2021, 6, 10, 8, 0, tzinfo=ZoneInfo("UTC"))
BERLIN = ZoneInfo("Europe/Berlin")


def test_query_words_and_filters() -> None:
    assert parse_query("Checks Bögen", now=NOW, tz=BERLIN) == SearchQuery(("Checks", "Bögen"))
    parsed = parse_query(
        "checks art:Empfehlung an:Strategiekreis von:01.01.2021 bis:30.06.2021", now=NOW, tz=BERLIN
    )
    assert parsed == SearchQuery(
        ("checks",),
        DecisionKind.RECOMMENDATION,
        "Strategiekreis",
        date(2021, 1, 1),
        date(2021, 6, 30),
    )
    assert parse_query("kind:assignment", now=NOW, tz=BERLIN).kind is DecisionKind.ASSIGNMENT
    with pytest.raises(QueryError):
        parse_query("art:wunsch", now=NOW, tz=BERLIN)
    with pytest.raises(QueryError):
        parse_query("von:gestern-irgendwann", now=NOW, tz=BERLIN)


@pytest.fixture
async def org(database_url: str) -> AsyncIterator[Conversation]:
    """AG Transfer (Anna) approved meeting #1 with a recommendation; AG QS (Clara) has an
    assignment in draft minutes only. Olaf is listed in ADMIN_USERS."""
    settings = load_settings(database_url=database_url, admin_users="test:olaf", _env_file=None)
    core = await Core.create(settings, FixedClock(NOW))
    chat = Conversation(core, admins=[(GROUP, anna), (OTHER_GROUP, clara)])
    await chat.say(anna, '/registrieren ag "AG Transfer"')
    await chat.say(clara, '/registrieren ag "AG Qualitätssicherung"', OTHER_GROUP)
    await chat.say(anna, "/sitzung 10.06.2021 10:30-12 Uhr Juni-Sitzung")
    await chat.say(anna, "/beschluss 12:0:1 Empfehlung an Strategiekreis: Die Checks ausweiten.")
    await chat.say(anna, "/beschluss einstimmig Auftrag an AG Qualitätssicherung: Checks prüfen.")
    core.services.clock.advance(timedelta(minutes=30))  # drafts wait for the start
    await chat.say(anna, "/protokollentwurf 1")
    await chat.say(anna, "/protokollgenehmigen 1 sofort")
    await chat.say(clara, "/sitzung 10.06.2021 10:30-12 Uhr QS-Sitzung", OTHER_GROUP)
    await chat.say(clara, "/beschluss einstimmig Die Checks sind geheim.", OTHER_GROUP)
    await chat.say(olaf, "/start", dm(olaf))
    yield chat
    await core.close()


async def test_admin_finds_approved_decisions_of_all_groups(org: Conversation) -> None:
    found = await org.text(olaf, "/gesamtsuche Checks", dm(olaf))
    assert "AG Transfer B-2021-01 (10.06.2021) Empfehlung an Strategiekreis: Die Checks" in found
    assert "AG Transfer B-2021-02 (10.06.2021) Auftrag an AG Qualitätssicherung" in found
    assert "→ AG Qualitätssicherung: offen" in found  # where the forwarded one stands
    assert "geheim" not in found  # the AG QS's minutes are not approved


async def test_filters_narrow_the_search(org: Conversation) -> None:
    only = await org.text(olaf, "/gesamtsuche art:auftrag", dm(olaf))
    assert "B-2021-02" in only and "B-2021-01" not in only
    assert "B-2021-01" in await org.text(olaf, "/gesamtsuche an:Strategiekreis", dm(olaf))
    assert "B-2021-02" not in await org.text(olaf, "/gesamtsuche an:Strategiekreis", dm(olaf))
    none = await org.text(olaf, "/gesamtsuche von:11.06.2021", dm(olaf))
    assert "Kein Beschluss" in none
    assert "B-2021-01" in await org.text(olaf, "/gesamtsuche bis:10.06.2021", dm(olaf))


async def test_only_admins_in_private_search_the_organisation(org: Conversation) -> None:
    assert "nur Admins" in await org.text(anna, "/gesamtsuche Checks", dm(anna))
    assert "nur Admins" in await org.text(clara, "/gesamtsuche Checks", OTHER_GROUP)
    in_group = await org.text(olaf, "/gesamtsuche Checks", GROUP)
    assert "privaten Chat" in in_group and "Checks ausweiten" not in in_group


STEERING = ChatRef("test", "-400", ChatKind.GROUP, "Strategiekreis")
sam, stefan, emil = person("sam"), person("stefan"), person("emil")


@pytest.fixture
async def steering(org: Conversation) -> Conversation:
    """Sam chairs the Strategiekreis, Stefan is a member; Olaf names it the steering body."""
    org.platform.admins.add((STEERING.chat_id, sam.user_id))
    await org.say(sam, '/registrieren ag "Strategiekreis"', STEERING)
    await org.say(stefan, "/beitreten", STEERING)
    await org.say(sam, "/start", dm(sam))
    await org.say(stefan, "/start", dm(stefan))
    assert "ist jetzt der Strategiekreis" in await org.text(
        olaf, "/strategiekreis Strategiekreis", dm(olaf)
    )
    return org


async def test_the_steering_body_searches_what_chairs_share(steering: Conversation) -> None:
    for where in (dm(sam), STEERING):
        found = await steering.text(sam, "/gesamtsuche Checks", where)
        assert "AG Transfer B-2021-01 (10.06.2021) Empfehlung an Strategiekreis" in found
        assert "→ AG Qualitätssicherung: offen" in found
        assert "geheim" not in found  # draft minutes stay in the group
    # a steering member in another group's chat: that group would see the results
    assert "Chat des Strategiekreises" in await steering.text(stefan, "/gesamtsuche", GROUP)
    # AG Transfer's chair shares only what it forwards; then nothing at all
    await steering.say(anna, "/infodienstfreigabe empfehlungen")
    found = await steering.text(stefan, "/gesamtsuche art:auftrag", dm(stefan))
    assert "B-2021-02" in found
    await steering.say(anna, "/infodienstfreigabe aus")
    assert "Kein Beschluss" in await steering.text(stefan, "/gesamtsuche Checks", dm(stefan))
    # admins still search everything approved
    assert "B-2021-01" in await steering.text(olaf, "/gesamtsuche Checks", dm(olaf))


async def test_the_receivers_handling_shows_only_if_it_shares(steering: Conversation) -> None:
    await steering.say(clara, "/infodienstfreigabe aus", OTHER_GROUP)
    found = await steering.text(stefan, "/gesamtsuche Checks", dm(stefan))
    assert "B-2021-02" in found and "AG Qualitätssicherung: offen" not in found


async def test_who_left_the_steering_body_or_never_was_in_finds_nothing(
    steering: Conversation,
) -> None:
    await steering.say(emil, "/start", dm(emil))
    assert "nur Admins" in await steering.text(emil, "/gesamtsuche Checks", dm(emil))
    assert "nur Admins" in await steering.text(anna, "/gesamtsuche Checks", dm(anna))
    await steering.core.dispatcher.member_left("test", STEERING.chat_id, stefan.user_id)  # type: ignore[attr-defined]
    refused = await steering.text(stefan, "/gesamtsuche Checks", dm(stefan))
    assert "nur Admins" in refused and "Checks ausweiten" not in refused
    # another group named the steering body: the old one's members lose the search
    await steering.say(olaf, "/strategiekreis AG Qualitätssicherung", dm(olaf))
    assert "nur Admins" in await steering.text(sam, "/gesamtsuche Checks", dm(sam))
    assert "Checks ausweiten" in await steering.text(clara, "/gesamtsuche Checks", dm(clara))
    await steering.say(olaf, "/strategiekreis aus", dm(olaf))
    assert "nur Admins" in await steering.text(clara, "/gesamtsuche Checks", dm(clara))


async def test_only_admins_name_the_steering_body(steering: Conversation) -> None:
    assert "nur Admins" in await steering.text(sam, "/strategiekreis AG Transfer", dm(sam))
    assert "Strategiekreis ist der Strategiekreis" in await steering.text(
        olaf, "/strategiekreis", dm(olaf)
    )
    assert "genau eine registrierte Gruppe" in await steering.text(
        olaf, "/strategiekreis Leitungskreis", dm(olaf)
    )


async def test_sharing_only_recommendations_hides_other_decisions_from_the_steering_body(
    steering: Conversation,
) -> None:
    await steering.say(anna, "/sitzung 10.06.2021 14-15 Uhr Nachmittag")
    await steering.say(anna, "/beschluss #2 einstimmig Die Kasse bleibt intern.")
    steering.core.services.clock.advance(timedelta(hours=6))
    await steering.say(anna, "/protokollentwurf 2")
    await steering.say(anna, "/protokollgenehmigen 2 sofort")
    assert "Kasse" in await steering.text(stefan, "/gesamtsuche Kasse", dm(stefan))
    await steering.say(anna, "/infodienstfreigabe empfehlungen")
    assert "Kein Beschluss" in await steering.text(stefan, "/gesamtsuche Kasse", dm(stefan))
    assert "B-2021-01" in await steering.text(stefan, "/gesamtsuche Checks", dm(stefan))
    assert "Kasse" in await steering.text(olaf, "/gesamtsuche Kasse", dm(olaf))  # admins
