"""Kill ``patentbot web`` (SIGKILL) in the middle of a mailing and start it again: it
resumes, and nobody is mailed twice (the one message under way at the kill is resolved
at-most-once, as on Telegram)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.admin import broadcast_text
from handlers.admin.broadcast_queue import Author, Message, queue_broadcast
from models import broadcast_jobs
from models.db import connect
from models.tables import BroadcastRecipient, Channel, User
from testkit.mailbox import SENDER, Mailbox
from testkit.telegram import free_port
from tests.broadcast_helpers import PROGRAMME, wait_for_status
from tests.chat import test_email
from tests.chat.test_email import PUBLIC, ROUTES, SECRET

mailbox = test_email.mailbox  # the fixture: an SMTP server on loopback


@pytest.mark.timeout(300)
async def test_sigkill_mid_mailing_then_restart_mails_nobody_twice(
    tmp_path: Path, database_url: str, mailbox: Mailbox
) -> None:
    """The web chat alone (no Telegram) mails a notice to 40 applicants at 10 a second;
    killed mid-job and started again, it resumes, and nobody gets it twice."""
    box = mailbox
    engine, sessions = await connect(database_url)
    addresses = {-(2000 + i): f"applicant{i}@example.cn" for i in range(40)}
    async with sessions() as session:
        for user_id, address in addresses.items():
            user = User(id=user_id, chat_id=user_id, channel=Channel.WEB, locale="zh_CN")
            user.email = address
            session.add(user)
        await session.flush()
        job = await queue_broadcast(
            session, PROGRAMME, Author(None, "zh_CN"), "all", Message("通知"), ROUTES
        )
        await session.commit()
    assert not isinstance(job, Exception) and job.id is not None  # type: ignore[union-attr]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "WEB_LISTEN": f"127.0.0.1:{free_port()}",
        "WEB_SECRET": SECRET,
        "SMTP_URL": box.url,
        "SMTP_FROM": SENDER,
        "SMTP_RATE": "10",
        "PUBLIC_URL": PUBLIC,
    }
    bot = await serving_process(env, tmp_path)
    try:
        while len(box.messages) < 15:
            assert bot.returncode is None
            await asyncio.sleep(0.01)
        bot.send_signal(signal.SIGKILL)
        await bot.wait()
        before = len(box.messages)
        assert 15 <= before < len(addresses)  # killed mid-job
        states = await email_states(sessions, job.id)  # type: ignore[union-attr]
        in_flight = [u for u, (state, _) in states.items() if state == broadcast_jobs.SENDING]
        assert len(in_flight) <= 1
        bot = await serving_process(env, tmp_path)
        await wait_for_status(sessions, job.id, timeout=60)  # type: ignore[union-attr]
        states = await email_states(sessions, job.id)  # type: ignore[union-attr]
        for user_id, address in addresses.items():
            received = len(box.to(address))
            if user_id in in_flight:  # the one window: resolved at-most-once
                assert states[user_id] == (broadcast_jobs.FAILED, broadcast_text.INTERRUPTED)
                assert received <= 1
            else:
                assert (states[user_id][0], received) == (broadcast_jobs.SENT, 1), address
        bot.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(bot.wait(), 20) == 0
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
        await engine.dispose()


async def serving_process(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    """``patentbot web`` as the operator runs it, once it listens."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "web", env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 90)
    assert b"http://" in line, line
    return process


async def email_states(
    sessions: async_sessionmaker[AsyncSession], job_id: int
) -> dict[int, tuple[str, str | None]]:
    query = select(BroadcastRecipient).where(
        BroadcastRecipient.broadcast_id == job_id, BroadcastRecipient.channel == Channel.EMAIL
    )
    async with sessions() as session:
        return {r.user_id: (r.state, r.error) for r in (await session.exec(query)).all()}
