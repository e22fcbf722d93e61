from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from forms.definition import Form, programme
from handlers.context import Context
from handlers.router import Router
from models.db import connect


@pytest.fixture
def form() -> Form:
    return programme("nansha-2024")


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
async def router(database_url: str, form: Form) -> AsyncIterator[Router]:
    engine, sessions = await connect(database_url)
    yield Router(Context(sessions=sessions, form=form, admin_ids=frozenset({999})))
    await engine.dispose()
