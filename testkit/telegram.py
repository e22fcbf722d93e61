"""Drive the real bot over the fake Bot API server the way a Telegram user does."""

from __future__ import annotations

import asyncio
import importlib
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from bot.app import build
from bot.settings import Settings
from forms.definition import Form
from handlers.kernel.router import Router
from locales import translator
from testkit.chat import current_question
from testkit.fake_bot_api import FakeBotAPI, FakeUser

if TYPE_CHECKING:
    from testkit.web import WebUser  # the web chat's visitor, for the contract suite

TOKEN = "123456:TEST-TOKEN"
ADMIN = 999

FRAMEWORKS = ("aiogram", "ptb")
# The contract suite's transports (tests/contract/test_e2e_telegram.py): each framework
# long polling, and each behind a webhook the fake server posts to.
TRANSPORTS = (*FRAMEWORKS, "aiogram+webhook", "ptb+webhook")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def bot_settings(
    server: FakeBotAPI,
    database_url: str,
    transport: str,
    *,
    port: int | None = None,
    public_url: str | None = None,
) -> Settings:
    """``framework+webhook`` listens on ``port`` (a free one by default); Telegram posts to
    ``public_url`` (by default straight to that port)."""
    framework, _, mode = transport.partition("+")
    webhook: dict[str, Any] = {}  # Any: Settings types each keyword its own way
    if mode == "webhook":
        port = port or free_port()
        webhook = {
            "webhook_url": public_url or f"http://127.0.0.1:{port}/telegram",
            "webhook_listen": f"127.0.0.1:{port}",
        }
    return Settings(
        bot_token=server.token,
        bot_api_server=server.base_url,
        bot_framework=framework,
        database_url=database_url,
        admin_ids=str(ADMIN),
        **webhook,
    )


@asynccontextmanager
async def running(server: FakeBotAPI, settings: Settings) -> AsyncIterator[Router]:
    """The bot, serving the fake server until the block ends; yields its router."""
    connect = importlib.import_module(
        f"bot.transports.telegram.with_{settings.bot_framework}"
    ).connect

    def starts() -> int:  # a poll, or the webhook set: the bot takes updates
        return len(server.calls_to("getUpdates")) + len(server.calls_to("setWebhook"))

    before = starts()
    async with connect(settings) as link:
        router, engine = await build(settings, link.platform)
        task = asyncio.create_task(link.serve(router, False))
        try:
            for _ in range(200):
                if starts() > before or task.done():
                    break
                await asyncio.sleep(0.05)
            if task.done():
                task.result()  # the bot failed to start: say why
            yield router
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await router.settle()
            await engine.dispose()


MARKERS = ("review.title", "result.eligible", "result.eligible_with_points", "result.not_eligible")


async def next_step(user: FakeUser | WebUser, form: Form, locale: str, timeout: float = 10) -> str:
    """Read the bot's messages until it asks something (a question, the review, a result)."""
    t = translator(locale)
    markers = [t(key) for key in MARKERS]
    while True:
        message = await user.next_message(timeout=timeout)
        text = message.text or ""
        if message.edited:
            continue
        if current_question(form, locale, text) or any(m in text for m in markers):
            return text


async def next_step_after_restart(
    user: FakeUser, form: Form, locale: str, before: str, timeout: float = 10
) -> str:
    """The next step once the bot was killed and started again. ``before``, the last step
    the user saw, may come once more first, identical: the bot sends a reply again when it
    died before recording that Telegram had it (router.Router.sent). Anything else is the
    step as it comes."""
    text = await next_step(user, form, locale, timeout)
    return await next_step(user, form, locale, timeout) if text == before else text


async def telegram_interview(
    user: FakeUser | WebUser, form: Form, locale: str, answers: Mapping[str, str], first: str
) -> str:
    """From the first question's text, answer everything and submit; returns the result."""
    t = translator(locale)
    text = first
    while (qid := current_question(form, locale, text)) is not None:
        answer = answers[qid]
        if "/" in answer and form.question(qid).groups:
            group, option = answer.split("/", 1)
            await user.press(group)
            await user.next_message()  # the same message, edited to show the group's clusters
            await user.press(option)
        elif form.question(qid).type in ("yes_no", "choice"):
            await user.press(answer)
        else:
            await user.send(answer)
        text = await next_step(user, form, locale)
    assert t("review.title") in text, text
    await user.press(t("button.submit"))
    return await next_step(user, form, locale)
