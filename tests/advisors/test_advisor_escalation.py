"""The daily advisor run on real SQLite and PostgreSQL: exactly once, never silently dropped."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.app import Core
from bot.core.clock import FixedClock
from bot.core.enums import AuthorizationSource, OutboxStatus
from bot.core.settings import load_settings
from handlers.advisors import actions as advisor_actions
from handlers.advisors.escalation import advisor_policy, preview, run_advisor_escalation
from handlers.advisors.policy import (
    AdvisorHistory,
    DoneStep,
    EscalationPolicy,
    Step,
    due_steps,
    next_due_on,
)
from storage.models import Advisor, AdvisorStep, ExperienceExchange, OutboxMessage
from storage.outbox import decode_message
from tests.advisor_registry import ADMIN_CHAT, SUMMARY_CHAT, advisor_settings
from tests.harness import GROUP, Conversation, dm, outbox_rows, person
from tests.postgres import PostgresCluster


@pytest.fixture
async def acore(database_url: str, clock: FixedClock) -> AsyncIterator[Core]:
    core = await Core.create(advisor_settings(database_url), clock)
    yield core
    await core.close()


async def add_advisor(
    core: Core,
    authorized_on: date,
    *,
    name: str = "Berta Beispiel",
    email: str | None = None,
    language: str = "de",
    institution: str = "RKW Nord",
    user_id: int | None = None,
    address: bool = True,  # False: no e-mail address in the registry either
) -> int:
    policy = advisor_policy(core.settings)
    async with core.services.sessions.begin() as session:
        advisor = await advisor_actions.create_advisor(
            session,
            name=name,
            email=(email or f"{name.split()[0].lower()}@example.org") if address else None,
            institution=institution,
            fields="Digitalisierung",
            language=language,
            authorized_on=authorized_on,
            source=AuthorizationSource.INITIAL,
            now=core.services.clock.now(),
            policy=policy,
            user_id=user_id,
        )
        return advisor.id


async def linked_user(core: Core, chat: Conversation, name: str, language: str = "de") -> int:
    """A person who opened the private chat with the bot."""
    who = person(name, language)
    await chat.say(who, "/start", dm(who))
    async with core.services.sessions() as session:
        from storage.models import Identity

        return await session.scalar(
            select(Identity.user_id).where(Identity.platform_user_id == name)
        )


async def step_rows(core: Core) -> list[AdvisorStep]:
    async with core.services.sessions() as session:
        return list(await session.scalars(select(AdvisorStep).order_by(AdvisorStep.id)))


async def test_first_reminder_once_in_the_advisors_language(acore: Core, clock: FixedClock) -> None:
    chat = Conversation(acore)
    user_id = await linked_user(acore, chat, "erika", language="en")
    advisor_id = await add_advisor(acore, date(2020, 3, 31), language="en", user_id=user_id)
    async with acore.services.sessions.begin() as session:
        session.add(
            ExperienceExchange(
                starts_at=datetime(2022, 1, 20, 8, 0, tzinfo=UTC),
                ends_at=datetime(2022, 1, 20, 11, 0, tzinfo=UTC),
                provider="IHK Köln",
                place="https://meet.example.org/eax",
                capacity=30,
                created_at=clock.now(),
            )
        )
    clock.set(datetime(2021, 12, 30, 6, 0, tzinfo=UTC))
    # 31 Mar 2020 + 21 months = 31 Dec 2021 (clamped): nothing due the day before.
    report = await run_advisor_escalation(acore.services, date(2021, 12, 30))
    assert report.sent == 0 and report.advisors == 0
    report = await run_advisor_escalation(acore.services, date(2021, 12, 31))
    assert (report.sent, report.missed, report.unreachable) == (1, 0, 0)
    letters = await outbox_rows(acore, "advisor_escalation")
    assert len(letters) == 1 and letters[0].user_id == user_id
    assert letters[0].status == OutboxStatus.PENDING.value
    text = decode_message(letters[0].payload).text
    assert "Dear Berta Beispiel" in text
    assert "ends on 2022-03-31" in text
    assert "IHK Köln" in text and "30 places" in text
    # The listed exchanges come as a calendar file: 9:00 Berlin, with its place.
    document = decode_message(letters[0].payload).document
    assert document is not None and document.filename.endswith(".ics")
    calendar = icalendar.Calendar.from_ical(document.content)
    assert calendar["METHOD"] == "PUBLISH"
    [event] = calendar.walk("VEVENT")
    assert event.decoded("DTSTART").replace(tzinfo=None) == datetime(2022, 1, 20, 9, 0)
    assert str(event["DTSTART"].params["TZID"]) == "Europe/Berlin"
    assert "IHK Köln" in str(event["SUMMARY"]) and "meet.example.org" in str(event["LOCATION"])
    # The same day again, the next day, and after a restart: nothing more.
    await run_advisor_escalation(acore.services, date(2021, 12, 31))
    await run_advisor_escalation(acore.services, date(2022, 1, 5))
    restarted = await Core.create(acore.settings, clock)
    try:
        await run_advisor_escalation(restarted.services, date(2022, 1, 5))
    finally:
        await restarted.close()
    assert len(await outbox_rows(acore, "advisor_escalation")) == 1
    steps = await step_rows(acore)
    assert [(s.advisor_id, s.step, s.outcome) for s in steps] == [
        (advisor_id, "first_reminder", "sent")
    ]
    assert steps[0].outbox_key == letters[0].dedupe_key


async def test_german_letter_with_german_date(acore: Core) -> None:
    chat = Conversation(acore)
    user_id = await linked_user(acore, chat, "hans")
    await add_advisor(acore, date(2020, 3, 31), user_id=user_id)
    await run_advisor_escalation(acore.services, date(2021, 12, 31))
    [letter] = await outbox_rows(acore, "advisor_escalation")
    text = decode_message(letter.payload).text
    assert "endet am 31.03.2022" in text
    assert "Erfahrungsaustausch" in text


async def test_downtime_catch_up_sends_the_current_step_and_reports_the_missed(
    acore: Core,
) -> None:
    chat = Conversation(acore)
    user_id = await linked_user(acore, chat, "ute")
    advisor_id = await add_advisor(acore, date(2019, 1, 15), user_id=user_id)
    # Down from before the first reminder (15 Oct 2020... policy start 1 Jan 2021 makes it
    # due 1 Jan 2021) until after the second (15 Jan 2021): the first is superseded.
    report = await run_advisor_escalation(acore.services, date(2021, 2, 1))
    assert (report.sent, report.missed) == (1, 1)
    steps = {(s.step, s.outcome) for s in await step_rows(acore)}
    assert steps == {("first_reminder", "missed"), ("second_reminder", "sent")}
    [letter] = await outbox_rows(acore, "advisor_escalation")
    assert "15.06.2021" in decode_message(letter.payload).text  # delisting day: +29 months
    admin = [
        decode_message(r.payload).text for r in await outbox_rows(acore, "advisor_admin_report")
    ]
    assert len(admin) == 1
    assert f"#{advisor_id}" in admin[0] and "erste Erinnerung" in admin[0]
    assert "fällig am 01.01.2021" in admin[0]


async def test_unreachable_advisors_are_listed_for_admins(acore: Core) -> None:
    # Neither a chat account nor an address in the registry: nobody can write to them.
    # (With an address they get the letter by e-mail: tests/email/test_advisor_mail.py.)
    for index in range(3):
        await add_advisor(acore, date(2019, 4, 1), name=f"Nora Nolink{index}", address=False)
    report = await run_advisor_escalation(acore.services, date(2021, 1, 1))
    assert report.unreachable == 3 and report.sent == 0
    assert all(s.outcome == "unreachable" and s.outbox_key is None for s in await step_rows(acore))
    [admin] = await outbox_rows(acore, "advisor_admin_report")
    text = decode_message(admin.payload).text
    assert "Konnten nicht erreicht werden: 3" in text
    assert "Nora Nolink0 <–>" in text and "Nora Nolink2 <–>" in text
    assert admin.chat_id == ADMIN_CHAT.chat_id
    # Reported once: the next run has nothing new to report.
    await run_advisor_escalation(acore.services, date(2021, 1, 2))
    assert len(await outbox_rows(acore, "advisor_admin_report")) == 1


async def test_delisting_then_relisting_after_attendance(acore: Core, clock: FixedClock) -> None:
    chat = Conversation(acore)
    user_id = await linked_user(acore, chat, "paul")
    advisor_id = await add_advisor(acore, date(2019, 1, 10), user_id=user_id)
    async with acore.services.sessions.begin() as session:
        # An exchange between the last call and the delisting day the advisor did not
        # attend (without one, the delisting would wait: tests/advisors/test_advisor_deadlines)
        session.add(
            ExperienceExchange(
                starts_at=datetime(2021, 5, 3, 8, 0, tzinfo=UTC),
                provider="IHK Köln",
                place="Köln",
                created_at=clock.now(),
            )
        )
    policy = advisor_policy(acore.settings)
    day = date(2021, 1, 1)
    while day <= date(2021, 7, 1):  # every day, as the scheduler would
        await run_advisor_escalation(acore.services, day)
        day += timedelta(days=1)
    steps = [(s.step, s.outcome, s.done_at) for s in await step_rows(acore)]
    assert [s[0] for s in steps] == [
        "first_reminder",
        "second_reminder",
        "final_notice",
        "delisting",
    ]
    async with acore.services.sessions() as session:
        advisor = await session.get(Advisor, advisor_id)
        assert advisor.status == "delisted"
    async with acore.services.sessions.begin() as session:
        advisor = await session.get(Advisor, advisor_id)
        await advisor_actions.add_authorization(
            session,
            advisor,
            date(2021, 7, 5),
            source=AuthorizationSource.EXCHANGE,
            now=clock.now(),
            policy=policy,
        )
        assert advisor.next_step_on == date(2021, 7, 5)
    await run_advisor_escalation(acore.services, date(2021, 7, 5))
    async with acore.services.sessions() as session:
        advisor = await session.get(Advisor, advisor_id)
        assert advisor.status == "listed"
        assert advisor.next_step_on == date(2023, 4, 5)
    texts = [decode_message(r.payload).text for r in await outbox_rows(acore, "advisor_escalation")]
    assert len(texts) == 5
    assert "entfernt" in texts[3] and "wieder" in texts[4]


async def test_institution_summary_goes_to_the_configured_chat(acore: Core) -> None:
    chat = Conversation(acore)
    user_id = await linked_user(acore, chat, "lea")
    await add_advisor(
        acore, date(2019, 4, 1), name="Lea Links", institution="BIFA", user_id=user_id
    )
    await add_advisor(
        acore, date(2019, 4, 1), name="Max Muster", institution="Handwerkskammer", address=False
    )
    await run_advisor_escalation(acore.services, date(2021, 1, 1))
    summaries = await outbox_rows(acore, "advisor_summary")
    assert {r.chat_id for r in summaries} == {SUMMARY_CHAT}
    texts = sorted(decode_message(r.payload).text for r in summaries)
    assert texts[0].startswith("Erinnerungen an Berater*innen von BIFA")
    assert "Lea Links: erste Erinnerung" in texts[0]
    assert "Max Muster" in texts[1] and "nicht per Chat erreichbar" in texts[1]


async def test_without_policy_start_nothing_is_sent(database_url: str, clock: FixedClock) -> None:
    core = await Core.create(advisor_settings(database_url, advisor_policy_start=None), clock)
    try:
        await add_advisor(core, date(2015, 1, 1), address=False)
        report = await run_advisor_escalation(core.services, date(2024, 1, 1))
        assert report.disabled and not await step_rows(core)
    finally:
        await core.close()
    # Turning the policy on later recomputes what is due.
    core = await Core.create(advisor_settings(database_url), clock)
    try:
        report = await run_advisor_escalation(core.services, date(2021, 1, 1))
        assert report.unreachable == 1
        assert [s.step for s in await step_rows(core)] == ["legacy_notice"]
    finally:
        await core.close()


async def test_preview_writes_nothing(acore: Core) -> None:
    await add_advisor(acore, date(2019, 4, 1))
    await add_advisor(acore, date(2020, 8, 31), name="Zoe Zukunft")
    policy = advisor_policy(acore.settings)
    async with acore.services.sessions() as session:
        lines, total = await preview(session, policy, date(2021, 1, 1))
    assert total == 1 and [line.step.step for line in lines] == [Step.FIRST_REMINDER]
    async with acore.services.sessions() as session:
        lines, total = await preview(session, policy, date(2022, 5, 31))
    assert total == 2
    assert not await step_rows(acore) and not await outbox_rows(acore)


async def test_two_processes_never_send_twice(postgres: PostgresCluster, clock: FixedClock) -> None:
    """Two bot processes (two engines, two connection pools) run the same day at once."""
    url = postgres.create_database("advisors_concurrent")
    first = await Core.create(advisor_settings(url), clock)
    second = await Core.create(advisor_settings(url), clock)
    try:
        chat = Conversation(first)
        user_ids = [await linked_user(first, chat, f"p{i}") for i in range(40)]
        for i in range(450):
            await add_advisor(
                first,
                date(2019, 1 + i % 3, 1 + i % 28),
                name=f"Person {i}",
                email=f"p{i}@example.org",
                institution=f"Institut {i % 4}",
                user_id=user_ids[i] if i < len(user_ids) else None,
            )
        reports = await asyncio.gather(
            run_advisor_escalation(first.services, date(2021, 3, 1)),
            run_advisor_escalation(second.services, date(2021, 3, 1)),
            run_advisor_escalation(first.services, date(2021, 3, 1)),
        )
        handled = sum(r.advisors for r in reports)
        assert handled == 450  # each advisor handled by exactly one of the runs
        async with first.services.sessions() as session:
            steps = await session.scalar(select(func.count()).select_from(AdvisorStep))
            letters = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.purpose == "advisor_escalation")
            )
            sent_texts = Counter(
                (row.user_id, decode_message(row.payload).text)
                for row in await session.scalars(
                    select(OutboxMessage).where(OutboxMessage.purpose == "advisor_escalation")
                )
            )
            duplicates = sum(1 for count in sent_texts.values() if count > 1)
            unreported = await session.scalar(
                select(func.count())
                .select_from(AdvisorStep)
                .where(AdvisorStep.reported_at.is_(None))
            )
            with_letter = await session.scalar(
                select(func.count())
                .select_from(AdvisorStep)
                .where(AdvisorStep.outbox_key.is_not(None))
            )
        assert steps == sum(len(r.steps) for r in reports)
        assert letters == with_letter == sum(r.sent for r in reports) > 0
        assert duplicates == 0 and unreported == 0
        # Both processes again, later the same day: nothing new.
        again = await asyncio.gather(
            run_advisor_escalation(first.services, date(2021, 3, 1)),
            run_advisor_escalation(second.services, date(2021, 3, 1)),
        )
        assert sum(len(r.steps) for r in again) == 0
        assert len(await outbox_rows(first, "advisor_escalation")) == letters
    finally:
        await first.close()
        await second.close()


@st.composite
def histories(draw: st.DrawFn) -> AdvisorHistory:
    starts = draw(st.lists(st.dates(date(2016, 1, 1), date(2024, 12, 31)), min_size=1, max_size=3))
    done = draw(
        st.lists(
            st.tuples(st.sampled_from(list(Step)), st.sampled_from(starts), st.booleans()),
            max_size=4,
        )
    )
    steps = tuple(DoneStep(step, start, start, missed) for step, start, missed in done)
    return AdvisorHistory(tuple(starts), steps)


@settings(max_examples=150, deadline=None)
@given(histories(), st.dates(date(2017, 1, 1), date(2023, 1, 1)))
def test_next_due_on_is_the_first_day_with_work(history: AdvisorHistory, start: date) -> None:
    policy = EscalationPolicy(policy_start=start)
    expected = None
    day = date(2015, 1, 1)
    while day <= date(2030, 1, 1):
        if due_steps(history, policy, day):
            expected = day
            break
        day += timedelta(days=7 if day.day > 28 else 1)
    found = next_due_on(history, policy)
    if expected is None:
        assert found is None or found > date(2029, 12, 1)
    else:
        assert found is not None and found <= expected
        assert due_steps(history, policy, found)
        assert all(not due_steps(history, policy, found - timedelta(days=n)) for n in range(1, 40))


async def test_without_admin_chats_the_summary_chat_gets_the_admin_report(
    sqlite_url: str, clock: FixedClock
) -> None:
    core = await Core.create(advisor_settings(sqlite_url, admin_chats=""), clock)
    try:
        await add_advisor(core, date(2019, 4, 1), name="Nina Nolink", address=False)
        await run_advisor_escalation(core.services, date(2021, 1, 1))
        [admin] = await outbox_rows(core, "advisor_admin_report")
        assert admin.chat_id == SUMMARY_CHAT
        assert "Konnte nicht erreicht werden: 1" in decode_message(admin.payload).text
    finally:
        await core.close()


async def test_without_any_destination_steps_stay_unreported(
    sqlite_url: str, clock: FixedClock
) -> None:
    settings = advisor_settings(sqlite_url, admin_chats="", advisor_summary_chat="")
    core = await Core.create(settings, clock)
    try:
        await add_advisor(core, date(2019, 4, 1), address=False)
        report = await run_advisor_escalation(core.services, date(2021, 1, 1))
        assert report.unreported == 1 and not await outbox_rows(core)
    finally:
        await core.close()
    # Configured later: the next run reports what was left.
    core = await Core.create(advisor_settings(sqlite_url), clock)
    try:
        report = await run_advisor_escalation(core.services, date(2021, 1, 2))
        assert report.unreported == 0 and report.summaries == 2
    finally:
        await core.close()


def test_settings_are_validated() -> None:
    from bot.core.settings import SettingsError

    with pytest.raises(SettingsError) as error:
        load_settings(
            _env_file=None,
            admin_chats="telegram",
            advisor_summary_chat="telegram:-1,telegram:-2",
        )
    text = str(error.value)
    assert "ADMIN_CHATS: Value error, 'telegram' is not PLATFORM:ID" in text
    assert "ADVISOR_SUMMARY_CHAT: Value error, give one chat as PLATFORM:CHAT_ID" in text
    with pytest.raises(SettingsError, match="policy months must be strictly increasing"):
        load_settings(_env_file=None, advisor_final_notice_months=30)
    settings = load_settings(
        _env_file=None, admin_users="telegram:42, matrix:@anna:example.org", admin_chats=""
    )
    assert settings.admin_user_refs == (("telegram", "42"), ("matrix", "@anna:example.org"))
    assert settings.advisor_policy_start is None and advisor_policy(settings) is None


async def test_linked_without_private_chat_is_reported_and_the_letter_waits(
    acore: Core,
) -> None:
    chat = Conversation(acore)
    quiet = person("quinn")
    await chat.say(quiet, "/hilfe", GROUP)  # known from a group only: no private chat yet
    async with acore.services.sessions() as session:
        from storage.models import Identity

        user_id = await session.scalar(
            select(Identity.user_id).where(Identity.platform_user_id == "quinn")
        )
    await add_advisor(acore, date(2019, 4, 1), name="Quinn Quiet", user_id=user_id)
    report = await run_advisor_escalation(acore.services, date(2021, 1, 1))
    assert (report.unreachable, report.sent) == (1, 0)
    [letter] = await outbox_rows(acore, "advisor_escalation")
    assert letter.status == OutboxStatus.WAITING_FOR_DM.value
    [admin] = await outbox_rows(acore, "advisor_admin_report")
    assert "Quinn Quiet" in decode_message(admin.payload).text
    await chat.say(quiet, "/start", dm(quiet))  # opens the private chat: the letter goes out
    [letter] = await outbox_rows(acore, "advisor_escalation")
    assert letter.status == OutboxStatus.PENDING.value and letter.chat_id == "quinn"
