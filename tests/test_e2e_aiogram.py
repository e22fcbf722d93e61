"""The real aiogram bot, over HTTP, against the fake Bot API server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.app import build
from bot.settings import Settings
from forms.definition import Form
from locales import translator
from tests.conftest import eligible_answers
from tests.fake_bot_api import FakeBotAPI
from tests.telegram import next_step, telegram_interview

TOKEN = "123456:TEST-TOKEN"
ADMIN = 999


@pytest.fixture
async def telegram(database_url: str) -> AsyncIterator[FakeBotAPI]:
    from bot.telegram_aiogram import serve

    async with FakeBotAPI(token=TOKEN, bot_username="patentbot_test") as server:
        server.user(ADMIN, first_name="Admin")  # has opened a chat with the bot
        settings = Settings(
            bot_token=TOKEN,  # type: ignore[arg-type]
            bot_api_server=server.base_url,  # type: ignore[arg-type]
            database_url=database_url,
            admin_ids=str(ADMIN),  # type: ignore[arg-type]
        )
        router, engine = await build(settings)
        task = asyncio.create_task(serve(settings, router, handle_signals=False))
        for _ in range(200):
            if server.calls_to("getUpdates") or task.done():
                break
            await asyncio.sleep(0.05)
        if task.done():
            task.result()  # the bot failed to start: say why
        yield server
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await engine.dispose()


@pytest.mark.parametrize(
    ("language_code", "locale"), [("zh-hans", "zh_CN"), ("zh-hant", "zh_HK"), ("en", "en")]
)
async def test_a_whole_interview_in_each_language(
    telegram: FakeBotAPI, form: Form, language_code: str, locale: str
) -> None:
    t = translator(locale)
    user = telegram.user(1001, first_name="Li", language_code=language_code)
    await user.send("/start")
    welcome = await user.next_message()
    assert "/delete" in (welcome.text or "")  # privacy notice at first contact
    await user.press(t("button.apply"))
    first = await next_step(user, form, locale)
    result = await telegram_interview(user, form, locale, eligible_answers(locale), first)
    assert t("result.eligible") in result
    assert "5.13%" in result


async def test_bad_input_then_back_and_a_disqualifier(telegram: FakeBotAPI, form: Form) -> None:
    t = translator("zh_CN")
    user = telegram.user(1002, language_code="zh-hans")
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


async def test_command_menus_are_registered_in_every_language(telegram: FakeBotAPI) -> None:
    menus = telegram.commands
    public = {c["command"] for c in menus[("default", "")]}
    assert {"start", "apply", "language", "help", "cancel", "mydata", "delete"} <= public
    assert "broadcast" not in public
    assert menus[("default", "zh")][1]["description"] == translator("zh_CN")("command.apply")
    assert menus[("default", "en")][1]["description"] == translator("en")("command.apply")
    admin = [cmds for (scope, _), cmds in menus.items() if scope != "default"]
    assert admin and all("broadcast" in {c["command"] for c in cmds} for cmds in admin)


async def test_mydata_arrives_as_a_document(telegram: FakeBotAPI, form: Form) -> None:
    user = telegram.user(1003, language_code="en")
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
    assert b"Acme Ltd" in message.document.data


async def test_two_users_at_once(telegram: FakeBotAPI, form: Form) -> None:
    t = translator("zh_CN")
    users = [telegram.user(2000 + i, language_code="zh-hans") for i in range(2)]

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
