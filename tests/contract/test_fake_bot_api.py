"""The fake Bot API must answer and refuse like api.telegram.org for real clients."""

from __future__ import annotations

import asyncio
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiohttp import web

from testkit.fake_bot_api import FakeBotAPI, FakeUser, format_text

pytestmark = pytest.mark.asyncio

TOKEN = "123456:TEST-TOKEN"
CHAT = 1001


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeBotAPI]:
    api = FakeBotAPI(token=TOKEN, bot_username="fake_test_bot")
    await api.start()
    yield api
    await api.stop()


@pytest.fixture
def user(server: FakeBotAPI) -> FakeUser:
    return server.user(CHAT, first_name="Li", language_code="zh-hans")


def make_bot(server: FakeBotAPI, token: str = TOKEN) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
    return Bot(token, session=session)


@pytest_asyncio.fixture
async def bot(server: FakeBotAPI) -> AsyncIterator[Bot]:
    client = make_bot(server)
    yield client
    await client.session.close()


async def raw_call(
    server: FakeBotAPI,
    method: str,
    *,
    data: dict[str, Any] | None = None,
    json_body: dict[str, Any] | None = None,
    query: dict[str, str] | None = None,
    token: str = TOKEN,
) -> tuple[int, dict[str, Any]]:
    url = f"{server.base_url}/bot{token}/{method}"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=data, json=json_body, params=query) as response,
    ):
        return response.status, await response.json()


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data) for text, data in row]
            for row in rows
        ]
    )


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload)
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


# ------------------------------------------------------------------ basics


async def test_get_me_parses_in_aiogram(bot: Bot, server: FakeBotAPI) -> None:
    me = await bot.get_me()
    assert me.is_bot
    assert me.id == 123456
    assert me.username == "fake_test_bot"
    assert me.can_join_groups is True
    assert me.supports_inline_queries is False
    assert server.calls[-1].method == "getMe"


async def test_wrong_token_is_unauthorized(server: FakeBotAPI) -> None:
    status, body = await raw_call(server, "getMe", token="654321:WRONG")
    assert status == 401
    assert body == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    stranger = make_bot(server, token="654321:WRONG")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await stranger.get_me()
    finally:
        await stranger.session.close()


async def test_unknown_method_is_404_and_names_are_case_insensitive(server: FakeBotAPI) -> None:
    status, body = await raw_call(server, "sendMessageNow")
    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}
    status, body = await raw_call(server, "GETME")
    assert status == 200
    assert body["result"]["username"] == "fake_test_bot"


