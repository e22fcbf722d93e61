"""Scale-out: two bot processes on one PostgreSQL database behind one webhook URL, which a
load balancer spreads over them. A user's conversation goes on in whichever process gets
the next update, and nothing is lost or answered twice."""

from __future__ import annotations

import pytest

from bot.settings import Settings
from forms.definition import Form
from locales import translator
from testkit.answers import eligible_answers
from testkit.balancer import balancing
from testkit.fake_bot_api import FakeBotAPI
from testkit.telegram import (
    ADMIN,
    FRAMEWORKS,
    TOKEN,
    bot_settings,
    free_port,
    next_step,
    running,
    telegram_interview,
)
from tests.chat.test_postgres import postgres_url  # noqa: F401 (a fixture)


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_two_processes_behind_one_webhook_share_every_conversation(
    framework: str,
    postgres_url: str,  # noqa: F811
    form: Form,
) -> None:
    t = translator("zh_CN")
    async with FakeBotAPI(token=TOKEN) as server:
        server.user(ADMIN)
        ports = [free_port(), free_port()]
        async with balancing(ports) as (base, answered):
            url = f"{base}/telegram"

            def process(port: int) -> Settings:
                transport = f"{framework}+webhook"
                return bot_settings(server, postgres_url, transport, port=port, public_url=url)

            async with running(server, process(ports[0])), running(server, process(ports[1])):
                user = server.user(8001, language_code="zh-hans")
                await user.send("/apply")
                first = await next_step(user, form, "zh_CN")
                answers = eligible_answers("zh_CN")
                result = await telegram_interview(user, form, "zh_CN", answers, first)
                assert t("result.eligible") in result
                # Both processes took part, and every update got exactly one answer.
                assert answered[ports[0]] > 5 and answered[ports[1]] > 5
                said = [m.text for m in user.transcript if not m.edited and m.text]
                assert len(said) == len(set(said)), "something was said twice"
