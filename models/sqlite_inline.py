"""SQLite's calls on the event loop's own thread: aiosqlite's connection without its thread.

aiosqlite runs every call of the sqlite3 module (cursor, execute, fetch, close, commit) on a
thread of its own and wakes the event loop with each result. SQLite is a library in this
process whose calls take microseconds; the hand-offs cost more than the calls: half
of the bot's CPU per update or more (``bench/hot_path``: 4.2–6.1 ms with the thread, 2.0–2.6 ms
without, issue 15). The price: a call that waits holds up the whole process, not just its
own coroutine. In one process nothing waits — the process writes one session at a time
(``models.db.SQLiteSession``), and WAL readers never wait — only another process's write
does (busy_timeout), and a deployment of several processes is one on PostgreSQL.

SQLAlchemy's aiosqlite dialect takes the connection through ``async_creator``, its public
way to supply the driver's connection; nothing else of the dialect changes.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Generator
from functools import partial
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")


class InlineConnection(aiosqlite.Connection):
    """aiosqlite's connection, each call run where it is awaited."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _Inline()  # type: ignore[assignment]  # SQLAlchemy queues on it directly

    async def _execute(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    async def _connect(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self) -> Generator[Any, None, InlineConnection]:
        return self._connect().__await__()  # no thread to start

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class _Inline:
    """aiosqlite's queue to its thread, for SQLAlchemy's one direct use of it (setting the
    isolation level): the function runs at once and its future is resolved."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:  # handed to whoever awaits it, as the thread would
            if future is not None:
                future.set_exception(error)
        else:
            if future is not None:
                future.set_result(result)


async def connect(*args: Any, **kwargs: Any) -> InlineConnection:
    """A connection, with the arguments ``sqlite3.connect`` takes."""
    return await InlineConnection(partial(sqlite3.connect, *args, **kwargs))
