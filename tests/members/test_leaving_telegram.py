"""Membership follows the chat on Telegram, end to end: the real bot on the fake Bot API,
which sends chat_member updates only while the bot is a group admin and my_chat_member
updates always, like Telegram."""

from __future__ import annotations

from tests.fake_telegram import FakeTelegram
from tests.telegram_bot import ANNA, BERND, CLARA, GROUP, TelegramBot, converse

MEETING = '/sitzung 15.06.2037 9-12 Uhr "AG-Sitzung" | https://meet.ex/geheim'


def documents_to(telegram: FakeTelegram, chat_id: int) -> list[str]:
    return [m.document.filename for m in telegram.sent if m.chat_id == chat_id and m.document]


async def registered(telegram: FakeTelegram) -> None:
    """AG Transfer registered by Anna; Bernd and Clara joined; all opened private chats."""
    for who in (ANNA, BERND, CLARA):
        await converse(telegram, who, who, "/start")
    await converse(telegram, GROUP, ANNA, '/registrieren ag "AG Transfer"')
    for who in (BERND, CLARA):
        await converse(telegram, GROUP, who, "/beitreten")


async def test_removed_or_banned_members_get_no_invitation(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    await registered(telegram)
    telegram.set_bot_admin(GROUP, True, by=ANNA)
    telegram.remove_member(GROUP, BERND, by=ANNA)
    telegram.remove_member(GROUP, CLARA, by=ANNA, ban=True)
    await converse(telegram, GROUP, ANNA, MEETING)
    await telegram.wait_until(
        lambda: documents_to(telegram, ANNA) == ["sitzung-1.ics"],
        timeout=15,
        what="Anna's invitation",
    )
    await converse(telegram, ANNA, ANNA, "/hilfe")  # the worker had its turn for all three
    assert documents_to(telegram, BERND) == [] and documents_to(telegram, CLARA) == []
    assert not [m for m in telegram.sent if m.chat_id == BERND and "geheim" in (m.text or "")]


async def test_a_member_who_left_and_writes_again_is_invited_again(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    await registered(telegram)
    telegram.set_bot_admin(GROUP, True, by=ANNA)
    telegram.leave_group(GROUP, BERND)
    await converse(telegram, GROUP, BERND, "/beitreten")  # back in the chat, writes again
    await converse(telegram, GROUP, ANNA, MEETING)
    await telegram.wait_until(
        lambda: documents_to(telegram, BERND) == ["sitzung-1.ics"],
        timeout=15,
        what="Bernd's invitation",
    )


async def test_the_chair_is_told_once_when_the_bot_is_no_admin(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    await registered(telegram)
    telegram.set_bot_admin(GROUP, True, by=ANNA)
    telegram.set_bot_admin(GROUP, False, by=ANNA)
    telegram.set_bot_admin(GROUP, False, by=ANNA)
    await telegram.wait_until(
        lambda: any("Admin" in (m.text or "") for m in telegram.sent if m.chat_id == GROUP),
        timeout=15,
        what="the request to make the bot an admin",
    )
    await converse(telegram, GROUP, ANNA, "/hilfe")
    asks = [m for m in telegram.sent if m.chat_id == GROUP and "zum Admin" in (m.text or "")]
    assert len(asks) == 1


async def test_bot_removed_from_the_group_tells_the_chair_privately(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    await registered(telegram)
    telegram.kick_bot(GROUP, by=BERND)
    await telegram.wait_until(
        lambda: any(
            "entfernt" in (m.text or "") and "AG Transfer" in (m.text or "")
            for m in telegram.sent
            if m.chat_id == ANNA
        ),
        timeout=15,
        what="the chair's note that the bot was removed",
    )
    assert not [m for m in telegram.sent if m.chat_id == BERND and "entfernt" in (m.text or "")]


async def test_a_bot_added_without_admin_rights_asks_for_them_before_registration(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    telegram.add_bot(GROUP, by=ANNA)  # the usual order: add the bot, then register
    await telegram.wait_until(
        lambda: any("zum Admin" in (m.text or "") for m in telegram.sent if m.chat_id == GROUP),
        timeout=15,
        what="the request to make the bot an admin",
    )
    await registered(telegram)
    asks = [m for m in telegram.sent if m.chat_id == GROUP and "zum Admin" in (m.text or "")]
    assert len(asks) == 1


async def test_a_bot_added_again_is_back_in_the_groups_chat(
    telegram_bot: TelegramBot, telegram: FakeTelegram
) -> None:
    """After being added again, the chat is the group's again: a second removal is news."""
    await registered(telegram)

    def notes() -> int:
        return len([m for m in telegram.sent if m.chat_id == ANNA and "entfernt" in (m.text or "")])

    telegram.kick_bot(GROUP, by=BERND)
    await telegram.wait_until(lambda: notes() == 1, timeout=15, what="the first note")
    telegram.add_bot(GROUP, by=ANNA, admin=True)
    telegram.kick_bot(GROUP, by=BERND)
    await telegram.wait_until(lambda: notes() == 2, timeout=15, what="the second note")
