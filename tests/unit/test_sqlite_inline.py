"""SQLite runs on the event loop's thread (models/sqlite_inline.py), and still behaves as a
database: what is committed is on disk for another connection, a write waits for another
process's write lock rather than failing, a failed statement raises SQLAlchemy's error."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from models.db import create_engine

CREATE = text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")


def insert(id_: int) -> tuple[object, dict[str, object]]:
    return text("INSERT INTO notes (id, body) VALUES (:id, 'x')"), {"id": id_}


async def test_a_committed_write_is_on_disk_and_no_thread_was_started(tmp_path: Path) -> None:
    threads = threading.active_count()
    engine = create_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        async with engine.begin() as connection:
            await connection.execute(CREATE)
            await connection.execute(*insert(7))
        assert threading.active_count() == threads
    finally:
        await engine.dispose()
    with sqlite3.connect(tmp_path / "bot.db") as other:
        assert other.execute("SELECT id FROM notes").fetchall() == [(7,)]


async def test_a_write_waits_for_another_connections_lock(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    with sqlite3.connect(path) as setup:  # the bot's database is in WAL mode
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute(CREATE.text)
    engine = create_engine(f"sqlite:///{path}")
    other = sqlite3.connect(path, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process's write, in progress
    other.execute("INSERT INTO notes (id, body) VALUES (1, 'theirs')")
    release = threading.Timer(0.3, other.commit)
    release.start()
    try:
        async with engine.begin() as connection:
            await connection.execute(*insert(2))
        async with engine.connect() as connection:
            found = await connection.execute(text("SELECT id FROM notes ORDER BY id"))
            assert list(found.scalars()) == [1, 2]
    finally:
        release.join()
        other.close()
        await engine.dispose()


async def test_a_failed_statement_raises_and_rolls_back(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        async with engine.begin() as connection:
            await connection.execute(CREATE)
            await connection.execute(*insert(3))
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(*insert(4))
                await connection.execute(*insert(3))
        # SQLAlchemy sets the isolation level through aiosqlite's queue: run inline too.
        autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        async with autocommit.connect() as connection:
            found = await connection.execute(text("SELECT id FROM notes"))
            assert list(found.scalars()) == [3]
    finally:
        await engine.dispose()
