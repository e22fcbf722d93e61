"""Upgrading to one outbox keeps what a running bot had: the updates it handled within
the day stay recognised, and replies a killed process never sent are sent, exactly."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection

from handlers.kernel import stored_replies
from handlers.kernel.types import Button, Document, Reply
from models import outbox
from models.db import alembic_config, create_engine, migrate, session_factory
from models.tables import utcnow


def _to(revision: str) -> Callable[[Connection], None]:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    return run


async def test_handled_updates_and_their_unsent_replies_move_to_the_outbox(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(_to("0009_web_notices"))
        # As handlers/kernel/stored_replies.py wrote a reply before: buttons as pairs, base64.
        old = {
            "text": "问题",
            "buttons": [[["是", "a:x:1"], ["否", "a:x:0"]]],
            "document": {
                "filename": "草稿.docx",
                "content": base64.b64encode(bytes(range(256))).decode(),
                "caption": "草稿",
                "file_id": None,
            },
            "photo": None,
            "edit": False,
            "accepts_text": True,
        }
        row = "INSERT INTO handledupdate VALUES (:bot, :update, :at, :replies)"
        for update, replies in ((41, [old]), (42, None)):
            params = {"bot": 7, "update": update, "at": utcnow() - timedelta(minutes=5)}
            encoded = None if replies is None else json.dumps(replies)
            await connection.execute(text(row), {**params, "replies": encoded})
    await migrate(engine)
    try:
        async with session_factory(engine)() as session:
            kept = await outbox.entry(session, "telegram:7", 41)
            assert kept is not None and kept.replies
            assert stored_replies.decode(kept.replies) == [
                Reply(
                    "问题",
                    ((Button("是", "a:x:1"), Button("否", "a:x:0")),),
                    document=Document("草稿.docx", bytes(range(256)), "草稿"),
                    accepts_text=True,
                )
            ]
            sent = await outbox.entry(session, "telegram:7", 42)
            assert sent is not None and not sent.replies
    finally:
        await engine.dispose()
