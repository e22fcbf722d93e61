"""The contract every transport must keep: the real bot, over HTTP, once per transport:
aiogram and python-telegram-bot against the fake Bot API server on 127.0.0.1, each long
polling and each behind a webhook the server posts updates to; and the web chat, driven
by a browser without JavaScript.

Every scenario here runs on every transport, so a new feature is tested on all of them by
default: add a test with the ``channel`` fixture, not a test of one library. A scenario
that cannot happen in a browser (a group, a sticker, Telegram's command menus) says why in
its parametrisation (``telegram_only``), and is skipped on the web with that reason.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.settings import Settings
from bot.transports.telegram.outgoing import TelegramSender
from forms.definition import Form
from handlers.kernel.render import plain
from handlers.kernel.types import Button, Document, RateLimited, RecipientGone, Reply, Sender
from locales import translator
from testkit.answers import ELIGIBLE_ZH, eligible_answers
from testkit.chat import current_question
from testkit.fake_bot_api import BotMessage, FakeBotAPI, FakeUser
from testkit.telegram import (
    ADMIN,
    FRAMEWORKS,
    TOKEN,
    TRANSPORTS,
    bot_settings,
    next_step,
    running,
    telegram_interview,
)
from testkit.web import WebChannel, WebMessage, WebUser, web_channel

# Where the scenarios run: the Telegram transports, and the web chat.
CHANNELS = (*TRANSPORTS, "web")
Channel = FakeBotAPI | WebChannel


def on_the_web_skipped(why: str) -> Any:
    """The web's place in a parametrisation, skipped: the scenario is Telegram's only."""
    return pytest.param("web", marks=pytest.mark.skip(reason=f"not on the web: {why}"))


def telegram_only(why: str) -> pytest.MarkDecorator:
    """A scenario of the ``channel`` fixture that runs on the Telegram transports only."""
    return pytest.mark.parametrize("channel", [*TRANSPORTS, on_the_web_skipped(why)], indirect=True)


NO_MENUS = "Telegram's command menus (setMyCommands); a web page has no command menu"


@pytest.fixture(params=CHANNELS)
async def channel(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Channel]:
    """The bot on one transport; yields what makes its users: the fake Bot API server, or
    the web chat."""
    if request.param == "web":
        async with web_channel(database_url, admin=ADMIN, bot_username="patentbot_test") as web:
            yield web
        return
    async with FakeBotAPI(token=TOKEN, bot_username="patentbot_test") as server:
        server.user(ADMIN, first_name="Admin")  # has opened a chat with the bot
        async with running(server, bot_settings(server, database_url, request.param)):
            yield server


# ------------------------------------------------------------------ conversations


@pytest.mark.parametrize(
    ("language_code", "locale"), [("zh-hans", "zh_CN"), ("zh-hant", "zh_HK"), ("en", "en")]
)
async def test_a_whole_interview_in_each_language(
    channel: Channel, form: Form, language_code: str, locale: str
) -> None:
    t = translator(locale)
    user = channel.user(1001, first_name="Li", language_code=language_code)
    await user.send("/start")
    welcome = await user.next_message()
    assert "/delete" in (welcome.text or "")  # privacy notice at first contact
    await user.press(t("button.apply"))
    first = await next_step(user, form, locale)
    result = await telegram_interview(user, form, locale, eligible_answers(locale), first)
    assert t("result.eligible") in result
    assert "5.13%" in result


async def test_bad_input_then_back_and_a_disqualifier(channel: Channel, form: Form) -> None:
    t = translator("zh_CN")
    user = channel.user(1002, language_code="zh-hans")
    await user.send("/apply")
    await next_step(user, form, "zh_CN")
    await user.send("<b>甲</b> & 乙公司")  # typed markup is shown as text, not refused by Telegram
    await next_step(user, form, "zh_CN")
    await user.send("123")
    text = await next_step(user, form, "zh_CN")
    assert t("error.uscc_length", length=3) in text
    await user.press(t("button.back"))
    text = await next_step(user, form, "zh_CN")
    assert "<b>甲</b> & 乙公司" in text  # the current answer, literally


@telegram_only("a browser sends no stickers: the page takes typed text and buttons")
async def test_a_sticker_is_answered_never_ignored(channel: FakeBotAPI, form: Form) -> None:
    t = translator("zh_CN")
    user = channel.user(1010, language_code="zh-hans")
    await user.send("/apply")
    await next_step(user, form, "zh_CN")
    await user.send_sticker()
    text = await next_step(user, form, "zh_CN")
    assert t("error.attachment") in text  # and the same question again
    assert current_question(form, "zh_CN", text) == "enterprise_name"
    admin = channel.user(ADMIN)
    await admin.send("/broadcast")
    await admin.next_message()
    await admin.send_sticker()
    assert (await admin.next_message()).text == plain(t("broadcast.unsupported"))


@telegram_only(NO_MENUS)
async def test_command_menus_are_registered_in_every_language(channel: FakeBotAPI) -> None:
    menus = channel.commands
    public = {c["command"] for c in menus[("default", "")]}
    assert {"start", "apply", "language", "help", "cancel", "mydata", "delete"} <= public
    assert "broadcast" not in public
    assert menus[("default", "zh")][1]["description"] == translator("zh_CN")("command.apply")
    assert menus[("default", "en")][1]["description"] == translator("en")("command.apply")
    admin = [cmds for (scope, _), cmds in menus.items() if scope != "default"]
    assert admin and all("broadcast" in {c["command"] for c in cmds} for cmds in admin)


@telegram_only(NO_MENUS)
async def test_an_admin_added_in_the_chat_gets_the_admin_menu_and_loses_it_when_removed(
    channel: FakeBotAPI,
) -> None:
    def admin_menu(user_id: int) -> set[str]:
        return {c["command"] for c in channel.commands.get((f"chat:{user_id}", ""), [])}

    admin, colleague = channel.user(ADMIN), channel.user(4321, language_code="zh-hans")
    await colleague.send("/start")
    await colleague.next_message()
    await admin.send("/admins add 4321")
    await admin.next_message()
    assert "broadcast" in admin_menu(4321)
    await admin.send("/admins remove 4321")
    await admin.next_message()
    assert admin_menu(4321) == set()

    await admin.send("/admins add 5555")  # has never written to the bot: no chat yet
    await admin.next_message()
    newcomer = channel.user(5555, language_code="en")
    await newcomer.send("/start")
    await newcomer.next_message()
    assert "broadcast" in admin_menu(5555)


async def test_mydata_arrives_as_a_document(channel: Channel, form: Form) -> None:
    t = translator("en")
    user = channel.user(1003, language_code="en")
    await user.send("/apply")
    await next_step(user, form, "en")
    await user.send("Acme Ltd")
    await next_step(user, form, "en")
    await user.send("/mydata")
    for _ in range(3):
        message = await user.next_message()
        if message.document is not None:
            break
    assert message.document is not None
    assert message.document.filename == f"patentbot-mydata-{user.id}.json"
    assert message.document.caption == t("mydata.caption")
    assert b"Acme Ltd" in message.document.data


async def test_a_deep_link_to_an_unknown_event_is_answered(channel: Channel) -> None:
    t = translator("zh_CN")
    user = channel.user(1004, language_code="zh-hans")
    await user.send("/start survey-abc")  # what t.me/<bot>?start=survey-abc sends
    if isinstance(channel, WebChannel):  # the code's page: nothing stored, nothing to notify
        (survey,) = await user.collect(count=1)
    else:
        privacy, survey = await user.collect(count=2)
        assert "/delete" in (privacy.text or "")  # first contact: the privacy notice
    assert survey.text == t("survey.unknown", code="abc")


async def test_admin_commands_answer_admins_only(channel: Channel) -> None:
    t = translator("zh_CN")
    admin = channel.user(ADMIN)
    stranger = channel.user(1005, language_code="zh-hans")
    helps = []
    for user in (admin, stranger):
        await user.send("/help")
        helps.append((await user.next_message()).text or "")
        await user.send("/broadcast hello")
    assert "/broadcast" in helps[0] and "/broadcast" not in helps[1]
    assert (await admin.next_message()).text == plain(t("broadcast.usage"))
    assert (await stranger.next_message()).text == t("error.unknown_command")


@telegram_only(
    "a page shows each answer's replies anew: no sent message to edit, no spinner to stop"
)
async def test_pressing_a_button_edits_its_message(channel: FakeBotAPI) -> None:
    user = channel.user(1006, language_code="zh-hans")
    await user.send("/language")
    choice = await user.next_message()
    assert choice.buttons == [["简体中文", "繁體中文", "English"]]
    pressed = await user.press("English")
    edited = await user.next_message()
    assert edited.edited and edited.message_id == choice.message_id
    assert edited.text == translator("en")("language.set", language="English")
    assert not edited.buttons
    assert (await pressed.wait_answer()) is not None  # the spinner was stopped
    menu = await user.next_message()  # then, in English, the menu: what to do next
    assert menu.buttons[0] == [translator("en")("button.apply")] and not menu.edited
    await user.assert_no_message()


async def test_two_users_at_once(channel: Channel, form: Form) -> None:
    t = translator("zh_CN")
    users = [channel.user(2000 + i, language_code="zh-hans") for i in range(2)]

    async def company(user_index: int) -> str:
        user = users[user_index]
        await user.send("/apply")
        await next_step(user, form, "zh_CN")
        await user.send(f"公司{user_index}")
        await next_step(user, form, "zh_CN")
        await user.press(t("button.back"))
        return await next_step(user, form, "zh_CN")

    first, second = await asyncio.gather(company(0), company(1))
    assert "公司0" in first and "公司1" not in first
    assert "公司1" in second and "公司0" not in second


# ------------------------------------------------------------------ updates sent again, ids


async def asked(user: FakeUser, form: Form) -> str | None:
    return current_question(form, "zh_CN", await next_step(user, form, "zh_CN"))


async def answer_up_to_uscc(user: FakeUser, form: Form) -> None:
    """/apply and the enterprise's name: the bot asks for the USCC code."""
    await user.send("/apply")
    assert await asked(user, form) == "enterprise_name"
    await user.send("甲公司")
    assert await asked(user, form) == "uscc"


