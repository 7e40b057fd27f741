"""A person's own data: /mydata exports it, /deletemydata erases it (handlers/personal_data)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from storage.models import Identity, Membership, User
from tests.harness import Conversation, dm, person, registered

pytestmark = pytest.mark.unregistered  # the tests register AG Transfer themselves, in English

bernd = person("bernd")


async def test_my_data_export_and_delete(chat: Conversation, core) -> None:
    await registered(chat)
    await chat.say(bernd, "/join")
    await chat.say(bernd, "/start", dm(bernd))
    [export] = await chat.say(bernd, "/mydata", dm(bernd))
    assert export.document is not None and export.document.filename == "my-data.json"
    data = json.loads(export.document.content)
    assert data["identities"][0]["username"] == "bernd"
    assert data["memberships"][0]["group"] == "AG Transfer"
    [question] = await chat.say(bernd, "/deletemydata", dm(bernd))
    assert question.buttons and question.buttons[0][0].data.endswith("yes")
    [kept] = await chat.say(bernd, "", dm(bernd), callback=question.buttons[0][1].data)
    assert kept.edit
    [done] = await chat.say(bernd, "", dm(bernd), callback=question.buttons[0][0].data)
    assert done.edit
    async with core.services.sessions() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(Identity).where(Identity.username == "bernd")
            )
            == 0
        )
        assert await session.scalar(select(func.count()).select_from(Membership)) == 1
        assert await session.scalar(select(func.count()).select_from(User)) == 1
