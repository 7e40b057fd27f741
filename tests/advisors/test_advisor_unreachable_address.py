"""An advisor whose registry address is marked unreachable is handled as one without an
address: a linked advisor gets the letter by chat even after choosing e-mail only; an
unlinked one by nothing (and is reported). (SQLite and PostgreSQL.)"""

from __future__ import annotations

from datetime import date

from bot.app import Core
from bot.core.enums import AuthorizationSource
from bot.core.mail import Channel, MessageKind
from handlers.advisors.escalation import letter_route
from storage import advisors as advisor_store
from storage import mail as mail_store
from storage.email_addresses import mark_unreachable
from storage.models import User


async def test_an_unreachable_registry_address_is_no_route_for_letters(core: Core) -> None:
    now = core.services.clock.now()
    async with core.services.sessions.begin() as session:
        user = User(created_at=now)
        session.add(user)
        await session.flush()
        await mail_store.set_channel(
            session,
            user_id=user.id,
            kind=MessageKind.LETTERS.value,
            channel=Channel.EMAIL.value,
            now=now,
        )
        advisor = await advisor_store.create_advisor(
            session,
            name="Berta Beispiel",
            email="berta@example.org",
            institution="RKW Nord",
            fields="",
            language="de",
            authorized_on=date(2019, 3, 15),
            source=AuthorizationSource.MANUAL,
            now=now,
            next_step_on=None,
            user_id=user.id,
        )
        assert await letter_route(session, advisor, can_write=True) == (False, True)
        assert await letter_route(session, advisor, can_write=False) == (False, True)
        await mark_unreachable(session, "berta@example.org", "5.1.1 User unknown", now)
        assert await letter_route(session, advisor, can_write=True) == (True, False)
        assert await letter_route(session, advisor, can_write=False) == (False, False)
        advisor_store.set_email(advisor, "berta.neu@example.org")
        assert await letter_route(session, advisor, can_write=True) == (False, True)
