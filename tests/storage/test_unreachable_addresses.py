"""One way to mark an address unreachable: wherever it is known — a member's own address
and every advisor registry entry with it, whatever its case (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from bot.app import Core
from bot.core.enums import AuthorizationSource
from storage import advisors as advisor_store
from storage.email_addresses import address_key, confirmed_address, mark_unreachable
from storage.models import Advisor, EmailAddress, User


async def add_advisor(core: Core, name: str, email: str | None) -> int:
    async with core.services.sessions.begin() as session:
        advisor = await advisor_store.create_advisor(
            session,
            name=name,
            email=email,
            institution="RKW Nord",
            fields="",
            language="de",
            authorized_on=date(2019, 3, 15),
            source=AuthorizationSource.MANUAL,
            now=core.services.clock.now(),
            next_step_on=None,
        )
        return advisor.id


async def test_an_address_is_marked_for_the_member_and_every_advisor_with_it(core: Core) -> None:
    now = core.services.clock.now()
    async with core.services.sessions.begin() as session:
        user = User(created_at=now)
        session.add(user)
        await session.flush()
        member_id = user.id
        session.add(
            EmailAddress(
                user_id=member_id,
                address="berta@example.org",
                address_key=address_key("berta@example.org"),
                created_at=now,
                confirmed_at=now,
            )
        )
    first = await add_advisor(core, "Berta Beispiel", "Berta@Example.org")
    second = await add_advisor(core, "Berta B. (zweiter Eintrag)", "berta@example.ORG")
    other = await add_advisor(core, "Carla Carlsen", "carla@example.org")

    async with core.services.sessions.begin() as session:
        marked = await mark_unreachable(session, " BERTA@example.org ", "5.1.1 " + "x" * 900, now)
    assert marked.marked and marked.user_id == member_id
    assert marked.advisors == ((first, "Berta Beispiel"), (second, "Berta B. (zweiter Eintrag)"))

    later = now + timedelta(days=3)
    async with core.services.sessions.begin() as session:
        again = await mark_unreachable(session, "berta@example.org", "5.2.1 mailbox full", later)
        assert [number for number, _ in again.advisors] == [first, second]
        assert await confirmed_address(session, member_id) is None
    async with core.services.sessions() as session:
        rows = {a.id: a for a in await session.scalars(select(Advisor))}
    for number in (first, second):
        # since the first failure, for the latest reason
        assert rows[number].email_unreachable_at == now
        assert rows[number].email_unreachable_reason == "5.2.1 mailbox full"
    assert rows[other].email_unreachable_at is None
    assert rows[other].email_unreachable_reason is None

    async with core.services.sessions.begin() as session:
        nobody = await mark_unreachable(session, "nobody@example.org", "5.1.1", now)
        assert not nobody.marked and nobody.advisors == () and nobody.user_id is None
        advisor = await advisor_store.advisor_by_id(session, first)
        assert advisor is not None
        advisor_store.set_email(advisor, "berta.neu@example.org")
    async with core.services.sessions() as session:
        changed = await advisor_store.advisor_by_id(session, first)
        assert changed is not None and changed.email == "berta.neu@example.org"
        assert changed.email_unreachable_at is None and changed.email_unreachable_reason is None


async def test_the_reason_is_kept_to_its_limit(core: Core) -> None:
    number = await add_advisor(core, "Berta Beispiel", "berta@example.org")
    now = core.services.clock.now()
    async with core.services.sessions.begin() as session:
        await mark_unreachable(session, "berta@example.org", "y" * 2000, now)
    async with core.services.sessions() as session:
        advisor = await advisor_store.advisor_by_id(session, number)
        assert advisor is not None and advisor.email_unreachable_reason == "y" * 500
