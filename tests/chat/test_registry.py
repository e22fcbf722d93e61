"""The table of commands and buttons: admin rights are checked once, from the table, so
a forged admin button or command reaches nothing — for every admin prefix and command
there is or will be."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from handlers.kernel import registry
from handlers.kernel.commands import MENU
from handlers.kernel.render import plain
from handlers.kernel.router import Router
from handlers.kernel.types import Event as Update
from locales import translator
from models import audiences, broadcast_jobs, queries
from models.tables import Broadcast, Channel, TrainingEvent
from testkit.chat import Chat

ADMIN, STRANGER = 999, 1005
ZH = translator("zh_CN")

ADMIN_PREFIXES = [b.prefix for b, _ in registry.BUTTONS if b.admin]
ADMIN_COMMANDS = [c.name for c in registry.COMMANDS if c.admin]
# What follows an admin prefix on real buttons (lists, new, a job's or event's actions).
ACTIONS = ["", "list", "new", "send", "drop", "back", "aud:all", "show:1", "report:1"]
ACTIONS += ["close:1", "open:1", "qr:1", "pause:1:l", "resume:1:s", "cancel:1:s", "stop:1:s"]
# An admin's form (an event's setup): its answers, review and confirmations.
ACTIONS += ["a:title:x", "g:title:", "back:place", "keep:title", "skip:closes_at"]
ACTIONS += ["edit:title", "confirm:yes", "confirm:0", "submit"]


def test_callback_data_is_built_as_before() -> None:
    """Buttons already sent carry this data: it must not change."""
    by_prefix = {b.prefix: b for b, _ in registry.BUTTONS}
    assert by_prefix["bc"].data("pause", 12, "l") == "bc:pause:12:l"
    assert by_prefix["result"].data() == "result"
    assert MENU.data("apply") == "menu:apply"
    assert {"bc", "ev", "qe"} <= set(ADMIN_PREFIXES)
    assert {"broadcast", "stats", "export", "event", "admins"} <= set(ADMIN_COMMANDS)


# A conversation is the router's to end: one that was an admin's is over for a non-admin.
ROUTER_KEEPS = {"updated_at", "flow", "pending"}


async def snapshot(router: Router) -> dict[str, list[Any]]:
    """Every row of every table (but where each conversation is, the router's)."""
    tables: dict[str, list[Any]] = {}
    async with router.context.sessions() as session:
        connection = await session.connection()
        for table in SQLModel.metadata.sorted_tables:
            rows = (await connection.execute(select(table))).mappings().all()
            tables[table.name] = [
                {k: v for k, v in row.items() if k not in ROUTER_KEEPS} for row in rows
            ]
    return tables


@pytest.fixture
async def stranger(router: Router) -> Chat:
    """A user who is no admin, left in an admin's conversation (say, one removed while
    composing a broadcast), with a job and an event for forged buttons to aim at."""
    chat = Chat(router, STRANGER)
    await chat.send("/start")
    await Chat(router, ADMIN).send("/start")
    async with router.context.sessions() as session:
        event = TrainingEvent(
            code="evt001", title="培训", event_date=date(2024, 10, 8), place="南沙"
        )
        event.survey_id, event.created_by = "training-satisfaction", ADMIN
        session.add(event)
        job = Broadcast(text="x", locale="zh_CN", created_by=ADMIN)
        await broadcast_jobs.create_broadcast(
            session, job, audiences.Audience("all"), "nansha-2024", {Channel.TELEGRAM}
        )
        conversation = await queries.conversation(session, STRANGER)
        conversation.flow = "broadcast"
        message = {"text": "x", "kind": None, "file_id": None, "filename": None}
        conversation.pending = {"step": "confirm", "message": message, "audience": "all"}
        session.add(conversation)
        await session.commit()
    return chat


@pytest.mark.parametrize("prefix", ADMIN_PREFIXES)
async def test_a_forged_admin_button_reaches_nothing(
    router: Router, stranger: Chat, prefix: str
) -> None:
    before = await snapshot(router)
    for action in ACTIONS:
        data = f"{prefix}:{action}" if action else prefix
        replies = await router.handle(Update(STRANGER, STRANGER, callback_data=data))
        assert [r.text for r in replies] == [ZH("error.stale_button")], data
    assert await snapshot(router) == before
    async with router.context.sessions() as session:
        assert (await queries.conversation(session, STRANGER)).flow is None


@pytest.mark.parametrize("name", ADMIN_COMMANDS)
async def test_a_forged_admin_command_button_is_an_unknown_command(
    router: Router, stranger: Chat, name: str
) -> None:
    before = await snapshot(router)
    await stranger.press_data(MENU.data(name))
    assert stranger.text == plain(ZH("error.unknown_command"))
    assert await snapshot(router) == before