UPDATE_IDS = on_the_web_skipped(
    "update ids are Telegram's; that a reload or a page posted twice is answered once is "
    "tests/chat/test_web.py's"
)


@pytest.mark.parametrize("transport", [*TRANSPORTS, UPDATE_IDS])
async def test_update_ids_that_jump_down_are_answered(
    transport: str, database_url: str, form: Form
) -> None:
    """After a quiet week Telegram picks the next update id at random, and a new bot token
    starts afresh: a returning user is answered, whatever the new id. (The bot restarts in
    between: the fake, like the Bot API's docs, confirms every id below a poller's offset.)"""
    async with FakeBotAPI(token=TOKEN, bot_username="patentbot_test") as server:
        server.next_update_id = 900_000  # a bot that has served for a while
        settings = bot_settings(server, database_url, transport)
        user = server.user(1201, language_code="zh-hans")
        async with running(server, settings):
            await answer_up_to_uscc(user, form)
        # A week without updates: whatever was left unconfirmed has expired (24 h), and
        # the next update gets a random id, far lower.
        server.expire_pending()
        server.next_update_id = 42
        async with running(server, settings):
            await user.send(ELIGIBLE_ZH["uscc"])
            assert await asked(user, form) == "contact_name"
    async with FakeBotAPI(token="654321:NEW-TOKEN", bot_username="patentbot_test") as server:
        user = server.user(1201, language_code="zh-hans")  # ids start at 1 again
        async with running(server, bot_settings(server, database_url, transport)):
            await user.send(ELIGIBLE_ZH["contact_name"])
            assert await asked(user, form) == "contact_phone"


