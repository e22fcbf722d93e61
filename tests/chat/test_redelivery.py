"""Telegram sends an update again until it sees it confirmed; its update ids grow while
updates keep coming, but are random after a quiet week and start afresh with a new token.
A redelivered update is answered once; a new one is always answered, whatever its id.
On SQLite and, where a server answers, PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from forms.definition import Form
from handlers.kernel.context import Context
from handlers.kernel.router import Router
from handlers.kernel.types import Event
from models.db import connect
from models.tables import Draft, OutboxEntry, utcnow
from testkit.answers import ELIGIBLE_ZH
from testkit.chat import Chat, current_question, run_interview
from tests.chat.test_postgres import postgres_url  # noqa: F401  (the fixture)

BOT = 123456


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, database_url: str) -> str:
    if request.param == "sqlite":
        return database_url
    found: str = request.getfixturevalue("postgres_url")  # skips where no server answers
    return found


@pytest.fixture
async def router_on(url: str, form: Form) -> AsyncIterator[Router]:
    """A router of bot BOT on each database."""
    engine, sessions = await connect(url)
    yield Router(Context(sessions=sessions, form=form, bot_id=BOT))
    await engine.dispose()


def typed(text: str, update_id: int, user_id: int = 7) -> Event:
    return Event.message(user_id, user_id, text, language_code="zh-hans", update_id=update_id)


async def question_after(router: Router, form: Form, text: str, update_id: int) -> str | None:
    replies = await router.handle(typed(text, update_id))
    return current_question(form, "zh_CN", "\n".join(r.text for r in replies))


async def test_ids_that_jump_down_are_answered(router_on: Router, form: Form) -> None:
    assert await question_after(router_on, form, "/apply", 900_001) == "enterprise_name"
    # A week without updates: the next id is random, here far below the last one.
    assert await question_after(router_on, form, "甲公司", 37) == "uscc"
    # A new bot token: another bot, whose ids start afresh (and may meet old ones).
    another = Router(dataclasses.replace(router_on.context, bot_id=654321))
    assert await question_after(another, form, ELIGIBLE_ZH["uscc"], 37) == "contact_name"


async def test_a_redelivered_update_is_answered_once(router_on: Router, form: Form) -> None:
    assert await question_after(router_on, form, "/apply", 500) == "enterprise_name"
    assert await question_after(router_on, form, "甲公司", 501) == "uscc"
    assert await router_on.handle(typed("甲公司", 501)) == []  # sent again
    assert await question_after(router_on, form, ELIGIBLE_ZH["uscc"], 502) == "contact_name"


async def test_the_same_update_twice_at_once_is_answered_once(
    router_on: Router, form: Form
) -> None:
    """Two deliveries in flight together (a webhook retried while the first still runs)."""
    await router_on.handle(typed("/apply", 600))
    first, second = await asyncio.gather(
        router_on.handle(typed("甲公司", 601)), router_on.handle(typed("甲公司", 601))
    )
    assert sorted([bool(first), bool(second)]) == [False, True]


async def test_ids_are_forgotten_after_a_day(router_on: Router, form: Form) -> None:
    assert await question_after(router_on, form, "/apply", 800) == "enterprise_name"
    async with router_on.context.sessions() as session:  # the day passes
        two_days_ago = utcnow() - timedelta(days=2)
        await session.exec(update(OutboxEntry).values(handled_at=two_days_ago))
        await session.commit()
    # The same id again, a day later, is a new update that happens to reuse it.
    assert await question_after(router_on, form, "甲公司", 800) == "uscc"
    fresh = Router(router_on.context)  # a restarted bot forgets old ids at its first update
    await fresh.handle(typed(ELIGIBLE_ZH["uscc"], 801))
    async with router_on.context.sessions() as session:
        kept = (await session.exec(select(OutboxEntry.number))).all()
        old = select(OutboxEntry).where(col(OutboxEntry.handled_at) < two_days_ago)
        assert sorted(kept) == [800, 801] and not (await session.exec(old)).all()


async def test_two_processes_given_the_same_update_answer_it_once(
    url: str, router_on: Router, form: Form
) -> None:
    """Behind a load balancer, Telegram's retry of a slow post may reach another process
    while the first is still handling it: the database decides, and one answers."""
    engine, sessions = await connect(url)
    try:
        other = Router(Context(sessions=sessions, form=form, bot_id=BOT))
        await router_on.handle(typed("/apply", 700))
        replies = await asyncio.gather(
            *(router.handle(typed("甲公司", 701)) for router in (router_on, other) * 3)
        )
        assert sum(bool(r) for r in replies) == 1
        assert await question_after(other, form, ELIGIBLE_ZH["uscc"], 702) == "contact_name"
    finally:
        await engine.dispose()


async def test_a_restarted_bot_sends_the_replies_a_killed_one_never_sent(
    router_on: Router, form: Form
) -> None:
    """The process stored the draft request and died before sending the document: the
    next process, given the update again, sends the very same replies, once, and makes
    no second draft."""
    chat = Chat(router_on, 7)
    await chat.send("/apply")
    await run_interview(chat, form, ELIGIBLE_ZH)
    await router_on.handle(typed("/draft", 900))
    now = Event(7, 7, callback_data="draft:now", language_code="zh-hans", update_id=901)
    replies = await router_on.handle(now)  # then killed: never sent, never `replied`
    assert [r.document for r in replies if r.document is not None]

    async def drafts() -> int:
        async with router_on.context.sessions() as session:
            return len((await session.exec(select(Draft))).all())

    made = await drafts()
    restarted = Router(router_on.context)
    assert await router_on.handle(now) == []  # its first process is still sending them
    assert await restarted.handle(now) == replies  # document bytes and all
    assert await restarted.handle(now) == []  # sent once, not again meanwhile
    marking = restarted.outbox.replied(now)
    assert marking is not None
    await marking
    assert await Router(router_on.context).handle(now) == []  # sent: nothing kept
    assert await drafts() == made
