"""The bot killed (SIGKILL) after it stored an answer and before its replies reached
Telegram: Telegram sends the update again to the restarted bot, which sends the replies
it stored then, once: the user is asked the next question, and their answer is not
taken twice."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from sqlmodel import select

from forms.definition import Form
from models.db import connect
from models.tables import OutboxEntry
from testkit.answers import ELIGIBLE_ZH
from testkit.bot_process import start_bot
from testkit.chat import current_question
from testkit.fake_bot_api import FakeBotAPI
from testkit.telegram import TOKEN, TRANSPORTS, free_port, next_step
from tests.system.test_restart import answer_up_to_contact_phone

pytestmark = pytest.mark.timeout(300)  # two bot processes start (tests/system/test_restart.py)

# Telegram takes the bot's requests and never answers them: a hang, not a refusal.
NO_ANSWER = 3600.0


async def unsent_replies(database_url: str) -> int:
    """How many handled updates hold replies not marked sent."""
    engine, sessions = await connect(database_url)
    try:
        async with sessions() as session:
            rows = (await session.exec(select(OutboxEntry))).all()
        return sum(1 for row in rows if row.replies)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_killed_between_storing_an_answer_and_replying(
    tmp_path: Path, database_url: str, form: Form, transport: str
) -> None:
    port = free_port()
    async with FakeBotAPI(token=TOKEN) as server:
        user = server.user(4343, language_code="zh-hans")
        bot = await start_bot(server, database_url, tmp_path, transport, port)
        try:
            await answer_up_to_contact_phone(user, form)
            await user.send(ELIGIBLE_ZH["contact_phone"])
            assert current_question(form, "zh_CN", await next_step(user, form, "zh_CN")) == (
                "in_nansha"
            )
            # Confirmed: the bot waits in its next getUpdates (or for the next post).
            await server.wait_updates_consumed(timeout=60)
            press = await user.press(ELIGIBLE_ZH["in_nansha"])
            # The bot stopped the spinner; it stores the answer and its replies next (a
            # commit), then edits the pressed message: that request, and all after it, hang.
            await press.wait_answer(timeout=60)
            server.latency = NO_ANSWER
            # The answer is stored with its replies (a wait for the bot, not a timing).
            for _ in range(2400):
                if await unsent_replies(database_url):
                    break
                await asyncio.sleep(0.05)
            assert await unsent_replies(database_url) == 1
            bot.send_signal(signal.SIGKILL)
            await bot.wait()
            server.latency = 0.0

            bot = await start_bot(server, database_url, tmp_path, transport, port)
            text = await next_step(user, form, "zh_CN", timeout=60)
            assert current_question(form, "zh_CN", text) == "cluster"
            # Each question asked once: the answer was neither lost nor taken twice.
            asked = [
                current_question(form, "zh_CN", m.text or "")
                for m in user.transcript
                if not m.edited
            ]
            assert [q for q in asked if q] == [
                "enterprise_name", "uscc", "contact_name", "contact_phone", "in_nansha", "cluster"
            ]  # fmt: skip
            bot.send_signal(signal.SIGTERM)  # a clean stop finishes what it handles
            assert await asyncio.wait_for(bot.wait(), 60) == 0
            assert await unsent_replies(database_url) == 0  # all sent: nothing kept
        finally:
            if bot.returncode is None:
                bot.kill()
                await bot.wait()
