"""The schema is made by migrations only, and they go down and up again."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import models.tables  # noqa: F401  (the tables the migrations must produce)
from models.db import alembic_config, create_engine, migrate


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
