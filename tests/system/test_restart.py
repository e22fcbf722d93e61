"""Kill the bot (SIGKILL) in the middle of an interview, start it again: nothing is lost."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from forms.definition import Form
from locales import translator
from testkit.answers import ELIGIBLE_ZH
from testkit.bot_process import start_bot
from testkit.chat import current_question
from testkit.fake_bot_api import FakeBotAPI, FakeUser
from testkit.telegram import TOKEN, TRANSPORTS, free_port, next_step, next_step_after_restart

# Two bot processes start in each test: on a busy machine importing aiogram alone takes
# 20 s or more, so the 60 s default of pytest-timeout would cut a test that works.
pytestmark = pytest.mark.timeout(300)


async def answer_up_to_contact_phone(user: FakeUser, form: Form) -> str:
    """/apply and the first three answers: the bot asks for the phone number (returned)."""
    await user.send("/apply")
    await next_step(user, form, "zh_CN")
    for qid in ("enterprise_name", "uscc", "contact_name"):
        await user.send(ELIGIBLE_ZH[qid])
        text = await next_step(user, form, "zh_CN")
    assert current_question(form, "zh_CN", text) == "contact_phone"
    return text


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_sigkill_mid_interview_then_restart_continues_at_the_same_question(
    tmp_path: Path, database_url: str, form: Form, transport: str
) -> None:
    t = translator("zh_CN")
    port = free_port()
    async with FakeBotAPI(token=TOKEN) as server:
        user = server.user(4242, language_code="zh-hans")
        bot = await start_bot(server, database_url, tmp_path, transport, port)
        asked_phone = await answer_up_to_contact_phone(user, form)

        bot.send_signal(signal.SIGKILL)
        await bot.wait()
        await user.send(ELIGIBLE_ZH["contact_phone"])  # typed while the bot is down

        bot = await start_bot(server, database_url, tmp_path, transport, port)
        try:
            text = await next_step_after_restart(user, form, "zh_CN", asked_phone, timeout=20)
            assert current_question(form, "zh_CN", text) == "in_nansha"
            await user.press(t("button.back"))
            text = await next_step(user, form, "zh_CN")
            assert "13800138000" in text  # the answer given while the bot was down
            # Nothing was answered twice: every answer got exactly one question after it.
            # Killed the instant the user saw the phone question, the bot may not have
            # recorded that it was sent: then it is sent once more, before the next one.
            questions = [
                current_question(form, "zh_CN", m.text or "")
                for m in user.transcript
                if not m.edited
            ]
            asked = [q for q in questions if q]
            before, after = ["enterprise_name", "uscc", "contact_name"], ["in_nansha"]
            assert asked in (
                [*before, "contact_phone", *after, "contact_phone"],
                [*before, "contact_phone", "contact_phone", *after, "contact_phone"],
            )
            bot.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(bot.wait(), 20) == 0  # a clean stop
        finally:
            if bot.returncode is None:
                bot.kill()
                await bot.wait()
