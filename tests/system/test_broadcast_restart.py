"""Kill the bot (SIGKILL) in the middle of a broadcast and start it again: the job resumes
at once, nobody gets the message twice, nobody is skipped — except that the one message
whose request was under way at the kill is not sent again (at-most-once), and says so."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from handlers.admin import broadcast_text
from handlers.kernel.render import plain
from locales import translator
from models import audiences, broadcast_jobs
from models.db import connect
from models.tables import Broadcast, User
from testkit.bot_process import start_bot
from testkit.fake_bot_api import FakeBotAPI
from testkit.telegram import FRAMEWORKS, TOKEN
from tests.broadcast_helpers import PROGRAMME, ROUTES, recipient_states, wait_for_status

# Two bot processes start in each test: on a busy machine importing aiogram alone takes
# 20 s or more, so the 60 s default of pytest-timeout would cut a test that works.
pytestmark = pytest.mark.timeout(300)

ADMIN = 999
RECIPIENTS = 50


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_sigkill_mid_broadcast_then_restart_sends_everyone_at_most_once(
    tmp_path: Path, database_url: str, framework: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROADCAST_RATE", "10")
    engine, sessions = await connect(database_url)
    async with FakeBotAPI(token=TOKEN) as server:
        admin = server.user(ADMIN)
        users = [server.user(50_000 + i) for i in range(RECIPIENTS)]
        async with sessions() as session:
            session.add_all(User(id=u.id, chat_id=u.id, locale="zh_CN") for u in users)
            await session.flush()
            job = Broadcast(text="<b>通知</b>", locale="zh_CN", status_chat_id=ADMIN)
            job = await broadcast_jobs.create_broadcast(
                session, job, audiences.Audience("all"), PROGRAMME, ROUTES
            )
            await session.commit()
        assert job.id is not None
        bot = await start_bot(server, database_url, tmp_path, framework)
        try:
            while sum(len(u.transcript) for u in users) < 15:
                assert bot.returncode is None
                await asyncio.sleep(0.01)
            bot.send_signal(signal.SIGKILL)
            await bot.wait()
            killed_at = time.monotonic()
            before = {u.id: len(u.transcript) for u in users}
            assert 15 <= sum(before.values()) < RECIPIENTS  # killed mid-broadcast
            status = (await admin.next_message()).message_id  # sent by the first run
            in_flight = [
                user_id
                for user_id, (state, _) in (await recipient_states(sessions, job.id)).items()
                if state == broadcast_jobs.SENDING
            ]
            assert len(in_flight) <= 1  # one recipient per wave at this rate

            bot = await start_bot(server, database_url, tmp_path, framework)
            done = await wait_for_status(sessions, job.id, timeout=30)
            states = await recipient_states(sessions, job.id)
            for user in users:
                received = len(user.transcript)
                state, error = states[user.id]
                if user.id in in_flight:  # the one window: resolved at-most-once
                    assert (state, error) == (broadcast_jobs.FAILED, broadcast_text.INTERRUPTED)
                    assert received <= 1
                else:
                    assert (state, received) == (broadcast_jobs.SENT, 1), user.id
            # The same status message goes on being edited after the restart.
            final = await admin.collect(lambda m: m.edited and "✅" in (m.text or ""), timeout=10)
            assert final[-1].message_id == status
            resumed = [
                c for c in server.calls if c.method == "editMessageText" and c.at > killed_at
            ]
            assert resumed and all(c.params["message_id"] == status for c in resumed)
            zh = translator("zh_CN")
            assert plain(zh("broadcast.status.done", id=job.id)) in (final[-1].text or "")
            assert done.finished_at is not None
            bot.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(bot.wait(), 20) == 0
        finally:
            if bot.returncode is None:
                bot.kill()
                await bot.wait()
    await engine.dispose()
