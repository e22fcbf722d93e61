"""The schema is made by migrations only, and they go down and up again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import models.tables  # noqa: F401  (the tables the migrations must produce)
from models.db import HEAD, alembic_config, create_engine, migrate


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


def _downgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "base")


async def test_migrations_make_every_table_and_undo_cleanly(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    await migrate(engine)
    async with engine.connect() as connection:
        assert await connection.run_sync(_tables) == set(SQLModel.metadata.tables)
    async with engine.begin() as connection:
        await connection.run_sync(_downgrade)
    async with engine.connect() as connection:
        assert await connection.run_sync(_tables) == set()
    await migrate(engine)
    async with engine.connect() as connection:
        assert await connection.run_sync(_tables) == set(SQLModel.metadata.tables)
    await engine.dispose()


def test_the_head_written_in_models_db_is_alembics() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD


async def test_a_start_on_a_current_schema_does_not_load_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine = create_engine(url)
    await migrate(engine)  # a new database: migrated
    await engine.dispose()
    again = (
        "import asyncio, sys\n"
        "from models.db import connect\n"
        f"engine, _ = asyncio.run(connect({url!r}))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    shown = subprocess.run([sys.executable, "-c", again], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "[]"