async def test_parameters_accepted_as_query_json_and_form(
    server: FakeBotAPI, user: FakeUser
) -> None:
    markup = '{"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}'
    status, _ = await raw_call(server, "sendMessage", query={"chat_id": str(CHAT), "text": "q"})
    assert status == 200
    status, body = await raw_call(
        server,
        "sendMessage",
        json_body={
            "chat_id": CHAT,
            "text": "j",
            "reply_markup": {"inline_keyboard": [[{"text": "B", "callback_data": "b"}]]},
        },
    )
    assert status == 200
    assert body["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "B"
    status, body = await raw_call(
        server, "sendMessage", data={"chat_id": str(CHAT), "text": "f", "reply_markup": markup}
    )
    assert status == 200
    assert body["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a"
    texts = [m.text for m in await user.collect(count=3, timeout=2)]
    assert texts == ["q", "j", "f"]


async def test_missing_required_parameters(bot: Bot, server: FakeBotAPI, user: FakeUser) -> None:
    # aiogram drops empty values from the form, so the server sees no chat_id at all.
    with pytest.raises(TelegramBadRequest, match="chat_id is empty"):
        await bot.send_message(chat_id="", text="hi")
    status, body = await raw_call(server, "sendMessage", data={"chat_id": str(CHAT)})
    assert (status, body["description"]) == (400, "Bad Request: message text is empty")
    status, body = await raw_call(server, "answerCallbackQuery")
    assert status == 400
    assert body["description"] == 'Bad Request: parameter "callback_query_id" is required'
    status, body = await raw_call(server, "sendDocument", data={"chat_id": str(CHAT)})
    assert body["description"] == "Bad Request: there is no document in the request"
    # A method without dedicated behaviour still checks its required parameters.
    status, body = await raw_call(server, "setMyDescription")
    assert (status, body["result"]) == (200, True)
    status, body = await raw_call(server, "banChatMember", data={"chat_id": str(CHAT)})
    assert status == 400
    assert body["description"] == "Bad Request: invalid user_id specified"


async def test_unknown_chat_is_not_found_unless_lenient(bot: Bot, server: FakeBotAPI) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(chat_id=4242, text="hello")
    server.strict_chats = False
    message = await bot.send_message(chat_id=4242, text="hello")
    assert message.chat.id == 4242
    assert (await server.user(4242).next_message(timeout=1)).text == "hello"


# ------------------------------------------------------------------ messages


async def test_send_message_with_inline_keyboard_round_trips(bot: Bot, user: FakeUser) -> None:
    sent = await bot.send_message(
        CHAT, "Eligible?", reply_markup=keyboard([("是", "yes"), ("否", "no")])
    )
    assert sent.chat.id == CHAT
    assert sent.chat.type == "private"
    assert sent.from_user is not None and sent.from_user.is_bot
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][1].callback_data == "no"

    reply = await user.next_message(timeout=1)
    assert reply.text == "Eligible?"
    assert reply.buttons == [["是", "否"]]
    assert reply.button_data == [["yes", "no"]]
    assert not reply.edited
    assert user.transcript == [reply]


async def test_html_is_validated_and_stripped_like_telegram(bot: Bot, user: FakeUser) -> None:
    sent = await bot.send_message(
        CHAT, "  <b>Bold</b> &lt;tag&gt; <a href='https://e.org'>link</a>\n", parse_mode="HTML"
    )
    assert sent.text == "Bold <tag> link"
    assert sent.entities is not None
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 4),
        ("text_link", 11, 4),
    ]
    reply = await user.next_message(timeout=1)
    assert reply.source_text is not None and reply.source_text.startswith("  <b>")

    for bad, detail in [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<br>line", 'Unsupported start tag "br" at byte offset 0'),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
    ]:
        with pytest.raises(TelegramBadRequest, match="can't parse entities") as caught:
            await bot.send_message(CHAT, bad, parse_mode="HTML")
        assert detail in caught.value.message
    with pytest.raises(TelegramBadRequest, match=r"Character '\.' is reserved"):
        await bot.send_message(CHAT, "v1.2", parse_mode="MarkdownV2")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(CHAT, "<b> </b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(CHAT, "x" * 4097)
    await bot.send_message(CHAT, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")


async def test_format_text_counts_offsets_in_utf16() -> None:
    parsed = format_text("😀 <i>emoji</i>", "HTML")
    assert parsed.text == "😀 emoji"
    assert parsed.entities == [{"type": "italic", "offset": 3, "length": 5}]


async def test_callback_data_is_limited_to_64_bytes(bot: Bot, user: FakeUser) -> None:
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "x", reply_markup=keyboard([("A", "a" * 65)]))
    # 22 CJK characters are 66 bytes: bytes count, not characters.
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "x", reply_markup=keyboard([("A", "是" * 22)]))
    await bot.send_message(CHAT, "x", reply_markup=keyboard([("A", "a" * 64)]))
    no_action = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="plain")]])
    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed"):
        await bot.send_message(CHAT, "x", reply_markup=no_action)


