"""Databases for tests: one migrated template per session, a copy of it per test.

Migrations run at start only when the schema is behind (models.db.HEAD), so a copy of a
migrated template starts without them: nine migrations once per session instead of once
per test. SQLite's template is a file copied with shutil; PostgreSQL's is a database
that ``CREATE DATABASE … TEMPLATE`` copies inside the server.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from models.db import connect


async def _migrate(url: str) -> None:
    engine, _ = await connect(url)
    await engine.dispose()


def sqlite_template(folder: Path) -> Path:
    path = folder / "template.db"
    asyncio.run(_migrate(f"sqlite:///{path}"))
    # WAL is kept in the file's header; no -wal file is left once the last connection
    # closes, so the main file alone is the whole database to copy.
    assert not path.with_name(path.name + "-wal").exists()
    return path


def sqlite_copy(template: Path, folder: Path) -> str:
    path = folder / "bot.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


class PostgresServer:
    """A PostgreSQL server that tests make databases on, named in TEST_DATABASE_URL by
    one of its databases (``…/test``) to connect to while creating and dropping."""

    def __init__(self, url: str) -> None:
        self.url: URL = make_url(url)

    async def _execute(self, statement: str) -> None:
        import asyncpg

        admin = await asyncpg.connect(
            host=self.url.host,
            port=self.url.port,
            user=self.url.username,
            password=self.url.password,
            database=self.url.database,
        )
        try:
            await admin.execute(statement)
        finally:
            await admin.close()

    def _url(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, template: str | None = None) -> str:
        """A new database (a copy of ``template`` if named); its name."""
        # Unique names: other sessions (other worktrees, CI) share the server.
        name = f"patentbot_{'test' if template else 'template'}_{uuid.uuid4().hex[:12]}"
        copy = f' TEMPLATE "{template}"' if template else ""
        asyncio.run(self._execute(f'CREATE DATABASE "{name}"{copy}'))
        return name

    def template(self) -> str:
        name = self.create()
        asyncio.run(_migrate(self._url(name)))  # disposed: a template must have no sessions
        return name

    def copy(self, template: str) -> tuple[str, str]:
        """(name, URL) of a fresh copy of the template."""
        name = self.create(template)
        return name, self._url(name)

    def drop(self, name: str) -> None:
        # FORCE: a killed bot process may leave its connections behind.
        asyncio.run(self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
