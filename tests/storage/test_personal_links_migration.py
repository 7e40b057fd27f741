"""Migration 0016w_links_per_mail: a person may hold several live personal links to one poll
(one per mail); going back to the earlier schema keeps each person's newest link."""

from __future__ import annotations

from sqlalchemy import select

from storage.migrate import downgrade, upgrade_to_head
from storage.models import PersonalLink
from tests.harness import Conversation, dm, person

bernd = person("bernd")


async def test_several_links_per_person_and_back(chat: Conversation) -> None:
    await chat.say(bernd, "/hilfe")
    await chat.say(bernd, "/start", dm(bernd))
    await chat.say(person("anna"), '/terminabfrage "Juni-Sitzung" 15.06. 9-12 Uhr; 17.06. 14 Uhr')
    await chat.say(bernd, "/meinlink")
    await chat.say(bernd, "/meinlink")  # a second private message, a second live link
    async with chat.core.services.sessions() as session:
        links = list(await session.scalars(select(PersonalLink).order_by(PersonalLink.id)))
    assert len(links) == 2 and all(link.revoked_at is None for link in links)
    newest = links[-1].token_hash

    await downgrade(chat.core.engine, "0016_personal_links")
    async with chat.core.services.sessions() as session:
        kept = list(await session.scalars(select(PersonalLink.token_hash)))
    assert kept == [newest]
    await upgrade_to_head(chat.core.engine)