async def test_edit_message_text_and_not_modified(bot: Bot, user: FakeUser) -> None:
    markup = keyboard([("A", "a")])
    sent = await bot.send_message(CHAT, "v1", reply_markup=markup)
    edited = await bot.edit_message_text(
        text="v2", chat_id=CHAT, message_id=sent.message_id, reply_markup=markup
    )
    assert isinstance(edited, Message)
    assert edited.text == "v2"
    assert edited.edit_date is not None

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            text="v2", chat_id=CHAT, message_id=sent.message_id, reply_markup=markup
        )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="v3", chat_id=CHAT, message_id=999)
    # Omitting reply_markup removes the keyboard, so the same text is a modification.
    await bot.edit_message_text(text="v2", chat_id=CHAT, message_id=sent.message_id)
    await bot.edit_message_reply_markup(
        chat_id=CHAT, message_id=sent.message_id, reply_markup=keyboard([("B", "b")])
    )

    outputs = await user.collect(count=4, timeout=1)
    assert [(m.text, m.edited, m.buttons) for m in outputs] == [
        ("v1", False, [["A"]]),
        ("v2", True, [["A"]]),
        ("v2", True, []),
        ("v2", True, [["B"]]),
    ]
    assert await bot.delete_message(CHAT, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(CHAT, sent.message_id)
    assert user.deleted_message_ids == [sent.message_id]


# ------------------------------------------------------------------ updates


async def test_get_updates_long_polls_and_honours_offset(bot: Bot, user: FakeUser) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    assert not poll.done()
    await user.send("/start ref42")
    updates = await asyncio.wait_for(poll, 2)
    assert len(updates) == 1
    message = updates[0].message
    assert message is not None and message.text == "/start ref42"
    assert message.from_user is not None and message.from_user.language_code == "zh-hans"
    assert message.entities is not None
    assert (message.entities[0].type, message.entities[0].length) == ("bot_command", 6)

    # Not confirmed yet: fetched again without offset.
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [updates[0].update_id]
    # offset confirms it; an empty long poll returns [] when the timeout runs out.
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=1) == []


async def test_get_updates_limit_and_allowed_updates(bot: Bot, user: FakeUser) -> None:
    sent = await bot.send_message(CHAT, "pick", reply_markup=keyboard([("A", "a")]))
    await user.send("one")
    await user.press("A")
    await user.send("two")
    first = await bot.get_updates(limit=1, timeout=0)
    assert [u.message.text for u in first if u.message] == ["one"]
    only_callbacks = await bot.get_updates(allowed_updates=["callback_query"], timeout=0)
    assert len(only_callbacks) == 1
    query = only_callbacks[0].callback_query
    assert query is not None and query.data == "a"
    assert query.message is not None and query.message.message_id == sent.message_id


async def test_press_produces_callback_query_that_can_be_answered(
    bot: Bot, server: FakeBotAPI, user: FakeUser
) -> None:
    await bot.send_message(CHAT, "Continue?", reply_markup=keyboard([("是", "yes"), ("否", "no")]))
    pressed = await user.press("是")
    assert pressed.data == "yes"
    updates = await bot.get_updates(timeout=0)
    query = updates[-1].callback_query
    assert query is not None and query.id == pressed.id
    assert query.from_user.id == CHAT

    assert await bot.answer_callback_query(query.id, text="OK")
    answer = await pressed.wait_answer(timeout=1)
    assert (answer.text, answer.show_alert) == ("OK", False)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_callback_query("12345")

    by_data = await user.press("no")
    assert by_data.data == "no"
    with pytest.raises(AssertionError, match="available buttons: '是'"):
        await user.press("maybe", timeout=0.05)


async def test_next_message_timeout_shows_the_transcript(bot: Bot, user: FakeUser) -> None:
    await user.send("hello")
    await bot.send_message(CHAT, "hi there")
    assert (await user.next_message(timeout=1)).text == "hi there"
    with pytest.raises(AssertionError) as caught:
        await user.next_message(timeout=0.05)
    assert "user: hello" in str(caught.value)
    assert "'hi there'" in str(caught.value)
    await user.assert_no_message(within=0.05)


# ------------------------------------------------------------------ failures


