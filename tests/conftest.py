"""Fixtures of every tier, and the tiers themselves: a test's folder is its marker.

Each test that asks for ``database_url`` gets a database of its own, a copy of one
migrated once per session (tests/databases.py). ``TEST_DATABASE_URL=postgresql://…``
puts the chat, contract and system tiers on fresh PostgreSQL databases of that server
instead of SQLite files: CI runs them on both, so what one engine gives back differently
from the other is found by a test rather than by an officer.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from forms.definition import Form, programme
from handlers.kernel.context import Context
from handlers.kernel.router import Router
from models.db import connect
from tests.databases import PostgresServer, sqlite_copy, sqlite_template

TESTS = Path(__file__).resolve().parent
TIERS = ("unit", "chat", "contract", "system", "browser")  # registered in pyproject.toml
ON_EITHER_ENGINE = ("chat", "contract", "system")
SWITCH = os.environ.get("TEST_DATABASE_URL")


@pytest.hookimpl(tryfirst=True)  # before -m deselects by the markers given here
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.resolve()
        if not path.is_relative_to(TESTS):  # not this conftest's business
            continue
        tier = path.relative_to(TESTS).parts[0]
        if tier not in TIERS:  # it would run in no tier's command, nor on PostgreSQL
            where = path.relative_to(TESTS.parent)
            raise pytest.UsageError(f"{where} is in no tier: move it to tests/<{'|'.join(TIERS)}>/")
        item.add_marker(tier)


@pytest.fixture
def form() -> Form:
    return programme("nansha-2024")


@pytest.fixture(scope="session")
def sqlite_migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[tuple[PostgresServer, str]]:
    """The server of TEST_DATABASE_URL and a migrated template database on it."""
    assert SWITCH is not None
    server = PostgresServer(SWITCH)
    template = server.template()
    yield server, template
    server.drop(template)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if SWITCH and any(request.node.get_closest_marker(tier) for tier in ON_EITHER_ENGINE):
        server, template = request.getfixturevalue("postgres_server")
        name, url = server.copy(template)
        yield url
        server.drop(name)
    else:
        yield sqlite_copy(request.getfixturevalue("sqlite_migrated"), tmp_path)


@pytest.fixture
async def router(database_url: str, form: Form) -> AsyncIterator[Router]:
    engine, sessions = await connect(database_url)
    yield Router(Context(sessions=sessions, form=form, admin_ids=frozenset({999})))
    await engine.dispose()