@pytest.mark.parametrize("transport", [*TRANSPORTS, UPDATE_IDS])
async def test_a_redelivered_update_is_answered_once(
    transport: str, database_url: str, form: Form
) -> None:
    """The bot stopped before Telegram saw an update confirmed, so Telegram sends it again."""
    async with FakeBotAPI(token=TOKEN, bot_username="patentbot_test") as server:
        settings = bot_settings(server, database_url, transport)
        user = server.user(1202, language_code="zh-hans")
        async with running(server, settings):
            await answer_up_to_uscc(user, form)
            answered = server.updates[-1]
        server.redeliver(answered)
        async with running(server, settings):
            await server.wait_updates_consumed()
            await user.send(ELIGIBLE_ZH["uscc"])
            # Answered twice, "甲公司" would meet the USCC question: its error, then this.
            assert await asked(user, form) == "contact_name"
            await user.assert_no_message()
        assert [m.text for m in user.transcript].count(user.transcript[-1].text) == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_press_answered_by_a_process_that_then_died_is_handled(
    transport: str, database_url: str, form: Form
) -> None:
    """A process stopped the button's spinner and died: the press comes again, and
    Telegram refuses a second answer to it; the press is handled all the same."""
    async with FakeBotAPI(token=TOKEN, bot_username="patentbot_test") as server:
        settings = bot_settings(server, database_url, transport)
        user = server.user(1203, language_code="zh-hans")
        async with running(server, settings):
            await user.send("/apply")
            for qid in ("enterprise_name", "uscc", "contact_name", "contact_phone"):
                assert await asked(user, form) == qid
                await user.send(ELIGIBLE_ZH[qid])
            assert await asked(user, form) == "in_nansha"
        press = await user.press(ELIGIBLE_ZH["in_nansha"])
        url = f"{server.api_url}/answerCallbackQuery"
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, json={"callback_query_id": press.id}) as answered,
        ):
            assert answered.status == 200  # by the process that died
        async with running(server, settings):
            assert await asked(user, form) == "cluster"