async def test_rate_limit_answers_429_with_retry_after(bot: Bot, user: FakeUser) -> None:
    server = FakeBotAPI(token=TOKEN, rate_limit_per_second=2)
    await server.start()
    limited = make_bot(server)
    try:
        server.user(CHAT)
        await limited.send_message(CHAT, "1")
        await limited.send_message(CHAT, "2")
        with pytest.raises(TelegramRetryAfter) as caught:
            await limited.send_message(CHAT, "3")
        assert caught.value.retry_after == 1
        assert server.rate_limited_count == 1
        status, body = await raw_call(server, "sendMessage", data={"chat_id": "1", "text": "x"})
        assert status == 429
        assert body["parameters"] == {"retry_after": 1}
        assert body["description"] == "Too Many Requests: retry after 1"
        # Non-sending methods are never throttled.
        await limited.get_me()
    finally:
        await limited.session.close()
        await server.stop()


async def test_per_chat_limit_and_injected_errors(server: FakeBotAPI, bot: Bot) -> None:
    server.per_chat_limit_per_second = 1
    server.user(1)
    server.user(2)
    await bot.send_message(1, "a")
    await bot.send_message(2, "a")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(1, "b")
    server.fail_next("getMe", error_code=400, description="Bad Request: injected")
    with pytest.raises(TelegramBadRequest, match="injected"):
        await bot.get_me()
    await bot.get_me()


async def test_blocked_user_gets_403(bot: Bot, server: FakeBotAPI, user: FakeUser) -> None:
    user.block()
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(CHAT, "hello?")
    status, body = await raw_call(server, "sendMessage", data={"chat_id": str(CHAT), "text": "x"})
    assert status == 403
    assert body["description"] == "Forbidden: bot was blocked by the user"
    user.unblock()
    await bot.send_message(CHAT, "welcome back")


# ------------------------------------------------------------------ files and commands


