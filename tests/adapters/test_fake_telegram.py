"""Proves the fake Bot API against the real python-telegram-bot, so e2e tests can trust it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Sequence

import pytest
import pytest_asyncio
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)
from telegram.request import HTTPXRequest

from tests.fake_telegram import FakeTelegram

pytestmark = pytest.mark.asyncio

ALICE, BOB, CAROL = 1001, 1002, 1003
GROUP = -100123


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        server.add_user(ALICE, "Alice", "alice", started=True)
        server.add_user(BOB, "Bob", None, language_code="en", started=True)
        server.add_user(CAROL, "Carol", "carol")  # never opened the bot's chat
        server.add_group(GROUP, "AG Physik", admins=[ALICE], members=[BOB])
        yield server


@pytest_asyncio.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    client = Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url)
    async with client:
        yield client


async def start_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"Hallo {update.effective_user.first_name}!")


async def vote_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("Ja", callback_data="vote:yes")],
         [InlineKeyboardButton("Nein", callback_data="vote:no")]]
    )  # fmt: skip
    assert update.effective_message is not None
    await update.effective_message.reply_text("<b>Abstimmen?</b>", "HTML", reply_markup=keyboard)


async def vote_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Danke")
    await query.edit_message_text(f"Gewählt: {query.data}")


@contextlib.asynccontextmanager
async def polling_app(
    fake: FakeTelegram, handlers: Sequence[BaseHandler]
) -> AsyncIterator[Application]:
    """Run the real PTB Application against the fake with long polling."""
    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    for handler in handlers:
        app.add_handler(handler)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_polling_commands_and_buttons(fake: FakeTelegram) -> None:
    handlers = [
        CommandHandler("start", start_cmd),
        CommandHandler("abstimmung", vote_cmd),
        CallbackQueryHandler(vote_button, pattern=r"^vote:"),
    ]
    async with polling_app(fake, handlers):
        update = fake.send_text(ALICE, ALICE, "/start")
        assert update["message"]["entities"] == [{"offset": 0, "length": 6, "type": "bot_command"}]
        [reply] = await fake.wait_for_messages(chat_id=ALICE, timeout=5)
        assert reply.text == "Hallo Alice!"
        assert reply.reply_to_message_id is None  # PTB quotes only outside private chats
        assert reply.message_id == update["message"]["message_id"] + 1  # ids grow per chat

        group_update = fake.send_text(GROUP, BOB, "/start@ag_test_bot")
        [group_reply] = await fake.wait_for_messages(chat_id=GROUP)
        assert group_reply.text == "Hallo Bob!"
        assert group_reply.reply_to_message_id == group_update["message"]["message_id"]

        fake.send_text(GROUP, ALICE, "/abstimmung")
        [poll] = await fake.wait_for_messages(GROUP, predicate=lambda m: m.callback_data != [])
        assert poll.text == "Abstimmen?" and poll.raw_text == "<b>Abstimmen?</b>"
        assert poll.entities == [{"type": "bold", "offset": 0, "length": 10}]
        with pytest.raises(ValueError, match=r"(?i)no button"):
            fake.press_button(GROUP, poll.message_id, BOB, "vote:maybe")
        fake.press_button(GROUP, poll.message_id, BOB, "vote:no")
        await fake.wait_for_messages(GROUP, predicate=lambda m: m.text == "Gewählt: vote:no")
        assert poll.edited and poll.reply_markup is None  # text edit drops the keyboard
        assert [v.text for v in poll.history] == ["Abstimmen?", "Gewählt: vote:no"]
        assert [a.text for a in fake.answered_callbacks] == ["Danke"]
    assert fake.calls[0].method == "getMe"
    assert not fake.errors


async def test_webhook_mode_with_secret(fake: FakeTelegram, bot: Bot) -> None:
    app = ApplicationBuilder().token(fake.token).base_url(fake.base_url).build()
    app.add_handler(CommandHandler("start", start_cmd))
    port = free_port()
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="hook",
            webhook_url=f"http://127.0.0.1:{port}/hook",
            secret_token="geheim_123",
        )
        try:
            assert fake.webhook_secret == "geheim_123"
            fake.send_text(BOB, BOB, "/start")
            [reply] = await fake.wait_for_messages(chat_id=BOB)
            assert reply.text == "Hallo Bob!"
            with pytest.raises(Conflict, match=r"(?i)webhook is active"):
                await bot.get_updates()
        finally:
            await app.updater.stop()
            await app.stop()
    info = await bot.get_webhook_info()
    assert info.url.endswith("/hook") and info.pending_update_count == 0


async def test_webhook_retries_until_2xx(fake: FakeTelegram, bot: Bot) -> None:
    received: list[tuple[str | None, dict]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=500 if len(received) == 1 else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="abc")
        update = fake.send_text(ALICE, ALICE, "hallo")
        await fake.wait_until(lambda: fake.webhook_deliveries == 1, what="webhook delivery")
        assert [body for _, body in received] == [update, update]
        assert {secret for secret, _ in received} == {"abc"}
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 0 and "500" in (info.last_error_message or "")
        assert await bot.delete_webhook()
        assert await bot.get_updates(timeout=0) == ()
    finally:
        await runner.cleanup()


async def test_get_updates_offsets_limit_and_long_poll(fake: FakeTelegram, bot: Bot) -> None:
    ids = [fake.send_text(ALICE, ALICE, f"m{i}")["update_id"] for i in range(4)]
    assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == ids[3:]
    assert await bot.get_updates(offset=ids[3] + 1) == ()

    started = time.monotonic()
    waiting = asyncio.create_task(bot.get_updates(timeout=3))
    await asyncio.sleep(0.1)
    fake.send_text(BOB, BOB, "wach auf")
    [update] = await asyncio.wait_for(waiting, 2)
    assert update.message.text == "wach auf" and time.monotonic() - started < 1.5

    started = time.monotonic()
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0.3) == ()
    assert time.monotonic() - started >= 0.25

    async with Bot(fake.token, base_url=fake.base_url) as second_instance:
        first = asyncio.create_task(bot.get_updates(offset=update.update_id + 1, timeout=5))
        await asyncio.sleep(0.1)
        await second_instance.get_updates(timeout=0)
        with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates"):
            await asyncio.wait_for(first, 2)


@pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")
async def test_rate_limit_raises_retry_after(fake: FakeTelegram, bot: Bot) -> None:
    fake.rate_limits(enabled=True, per_chat_per_s=1)
    await bot.send_message(ALICE, "eins")
    with pytest.raises(RetryAfter, match=r"Retry in 1 seconds"):
        await bot.send_message(ALICE, "zwei")
    assert fake.errors[-1].description == "Too Many Requests: retry after 1"
    assert fake.count_429 == 1 and [m.text for m in fake.sent] == ["eins"]
    await bot.send_message(BOB, "andere Chat-ID ist frei")  # limits are per chat

    fake.rate_limits(enabled=True, global_per_s=100, per_chat_per_s=100, per_group_per_min=2)
    await bot.send_message(GROUP, "a")
    await bot.send_message(GROUP, "b")
    with pytest.raises(RetryAfter):
        await bot.send_message(GROUP, "c")
    assert fake.errors[-1].description.startswith("Too Many Requests: retry after ")


async def test_forbidden_and_bad_requests(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(Forbidden, match=r"(?i)can't initiate conversation"):
        await bot.send_message(CAROL, "hi")
    fake.send_text(CAROL, CAROL, "hallo bot")
    await bot.send_message(CAROL, "hi")
    fake.block_bot(CAROL)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(CAROL, "hi")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "hi")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(GROUP, "x" * 4097)
    await bot.send_message(GROUP, "x" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(GROUP, "   ")
    with pytest.raises(BadRequest, match=r"(?i)unsupported parse_mode"):
        await bot.send_message(GROUP, "x", parse_mode="Fancy")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities: Can't find end tag"):
        await bot.send_message(GROUP, "<b>offen", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r'(?i)Unsupported start tag "foo"'):
        await bot.send_message(GROUP, "<foo>x</foo>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)Character '!' is reserved"):
        await bot.send_message(GROUP, "Hallo!", parse_mode=ParseMode.MARKDOWN_V2)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(GROUP, "x", reply_markup=too_long)
    with pytest.raises(BadRequest, match=r"(?i)Array of Arrays"):
        await bot.send_message(GROUP, "x", reply_markup={"inline_keyboard": [{"text": "a"}]})
    assert len(fake.messages_in(GROUP)) == 1


async def test_edit_delete_and_callback_answers(fake: FakeTelegram, bot: Bot) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Los", callback_data="go")]])
    msg = await bot.send_message(GROUP, "Start", reply_markup=markup)
    assert msg.reply_markup == markup and msg.from_user.username == "ag_test_bot"
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Start", GROUP, msg.message_id, reply_markup=markup)
    edited = await bot.edit_message_reply_markup(GROUP, msg.message_id, reply_markup=None)
    assert edited.reply_markup is None and edited.edit_date is not None

    await bot.edit_message_reply_markup(GROUP, msg.message_id, reply_markup=markup)
    update = fake.press_button(GROUP, msg.message_id, BOB, "go")
    query_id = update["callback_query"]["id"]
    assert update["callback_query"]["message"]["reply_markup"] == markup.to_dict()
    assert await bot.answer_callback_query(query_id, text="ok", show_alert=True)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("12345")
    assert fake.answered_callbacks[0].show_alert

    user_msg = fake.send_text(GROUP, BOB, "nicht löschbar")["message"]["message_id"]
    with pytest.raises(BadRequest, match=r"(?i)can't be deleted"):
        await bot.delete_message(GROUP, user_msg)
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("x", GROUP, user_msg)
    assert await bot.delete_message(GROUP, msg.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(GROUP, msg.message_id)
    assert fake.messages_in(GROUP) == [] and fake.sent[0].deleted


async def test_send_document_and_download(fake: FakeTelegram, bot: Bot) -> None:
    data = "Name;Rolle\nAlice;Leitung\nBjörn;Mitglied\n".encode()
    msg = await bot.send_document(
        GROUP, data, filename="mitglieder.csv", caption="<i>Export</i>", parse_mode="HTML"
    )
    [sent] = fake.messages_in(GROUP)
    assert sent.document is not None and sent.document.data == data
    assert sent.document.filename == "mitglieder.csv" and sent.document.mime_type == "text/csv"
    assert sent.text == "Export" and msg.caption == "Export"
    assert msg.document.file_name == "mitglieder.csv" and msg.document.file_size == len(data)
    assert fake.calls_of("sendDocument")[0]["document"]["size"] == len(data)
    tg_file = await bot.get_file(msg.document.file_id)
    assert bytes(await tg_file.download_as_bytearray()) == data


async def test_chat_info_members_and_commands(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_group(-1001234567890, "AG Chemie", admins=[BOB], owner=ALICE, bot_is_admin=True)
    chat = await bot.get_chat(GROUP)
    assert (chat.type, chat.title) == ("group", "AG Physik")
    assert (await bot.get_chat(-1001234567890)).type == "supergroup"
    assert (await bot.get_chat(ALICE)).first_name == "Alice"
    assert (await bot.get_chat_member(GROUP, ALICE)).status == "administrator"
    assert (await bot.get_chat_member(GROUP, BOB)).status == "member"
    assert (await bot.get_chat_member(-1001234567890, BOB)).status == "administrator"
    admins = await bot.get_chat_administrators(-1001234567890)
    assert [(a.user.id, a.status) for a in admins] == [
        (ALICE, "creator"),
        (BOB, "administrator"),
        (bot.id, "administrator"),
    ]
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.get_chat(-999)

    commands = [BotCommand("start", "Starten"), BotCommand("hilfe", "Hilfe anzeigen")]
    assert await bot.set_my_commands(commands)
    assert await bot.set_my_commands(commands[:1], scope=BotCommandScopeChat(GROUP))
    assert list(await bot.get_my_commands()) == commands
    assert list(await bot.get_my_commands(scope=BotCommandScopeChat(GROUP))) == commands[:1]
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Groß", "x")])


async def test_auth_unknown_method_faults_and_logout(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=fake.base_url):
            pass
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": GROUP})

    fake.fail_next("sendMessage", 502)
    with pytest.raises(NetworkError, match=r"(?i)Bad Gateway"):
        await bot.send_message(GROUP, "x")
    await bot.send_message(GROUP, "x")

    fake.delay("sendMessage", 2.0)
    slow = Bot(fake.token, base_url=fake.base_url, request=HTTPXRequest(read_timeout=0.2))
    async with slow:
        with pytest.raises(TimedOut):
            await slow.send_message(GROUP, "y")

    assert await bot.close()
    assert await bot.log_out()
    with pytest.raises(InvalidToken):
        await bot.get_me()


async def test_wait_for_messages_reports_on_timeout(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(GROUP, "etwas anderes")
    with pytest.raises(BadRequest):
        await bot.send_message(GROUP, "<b>", parse_mode="HTML")
    with pytest.raises(AssertionError) as exc_info:
        await fake.wait_for_messages(GROUP, count=2, timeout=0.2)
    report = str(exc_info.value)
    assert "'etwas anderes'" in report and "Can't find end tag" in report


async def test_stop_releases_long_poll_promptly() -> None:
    fake = FakeTelegram()
    await fake.start()
    bot = Bot(fake.token, base_url=fake.base_url)
    async with bot:
        poll = asyncio.create_task(bot.get_updates(timeout=30))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await fake.stop()
        assert await asyncio.wait_for(poll, 2) == ()
        assert time.monotonic() - started < 1.5


async def test_member_changes_reach_the_bot_like_on_telegram(fake: FakeTelegram, bot: Bot) -> None:
    """chat_member updates only while the bot is an admin there; my_chat_member always;
    getChatMember tells the state after the change."""
    allowed = ["message", "chat_member", "my_chat_member"]
    fake.remove_member(GROUP, BOB, by=ALICE)  # the bot is no admin: Telegram says nothing
    assert await bot.get_updates(timeout=0, allowed_updates=allowed) == ()
    assert (await bot.get_chat_member(GROUP, BOB)).status == "left"

    fake.set_bot_admin(GROUP, True, by=ALICE)
    fake.send_text(GROUP, BOB, "wieder da")
    fake.promote(GROUP, BOB, by=ALICE)
    fake.demote(GROUP, BOB, by=ALICE)
    fake.remove_member(GROUP, BOB, by=ALICE, ban=True)
    fake.kick_bot(GROUP, by=ALICE)
    updates = await bot.get_updates(timeout=0, allowed_updates=allowed)
    changes = [
        (
            "mine" if u.my_chat_member else "member",
            (u.my_chat_member or u.chat_member).old_chat_member.status,
            (u.my_chat_member or u.chat_member).new_chat_member.status,
        )
        for u in updates
        if u.my_chat_member or u.chat_member
    ]
    assert changes == [
        ("mine", "member", "administrator"),
        ("member", "member", "administrator"),
        ("member", "administrator", "member"),
        ("member", "member", "kicked"),
        ("mine", "administrator", "kicked"),
    ]
    assert updates[-1].my_chat_member.from_user.id == ALICE
    assert (await bot.get_chat_member(GROUP, BOB)).status == "kicked"
    assert (await bot.get_chat_member(GROUP, bot.id)).status == "kicked"


async def test_get_chat_member_answers_every_status_and_error_like_telegram(
    fake: FakeTelegram, bot: Bot
) -> None:
    """creator, administrator, member, restricted (in the chat or not), left, kicked, and the
    Bot API's errors for an unknown chat or user; PTB parses each into its own class."""
    fake.add_user(2001, "Dora", "dora")
    fake.add_user(2002, "Emil", "emil")
    fake.add_group(-1009, "AG Recht", owner=ALICE, admins=[BOB], members=[CAROL, 2001, 2002])
    fake.restrict_member(-1009, 2001, by=ALICE)
    fake.restrict_member(-1009, 2002, by=ALICE)
    fake.leave_group(-1009, 2002)  # restricted and gone: still "restricted", not a member
    fake.remove_member(-1009, CAROL, by=ALICE, ban=True)
    statuses = {
        user: await bot.get_chat_member(-1009, user) for user in (ALICE, BOB, 2001, 2002, CAROL)
    }
    assert {user: m.status for user, m in statuses.items()} == {
        ALICE: "creator",
        BOB: "administrator",
        2001: "restricted",
        2002: "restricted",
        CAROL: "kicked",
    }
    assert statuses[2001].is_member is True and statuses[2002].is_member is False
    assert statuses[2001].can_send_messages is False
    assert (await bot.get_chat_member(GROUP, CAROL)).status == "left"  # never joined
    assert (await bot.get_chat_member(GROUP, bot.id)).status == "member"
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.get_chat_member(-4242, ALICE)
    with pytest.raises(BadRequest, match=r"(?i)user not found"):
        await bot.get_chat_member(GROUP, 999_999)