# ------------------------------------------------------------------ groups


@telegram_only("there are no groups on the web: every visitor has a chat of their own")
async def test_in_a_group_the_bot_reveals_nothing_and_says_once_where_it_works(
    channel: FakeBotAPI,
) -> None:
    """An admin's /export in a group would hand every applicant's data to its members."""
    admin, member = channel.user(ADMIN), channel.user(1301, language_code="en")
    await member.send("/apply")  # someone with an interview under way
    await member.collect(count=2)  # the interview's opening, then its first question
    group = channel.group(-100123, "Nansha IP managers", kind="supergroup")
    await group.send_as(member, "/start@patentbot_test")  # the first word said in the group
    notice = await group.next_message()
    assert notice.text == translator("en")("group.private_only", link="https://t.me/patentbot_test")
    for command in ("/export", "/stats", "/broadcast", "/mydata", "/event", "/help"):
        await group.send_as(admin, command)
    await group.send_as(member, "/mydata")
    await group.send_as(member, "Acme Ltd")  # an answer to the interview under way
    group.bot_said("(an old message)", [[("My data", "menu:mydata"), ("Stats", "menu:stats")]])
    pressed = await group.press_as(member, "My data")
    await group.press_as(admin, "Stats")
    await pressed.wait_answer()  # the press was taken, and came to nothing
    await group.send_as(admin, "/start")  # the last update: every one before it is handled
    await channel.wait_updates_consumed()
    for chat in (group, admin, member):
        await chat.assert_no_message()
    assert group.transcript == [notice]
    assert not channel.calls_to("sendDocument") and not channel.calls_to("sendPhoto")

    # Nobody was recorded from the group: the admin's first private word is a first contact.
    await admin.send("/start")
    assert "/delete" in ((await admin.next_message()).text or "")
    other = channel.group(-100456, "另一个群", kind="group")  # each group is told once
    await other.send_as(channel.user(1302, language_code="zh-hans"), "/export")
    assert (await other.next_message()).text == translator("zh_CN")(
        "group.private_only", link="https://t.me/patentbot_test"
    )


# ------------------------------------------------------------------ the sender (broadcasts)


@asynccontextmanager
async def open_sender(framework: str, settings: Settings) -> AsyncIterator[Sender]:
    if framework == "aiogram":
        from bot.transports.telegram.with_aiogram import AiogramCalls, create_bot

        bot = create_bot(settings)
        try:
            yield TelegramSender(AiogramCalls(bot))
        finally:
            await bot.session.close()
    else:
        from bot.transports.telegram.with_ptb import PtbCalls, create_application

        async with create_application(settings) as application:
            yield TelegramSender(PtbCalls(application.bot))


