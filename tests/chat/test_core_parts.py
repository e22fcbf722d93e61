"""The parts of the core, each on its own: one event at a time per user, the outbox's
one way of recognising an event handled before, and a dispatcher that names no feature."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.kernel.context import Turn
from handlers.kernel.dispatch import Flow
from handlers.kernel.outbox import Outbox
from handlers.kernel.router import Router
from handlers.kernel.serial import Turns
from handlers.kernel.types import Event, Key, Reply
from models import queries
from models.db import connect
from models.tables import Flow as ConversationFlow
from testkit.chat import Chat


async def test_one_users_events_wait_for_each_other_and_others_do_not() -> None:
    turns, log = Turns(), []

    async def hold(event: Event, name: str) -> None:
        async with turns.held(event):
            log.append(f"{name}+")
            await asyncio.sleep(0.05)
            log.append(f"{name}-")

    mine, again, other = Event(1, 1), Event(1, 1), Event(2, 2)
    await asyncio.gather(hold(mine, "a"), hold(again, "b"), hold(other, "c"))
    assert log.index("a-") < log.index("b+")  # the same user: one after the other
    assert log.index("c+") < log.index("a-")  # another user: meanwhile


async def _record(
    sessions: async_sessionmaker[AsyncSession], outbox: Outbox, key: Key, text: str
) -> bool:
    async with sessions() as session:
        new = await outbox.record(session, key, 5, [Reply(text)])
        await (session.commit() if new else session.rollback())
        return new


async def test_a_pages_steps_are_new_only_in_turn(database_url: str) -> None:
    engine, sessions = await connect(database_url)
    outbox = Outbox(sessions)
    try:
        steps = [Key("web:5", n, in_turn=True) for n in range(5)]
        assert await _record(sessions, outbox, steps[1], "one")
        assert not await _record(sessions, outbox, steps[1], "one again")  # a reload
        assert await _record(sessions, outbox, steps[2], "two")
        assert not await _record(sessions, outbox, steps[1], "back")  # the back button
        assert not await _record(sessions, outbox, steps[4], "forged")  # a step never shown
        assert await _record(sessions, outbox, steps[3], "three")
        async with sessions() as session:
            assert await outbox.again(session, steps[3]) == []  # the page shows it itself
    finally:
        await engine.dispose()


async def test_an_update_is_new_once_and_its_unsent_replies_stay(database_url: str) -> None:
    engine, sessions = await connect(database_url)
    try:
        key = Key("telegram:1", 77)
        died = Outbox(sessions)
        assert await _record(sessions, died, key, "answer")
        assert not await _record(sessions, died, key, "answer")
        restarted = Outbox(sessions)  # the first one died before sending
        await asyncio.sleep(0.01)
        async with sessions() as session:
            assert [r.text for r in await restarted.again(session, key)] == ["answer"]
    finally:
        await engine.dispose()


async def test_a_flow_declares_that_only_admins_may_be_in_it(router: Router) -> None:
    """A dispatcher given one made-up conversation: it takes typed text from an admin;
    anyone else leaves it (an admin no more) and gets the hint for free text."""

    async def typed(turn: Turn) -> list[Reply]:
        return [Reply(f"typed {turn.event.text}")]

    # A conversation name the stored column knows, declared here as no feature does.
    secret = Flow(ConversationFlow.EMAIL, admin=True, on_text=typed)
    alone = Router(router.context, commands=[], buttons=[], flows=[secret])
    for user_id, admin in ((999, True), (5, False)):  # 999: in the context's admin ids
        chat = Chat(alone, user_id)
        await chat.send("hi")  # first contact
        async with router.context.sessions() as session:
            conversation = await queries.conversation(session, user_id)
            conversation.flow = secret.name
            session.add(conversation)
            await session.commit()
        await chat.send("hello")
        assert (chat.text == "typed hello") is admin
        async with router.context.sessions() as session:
            flow = (await queries.conversation(session, user_id)).flow
        assert (flow == secret.name) is admin
