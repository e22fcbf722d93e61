"""The same interview on PostgreSQL (DATABASE_URL=postgresql://…), where a server answers."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import make_url
from sqlmodel import select

from forms.definition import Form
from handlers.kernel.context import Context
from handlers.kernel.router import Router
from locales import translator
from models.db import connect
from models.tables import Answer
from testkit.answers import ELIGIBLE_ZH
from testkit.chat import Chat, run_interview

SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    asyncpg = pytest.importorskip("asyncpg")
    url = make_url(SERVER)
    try:
        admin = await asyncpg.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            password=url.password,
            database=url.database,
        )
    except (OSError, asyncpg.PostgresError) as e:
        pytest.skip(f"no PostgreSQL at {SERVER}: {e}")
    name = f"patentbot_test_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_interview_on_postgresql(postgres_url: str, form: Form) -> None:
    engine, sessions = await connect(postgres_url)
    await engine.dispose()
    engine, sessions = await connect(postgres_url)  # migrating twice is harmless
    try:
        router = Router(Context(sessions=sessions, form=form))
        chat = Chat(router, 7_000_000_001)  # Telegram ids exceed 32 bits
        await chat.send("/apply")
        await chat.send("甲公司")
        await chat.press(translator("zh_CN")("button.back"))
        text = await run_interview(chat, form, ELIGIBLE_ZH)
        assert translator("zh_CN")("result.eligible") in text
        async with sessions() as session:
            names = (
                await session.exec(select(Answer).where(Answer.question_id == "enterprise_name"))
            ).all()
        assert [a.value for a in names] == ["甲公司", ELIGIBLE_ZH["enterprise_name"]]
        assert names[0].superseded_at is not None and names[0].answered_at.tzinfo is not None
    finally:
        await engine.dispose()