@pytest.mark.parametrize(
    "framework",
    [*FRAMEWORKS, on_the_web_skipped("no sender yet: broadcasts do not reach web visitors")],
)
# PTB's own RetryAfter warns that retry_after will become a timedelta (PtbCalls handles both).
@pytest.mark.filterwarnings("ignore:Deprecated since version v22.2:DeprecationWarning")
async def test_the_sender_turns_platform_errors_into_neutral_ones(
    framework: str, database_url: str
) -> None:
    async with FakeBotAPI(token=TOKEN) as server:
        settings = bot_settings(server, database_url, framework)
        reader, blocker = server.user(3001), server.user(3002)
        async with open_sender(framework, settings) as sender:
            notice = Reply("<b>通知</b> & more", ((Button("OK", "menu:help"),),))
            await sender.send(reader.chat_id, notice)
            message = await reader.next_message()
            assert (message.text, message.button_data) == ("通知 & more", [["menu:help"]])
            await sender.send(reader.chat_id, Reply(document=Document("a.txt", b"hi", "<i>c</i>")))
            message = await reader.next_message()
            assert message.document is not None
            assert (message.document.data, message.document.caption) == (b"hi", "c")

            server.per_chat_limit_per_second = 1
            await sender.send(reader.chat_id, notice)  # the one message of this second
            with pytest.raises(RateLimited) as limited:
                await sender.send(reader.chat_id, notice)
            assert limited.value.retry_after == 1
            server.per_chat_limit_per_second = None

            blocker.block()
            with pytest.raises(RecipientGone):
                await sender.send(blocker.chat_id, notice)
            with pytest.raises(RecipientGone):
                await sender.send(424242, notice)  # never opened a chat with the bot


@pytest.mark.parametrize(
    "framework", [*FRAMEWORKS, on_the_web_skipped("webhook secrets are Telegram's")]
)
async def test_behind_a_webhook_only_telegram_gets_in(framework: str, database_url: str) -> None:
    async with FakeBotAPI(token=TOKEN) as server:
        settings = bot_settings(server, database_url, f"{framework}+webhook")
        user = server.user(5001, language_code="en")
        async with running(server, settings), aiohttp.ClientSession() as http:
            info = await (await http.post(f"{server.base_url}/bot{TOKEN}/getWebhookInfo")).json()
            assert info["result"]["url"] == str(settings.webhook_url)
            forged = {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "text": "/start",
                    "chat": {"id": user.chat_id, "type": "private"},
                    "from": {"id": user.id, "is_bot": False, "first_name": "Mallory"},
                },
            }
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guess"}):
                async with http.post(str(settings.webhook_url), json=forged, headers=headers) as r:
                    assert r.status == 401
            await user.send("/start")  # through Telegram, which knows the secret
            welcome = await user.next_message()
            assert user.transcript == [welcome]  # the forged updates got no answer
            info = await (await http.post(f"{server.base_url}/bot{TOKEN}/getWebhookInfo")).json()
            assert info["result"]["pending_update_count"] == 0


# ------------------------------------------------------------------ the process


