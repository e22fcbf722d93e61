"""The database: URL → async engine, session factory, schema migrations (Alembic)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from models import sqlite_inline

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 0x70617465  # any number every patentbot process agrees on ("pate")
# The newest migration (tests/unit/test_migrations.py holds it to Alembic's head): a start on a
# schema already there need not import Alembic, 12 MB and a tenth of a second of every start.
HEAD = "0013_check_in"

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def to_async_url(url: str) -> str:
    """Accept a URL as people write it (``sqlite:///bot.db``, ``postgres://…``)."""
    if url.startswith("postgres://"):  # Heroku-style spelling
        url = "postgresql://" + url.removeprefix("postgres://")
    parsed = make_url(url)
    if "+" in parsed.drivername:
        return url
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ValueError(
            f"unsupported database {parsed.drivername!r}: use sqlite:/// or postgresql://"
        )
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets a second process read while one writes; busy_timeout waits instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=5000")  # first: the next one may wait, too
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    parsed = make_url(to_async_url(url))
    if parsed.drivername != "sqlite+aiosqlite":
        return create_async_engine(parsed)
    # The arguments aiosqlite would get, for a connection without its thread.
    args, kwargs = parsed.get_dialect()().create_connect_args(parsed)
    engine = create_async_engine(
        parsed, async_creator=partial(sqlite_inline.connect, *args, **kwargs)
    )
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


class SQLiteSession(AsyncSession):
    """A session that holds the process's SQLite write turn for its whole ``async with``.

    SQLite has one writer at a time. Without this, a transaction that has written (an
    autoflush) waits on the event loop while others wait on its lock; under load they
    give up with "database is locked" after busy_timeout (5–10% of 200 simultaneous
    users in bench/interview_load). Taking turns in the process costs nothing the single
    writer was not already costing; other processes still wait via busy_timeout.
    """

    turn: ClassVar[asyncio.Lock]  # one per session factory (see session_factory)

    async def __aenter__(self) -> SQLiteSession:
        await self.turn.acquire()
        try:
            await super().__aenter__()
        except BaseException:
            self.turn.release()
            raise
        return self

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await super().__aexit__(*exc)
        finally:
            self.turn.release()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    if engine.dialect.name != "sqlite":
        return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    session_class = type("SQLiteTurnSession", (SQLiteSession,), {"turn": asyncio.Lock()})
    return async_sessionmaker(engine, class_=session_class, expire_on_commit=False)


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection: Connection) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def _at_head(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        try:
            found = await connection.execute(text("SELECT version_num FROM alembic_version"))
        except DBAPIError:  # a new database: no such table yet
            return False
        return list(found.scalars()) == [HEAD]


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration (idempotent; safe at every start).

    Processes starting together on one PostgreSQL database (a scaled-out deployment) take
    turns: the lock is held until the migration commits, and the next one then finds the
    schema up to date instead of creating the same tables again."""
    if await _at_head(engine):
        return
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            lock = text("SELECT pg_advisory_xact_lock(:key)")
            await connection.execute(lock, {"key": MIGRATION_LOCK})
        await connection.run_sync(_upgrade)


async def connect(url: str) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    engine = create_engine(url)
    await migrate(engine)
    return engine, session_factory(engine)


@asynccontextmanager
async def database(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The database for one terminal command: connected (and migrated), then closed."""
    engine, sessions = await connect(url)
    try:
        yield sessions
    finally:
        await engine.dispose()