async def test_send_document_upload_round_trip(
    bot: Bot, server: FakeBotAPI, user: FakeUser
) -> None:
    payload = "申报书 — PDF body".encode()
    sent = await bot.send_document(
        CHAT,
        BufferedInputFile(payload, filename="申报书.pdf"),
        caption="<b>Your form</b>",
        parse_mode="HTML",
    )
    assert sent.document is not None
    assert sent.document.file_name == "申报书.pdf"
    assert sent.document.file_size == len(payload)
    assert sent.document.mime_type == "application/pdf"
    assert sent.caption == "Your form"

    reply = await user.next_message(timeout=1)
    assert reply.document is not None
    assert (reply.document.filename, reply.document.data) == ("申报书.pdf", payload)
    assert reply.document.caption == "Your form"

    file = await bot.get_file(sent.document.file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == payload

    resent = await bot.send_document(CHAT, sent.document.file_id, caption="again")
    assert resent.document is not None
    assert resent.document.file_id == sent.document.file_id
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(CHAT, "no-such-file-id")


async def test_send_photo_reports_sizes(bot: Bot, user: FakeUser) -> None:
    sent = await bot.send_photo(CHAT, BufferedInputFile(tiny_png(300, 200), filename="c.png"))
    assert sent.photo is not None
    assert (sent.photo[-1].width, sent.photo[-1].height) == (300, 200)
    assert max(sent.photo[0].width, sent.photo[0].height) == 90
    reply = await user.next_message(timeout=1)
    assert reply.photo is not None and reply.photo.data == tiny_png(300, 200)
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(CHAT, BufferedInputFile(b"not an image", filename="x.jpg"))


async def test_user_document_can_be_downloaded_by_the_bot(bot: Bot, user: FakeUser) -> None:
    await user.send_document(b"%PDF-1.4 test", "patent.pdf", caption="mine")
    updates = await bot.get_updates(timeout=0)
    document = updates[0].message.document if updates[0].message else None
    assert document is not None and document.file_name == "patent.pdf"
    file = await bot.get_file(document.file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == b"%PDF-1.4 test"


async def test_set_my_commands_is_validated_and_stored(bot: Bot, server: FakeBotAPI) -> None:
    commands = [
        BotCommand(command="start", description="开始"),
        BotCommand(command="help", description="帮助"),
    ]
    assert await bot.set_my_commands(commands, language_code="zh")
    assert await bot.set_my_commands(commands[:1], scope=BotCommandScopeAllPrivateChats())
    assert server.commands[("default", "zh")] == [
        {"command": "start", "description": "开始"},
        {"command": "help", "description": "帮助"},
    ]
    assert [c.command for c in await bot.get_my_commands(language_code="zh")] == ["start", "help"]
    assert await bot.get_my_commands() == []
    assert list(server.commands) == [("default", "zh"), ("all_private_chats", "")]

    for bad in ["Start", "with-dash", "x" * 33]:
        with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
            await bot.set_my_commands([BotCommand(command=bad, description="d")])
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_DESCRIPTION_INVALID"):
        await bot.set_my_commands([BotCommand(command="ok", description="d" * 257)])
    with pytest.raises(TelegramBadRequest, match="BOT_COMMANDS_TOO_MUCH"):
        await bot.set_my_commands(
            [BotCommand(command=f"c{i}", description="d") for i in range(101)]
        )
    assert await bot.delete_my_commands(language_code="zh")
    assert ("default", "zh") not in server.commands


# ------------------------------------------------------------------ whole bots


async def test_aiogram_dispatcher_conversation(server: FakeBotAPI, bot: Bot) -> None:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer(
            "Are you in Nansha?", reply_markup=keyboard([("是", "in:yes"), ("否", "in:no")])
        )

    @router.callback_query(F.data.startswith("in:"))
    async def answered(query: CallbackQuery) -> None:
        await query.answer("Noted")
        if isinstance(query.message, Message):
            await query.message.edit_text(f"You said {query.data}")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    polling = asyncio.create_task(
        dispatcher.start_polling(
            bot, polling_timeout=1, handle_signals=False, close_bot_session=False
        )
    )
    try:
        user = server.user(7, first_name="Wang")
        await user.send("/start")
        question = await user.next_message(timeout=3)
        assert question.text == "Are you in Nansha?"
        assert question.buttons == [["是", "否"]]
        pressed = await user.press("是")
        edit = await user.next_message(timeout=3)
        assert edit.edited and edit.text == "You said in:yes"
        assert (await pressed.wait_answer(timeout=3)).text == "Noted"
    finally:
        await dispatcher.stop_polling()
        await asyncio.wait_for(polling, 5)


async def test_python_telegram_bot_client(server: FakeBotAPI, user: FakeUser) -> None:
    import telegram

    ptb = telegram.Bot(
        TOKEN, base_url=f"{server.base_url}/bot", base_file_url=f"{server.base_url}/file/bot"
    )
    async with ptb:
        me = await ptb.get_me()
        assert me.username == "fake_test_bot"
        sent = await ptb.send_message(
            CHAT,
            "<i>hello</i>",
            parse_mode="HTML",
            reply_markup=telegram.InlineKeyboardMarkup(
                [[telegram.InlineKeyboardButton("Go", callback_data="go")]]
            ),
        )
        assert sent.text == "hello"
        assert sent.chat.id == CHAT
        # PTB rewrites the description ("Bad Request: can't parse..." -> "Can't parse...").
        with pytest.raises(telegram.error.BadRequest, match=r"(?i)can't find end tag"):
            await ptb.send_message(CHAT, "<b>oops", parse_mode="HTML")
    reply = await user.next_message(timeout=1)
    assert reply.button_data == [["go"]]
    assert reply.entities == [{"type": "italic", "offset": 0, "length": 5}]


@asynccontextmanager
async def webhook_receiver(
    receive: Callable[[web.Request], Awaitable[web.Response]],
) -> AsyncIterator[str]:
    """A bot's webhook endpoint on loopback; yields its URL."""
    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}/hook"
    finally:
        await runner.cleanup()


async def test_webhook_delivery_with_secret(server: FakeBotAPI, user: FakeUser) -> None:
    received: list[tuple[dict[str, Any], str | None]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append(
            (await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        )
        return web.json_response({"method": "sendMessage", "chat_id": CHAT, "text": "via reply"})

    async with webhook_receiver(receive) as url:
        status, _ = await raw_call(
            server, "setWebhook", data={"url": url, "secret_token": "s3cret"}
        )
        assert status == 200
        status, body = await raw_call(server, "getUpdates")
        assert status == 409
        assert body["description"].startswith("Conflict: can't use getUpdates method")
        await user.send("ping")
        reply = await user.next_message(timeout=2)
        assert reply.text == "via reply"
        assert received[0][0]["message"]["text"] == "ping"
        assert received[0][1] == "s3cret"
        status, body = await raw_call(server, "getWebhookInfo")
        assert body["result"]["pending_update_count"] == 0
        await raw_call(server, "deleteWebhook")
        status, body = await raw_call(server, "getUpdates")
        assert (status, body["result"]) == (200, [])


async def test_webhook_posts_chats_in_parallel_each_chat_in_order(server: FakeBotAPI) -> None:
    """Like Telegram: several connections at once, but one chat's updates one by one."""
    release = asyncio.Event()
    in_flight: list[int] = []  # chat ids whose update the receiver is holding
    most_at_once = 0
    received: list[tuple[int, str]] = []

    async def receive(request: web.Request) -> web.Response:
        nonlocal most_at_once
        message = (await request.json())["message"]
        chat = message["chat"]["id"]
        assert chat not in in_flight, "two updates of one chat at once"
        in_flight.append(chat)
        most_at_once = max(most_at_once, len(in_flight))
        received.append((chat, message["text"]))
        await release.wait()
        in_flight.remove(chat)
        return web.Response()

    async with webhook_receiver(receive) as url:
        await raw_call(server, "setWebhook", data={"url": url})
        users = [server.user(2000 + n) for n in range(3)]
        for n in range(3):
            for user in users:
                await user.send(f"m{n}")
        for _ in range(100):  # until every chat has one update in the receiver
            if most_at_once == len(users):
                break
            await asyncio.sleep(0.02)
        assert most_at_once == len(users)
        release.set()
        for _ in range(100):
            if len(received) == 9:
                break
            await asyncio.sleep(0.02)
        for user in users:
            assert [text for chat, text in received if chat == user.id] == ["m0", "m1", "m2"]
        _, body = await raw_call(server, "getWebhookInfo")
        assert body["result"]["pending_update_count"] == 0


async def test_a_failed_webhook_post_is_posted_again_and_updates_can_come_again(
    server: FakeBotAPI, user: FakeUser
) -> None:
    """A post the receiver refuses is retried on its own, not only when another update
    comes; a test may queue an update again (redelivery) and set the next id."""
    received: list[int] = []

    async def receive(request: web.Request) -> web.Response:
        received.append((await request.json())["update_id"])
        return web.Response(status=500 if len(received) == 1 else 200)

    server.next_update_id = 9000  # after a quiet week Telegram picks it at random
    async with webhook_receiver(receive) as url:
        await raw_call(server, "setWebhook", data={"url": url})
        await user.send("ping")
        await server.wait_updates_consumed()
        server.redeliver(server.updates[-1])
        await server.wait_updates_consumed()
    assert received == [9000, 9000, 9000]


async def test_a_group_member_writes_and_presses_in_the_group(server: FakeBotAPI) -> None:
    member = server.user(3100, first_name="Wang")
    group = server.group(-100200, "IP managers", kind="supergroup")
    await group.send_as(member, "/export")
    group.bot_said("old", [[("Stats", "menu:stats")]])
    await group.press_as(member, "Stats")
    message, press = (u for u in server.pending_updates)
    assert message["message"]["chat"] == {
        "id": -100200,
        "type": "supergroup",
        "title": "IP managers",
    }
    assert message["message"]["from"]["id"] == 3100
    query = press["callback_query"]
    assert (query["from"]["id"], query["message"]["chat"]["id"]) == (3100, -100200)
    status, _ = await raw_call(server, "sendMessage", data={"chat_id": -100200, "text": "hi"})
    assert status == 200 and group.transcript[-1].text == "hi"