def cli(env: dict[str, str], cwd: Path, *code: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    argv = [sys.executable, "-c", "\n".join(code)] if code else [sys.executable, "-m", "bot.cli"]
    return subprocess.run(
        argv, env={**clean, **env}, cwd=cwd, capture_output=True, text=True, timeout=60
    )


async def test_an_unknown_framework_is_refused_before_anything_connects(tmp_path: Path) -> None:
    async with FakeBotAPI(token=TOKEN) as server:
        env = {"BOT_TOKEN": TOKEN, "BOT_API_SERVER": server.base_url, "BOT_FRAMEWORK": "telethon"}
        result = await asyncio.to_thread(cli, env, tmp_path)
        assert result.returncode == 2, result.stderr
        assert "BOT_FRAMEWORK" in result.stderr and "'aiogram' or 'ptb'" in result.stderr
        assert "Traceback" not in result.stderr
        assert server.calls == []
    assert not (tmp_path / "patentbot.db").exists()


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_each_transport_imports_only_its_own_library(framework: str, tmp_path: Path) -> None:
    other = {"aiogram": "telegram", "ptb": "aiogram"}[framework]
    result = cli(
        {"PYTHONPATH": str(Path(__file__).parents[2])},
        tmp_path,
        "import sys, bot.cli, bot.app",
        "assert 'aiogram' not in sys.modules and 'telegram' not in sys.modules, 'cli'",
        f"import bot.transports.telegram.with_{framework}",
        f"assert {other!r} not in sys.modules, sorted(sys.modules)",
    )
    assert result.returncode == 0, result.stderr


def test_console_sees_the_same_deep_link_and_mydata(tmp_path: Path) -> None:
    """The two contract scenarios that apply to the terminal, through the console transport."""
    t = translator("zh_CN")
    typed = "/start survey-abc\n/mydata\n"
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "DEFAULT_LOCALE": "zh_CN"}
    clean = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "console"],
        input=typed, env={**clean, **env}, cwd=tmp_path,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    after_link = result.stdout.split("> /start survey-abc", 1)[1]
    assert t("survey.unknown", code="abc") in after_link.split("> /mydata", 1)[0]
    exported = tmp_path / "patentbot-files" / "patentbot-mydata-0.json"
    assert str(exported.resolve()) in result.stdout
    assert b'"user"' in exported.read_bytes()


# ------------------------------------------------------------------ training events


async def until(
    user: FakeUser | WebUser, needle: str, timeout: float = 15.0
) -> list[BotMessage | WebMessage]:
    """The bot's messages up to the first new one whose text or caption holds ``needle``."""
    seen = []
    while True:
        message = await user.next_message(timeout=timeout)
        seen.append(message)
        if not message.edited and needle in (message.text or "") + (message.caption or ""):
            return seen


async def test_event_deep_link_answers_report(channel: Channel, form: Form) -> None:
    """An admin creates an event, an attendee scans its link and answers, the admin gets
    the figures, the chart and the spreadsheet."""
    import re

    from openpyxl import load_workbook

    from handlers.kernel.render import plain
    from handlers.training.survey import survey_form

    t = translator("zh_CN")
    admin = channel.user(ADMIN)
    await admin.send("/event new")
    for question, typed in (("q.e_title", "专利培育培训会"), ("q.e_date", "2024-10-08"),
                            ("q.e_place", "南沙")):  # fmt: skip
        await until(admin, plain(t(question)))
        await admin.send(typed)
    await until(admin, plain(t("q.e_closes_at")))
    await admin.press(t("button.skip"))  # no closing time
    await until(admin, plain(t("event.review_title")))
    await admin.press(t("button.event_create"))
    created = await until(admin, "start=survey-")
    found = re.search(
        r"https://t\.me/patentbot_test\?start=survey-([a-z0-9]+)", created[-1].text or ""
    )
    assert found is not None
    qr = await until(admin, found.group(0))  # the QR code, ready to project
    assert qr[-1].photo is not None

    attendee = channel.user(3001, language_code="zh-hans")
    await attendee.send(f"/start survey-{found.group(1)}")  # what scanning the QR sends
    questions = [plain(t(q.text)) for q in survey_form(form).questions]
    levels = ("非常满意", "满意", "非常满意", "满意", "非常满意")
    for question, level in zip(questions, levels, strict=False):
        await until(attendee, question)
        await attendee.press(level)
    await until(attendee, questions[5])
    await attendee.send("讲得很好")
    await until(attendee, questions[6])
    await attendee.press(t("button.skip"))
    await until(attendee, plain(t("survey.review_title")))
    await attendee.press(t("button.survey_submit"))
    await until(attendee, "感谢")

    await admin.send(f"/event report {found.group(1)}")
    report = await until(admin, plain(t("report.met", rate="100.0%", target="85%")))
    assert any(m.photo is not None for m in report)  # the chart
    report += await until(admin, "")  # then the spreadsheet
    sheet = next(m.document for m in report if m.document is not None)
    book = load_workbook(io.BytesIO(sheet.data))
    overall = next(
        r for r in book.worksheets[0].iter_rows(values_only=True) if r and r[0] == "总体满意度"
    )
    assert overall[1:7] == (1, 0, 0, 0, 0, 1)
