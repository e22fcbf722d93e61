"""Kill the bot (SIGKILL) in the middle of an interview, start it again: nothing is lost."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from forms.definition import Form
from locales import translator
from tests.chat import current_question
from tests.conftest import ELIGIBLE_ZH
from tests.fake_bot_api import FakeBotAPI, FakeUser
from tests.telegram import TOKEN, TRANSPORTS, free_port, next_step

# Two bot processes start in each test: on a busy machine importing aiogram alone takes
# 20 s or more, so the 60 s default of pytest-timeout would cut a test that works.
pytestmark = pytest.mark.timeout(300)


async def start_bot(
    server: FakeBotAPI,
    database_url: str,
    cwd: Path,
    transport: str,
    port: int = 0,
    *,
    start_timeout: float = 90.0,
) -> asyncio.subprocess.Process:
    """The bot as a process; ``framework+webhook`` listens on ``port`` for the server's posts."""
    framework, _, mode = transport.partition("+")
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "BOT_API_SERVER": server.base_url,
        "BOT_FRAMEWORK": framework,
        "DATABASE_URL": database_url,
        "WEB_LISTEN": "off",  # Telegram only: several bots on one machine, no port 8080
    }
    if mode == "webhook":
        env["WEBHOOK_URL"] = f"http://127.0.0.1:{port}/telegram"
        env["WEBHOOK_LISTEN"] = f"127.0.0.1:{port}"

    def starts() -> int:  # a poll, or the webhook set: the bot takes updates
        return len(server.calls_to("getUpdates")) + len(server.calls_to("setWebhook"))

    before = starts()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", env=env, cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    # Importing aiogram takes a few seconds, and far longer on a machine busy with other
    # work: this waits for the start, it does not time it.
    for _ in range(int(start_timeout / 0.05)):
        if starts() > before:
            return process
        assert process.returncode is None, "the bot exited at start"
        await asyncio.sleep(0.05)
    process.kill()
    await process.wait()
    raise AssertionError("the bot did not start taking updates")


async def answer_up_to_contact_phone(user: FakeUser, form: Form) -> None:
    """/apply and the first three answers: the bot asks for the phone number."""
    await user.send("/apply")
    await next_step(user, form, "zh_CN")
    for qid in ("enterprise_name", "uscc", "contact_name"):
        await user.send(ELIGIBLE_ZH[qid])
        text = await next_step(user, form, "zh_CN")
    assert current_question(form, "zh_CN", text) == "contact_phone"


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_sigkill_mid_interview_then_restart_continues_at_the_same_question(
    tmp_path: Path, database_url: str, form: Form, transport: str
) -> None:
    t = translator("zh_CN")
    port = free_port()
    async with FakeBotAPI(token=TOKEN) as server:
        user = server.user(4242, language_code="zh-hans")
        bot = await start_bot(server, database_url, tmp_path, transport, port)
        await answer_up_to_contact_phone(user, form)

        bot.send_signal(signal.SIGKILL)
        await bot.wait()
        await user.send(ELIGIBLE_ZH["contact_phone"])  # typed while the bot is down

        bot = await start_bot(server, database_url, tmp_path, transport, port)
        try:
            text = await next_step(user, form, "zh_CN", timeout=20)
            assert current_question(form, "zh_CN", text) == "in_nansha"
            await user.press(t("button.back"))
            text = await next_step(user, form, "zh_CN")
            assert "13800138000" in text  # the answer given while the bot was down
            # Nothing was answered twice: every question got exactly one reply.
            questions = [
                current_question(form, "zh_CN", m.text or "")
                for m in user.transcript
                if not m.edited
            ]
            asked = [q for q in questions if q]
            before, after = ["enterprise_name", "uscc", "contact_name"], ["in_nansha"]
            assert asked == [*before, "contact_phone", *after, "contact_phone"]
            bot.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(bot.wait(), 20) == 0  # a clean stop
        finally:
            if bot.returncode is None:
                bot.kill()
                await bot.wait()
