"""Effects outside the reply (waking the delivery runner, erasing a user's data, a new
admin's command menu) happen after the update's transaction commits, never after a
rollback."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.outbox import Delivery
from handlers.kernel.context import Context
from handlers.kernel.render import plain
from handlers.kernel.router import Router
from locales import translator
from models import broadcast_jobs, queries
from testkit.chat import Chat
from tests.broadcast_helpers import ROUTES, MemorySender, populate, wait_for_status

ADMIN = 999
ZH = translator("zh_CN")


class Breakable:
    """A session factory that notes every commit in ``log``, and whose sessions fail to
    commit while ``broken``: the database went away at the worst moment."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], log: list[str]) -> None:
        self.sessions = sessions
        self.log = log
        self.broken = False

    def __call__(self) -> Any:
        session = self.sessions()
        commit = session.commit

        async def noted() -> None:
            if self.broken:
                raise ConnectionError("the database went away")
            await commit()
            self.log.append("commit")

        session.commit = noted  # type: ignore[method-assign]
        return session


class NotedEvent(asyncio.Event):
    """The runner's wake-up signal, noted in the same log as the commits."""

    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log

    def set(self) -> None:
        self.log.append("wake")
        super().set()


@pytest.fixture
def log() -> list[str]:
    return []


@pytest.fixture
def breakable(router: Router, log: list[str]) -> Breakable:
    return Breakable(router.context.sessions, log)


@pytest.fixture
def broken_router(router: Router, breakable: Breakable, log: list[str]) -> Router:
    context = Context(
        sessions=breakable,  # type: ignore[arg-type]
        form=router.context.form,
        admin_ids=router.context.admin_ids,
        jobs_changed=NotedEvent(log),
        routes=ROUTES,  # a deployment with Telegram: the population is on it
    )
    return Router(context)


async def compose_to_everyone(admin: Chat) -> None:
    await admin.send("/start")
    await admin.send("/broadcast")
    await admin.send("培训改期")
    await admin.press("bc:aud:all")
    assert admin.find_button("bc:send")


async def test_a_rolled_back_broadcast_wakes_no_runner(
    broken_router: Router, breakable: Breakable, log: list[str]
) -> None:
    await populate(broken_router.context.sessions)
    admin = Chat(broken_router, ADMIN)
    await compose_to_everyone(admin)
    log.clear()
    breakable.broken = True
    await admin.press("bc:send")
    assert admin.text == plain(ZH("error.internal"))
    assert log == []  # no commit, no wake-up
    breakable.broken = False
    async with broken_router.context.sessions() as session:
        assert await broadcast_jobs.recent_broadcasts(session, 5) == []


async def test_a_committed_broadcast_wakes_the_runner_after_its_commit(
    broken_router: Router, log: list[str]
) -> None:
    await populate(broken_router.context.sessions)
    admin = Chat(broken_router, ADMIN)
    await compose_to_everyone(admin)
    log.clear()
    await admin.press("bc:send")
    assert log == ["commit", "wake"]


async def test_a_rolled_back_deletion_erases_nothing(
    broken_router: Router, breakable: Breakable
) -> None:
    user = Chat(broken_router, 4321)
    await user.send("/start")
    await user.send("/delete")
    breakable.broken = True
    await user.press("delete:yes")
    assert user.text == plain(ZH("error.internal"))
    breakable.broken = False
    async with broken_router.context.sessions() as session:
        assert await queries.get_user(session, 4321) is not None
    await user.press("delete:yes")  # confirmed again, and stored: now it is gone
    assert user.text == plain(ZH("delete.done"))
    async with broken_router.context.sessions() as session:
        assert await queries.get_user(session, 4321) is None


@pytest.fixture
async def sleepy_bot(router: Router) -> AsyncIterator[Router]:
    """A bot with a sender, whose runner never looks for jobs by itself: only a wake-up
    makes it deliver."""
    context = dataclasses.replace(
        router.context,
        sender=MemorySender(),
        bot_username="patentbot_test",
        bot_id=1,
        broadcast_rate=200.0,
        routes=ROUTES,
    )
    running = Delivery(context, poll_seconds=3600)
    running.start()
    yield Router(context)
    await running.stop()


async def test_a_queued_broadcast_goes_out_without_waiting_for_the_poll(
    sleepy_bot: Router,
) -> None:
    router = sleepy_bot
    population = await populate(router.context.sessions)
    admin = Chat(router, ADMIN)
    await compose_to_everyone(admin)
    await admin.press("bc:send")
    async with router.context.sessions() as session:
        (job,) = await broadcast_jobs.recent_broadcasts(session, 5)
    assert job.id is not None
    # The runner would look again in an hour; the wake-up makes it deliver now.
    await wait_for_status(router.context.sessions, job.id)
    sender = router.context.sender
    assert isinstance(sender, MemorySender)
    assert all(sender.received(user) == 1 for user in population.everyone)
