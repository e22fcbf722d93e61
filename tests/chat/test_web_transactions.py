"""What a web answer costs the database: one transaction to handle it (the state, the step
and the replies, together) and one to read the page it leads to — counted by the
engine's own events, on SQLite and, where a server answers, PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from bot.pages.identity import Buckets
from forms.definition import Form
from handlers.kernel.context import Context
from handlers.kernel.router import Router
from locales import translator
from models.db import connect
from models.tables import Answer
from testkit.answers import ELIGIBLE_ZH
from testkit.chat import current_question
from testkit.web import WebVisitor
from tests.chat.test_postgres import postgres_url  # noqa: F401  (the fixture)
from tests.chat.test_redelivery import url  # noqa: F401  (SQLite, and PostgreSQL where it answers)
from tests.chat.test_web import serving

t = translator("zh_CN")


class Transactions:
    """Every transaction begun on the engine, and how it ended."""

    def __init__(self) -> None:
        self.begun = self.committed = self.rolled_back = 0

    def count(self, kind: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)

    def reset(self) -> None:
        self.begun = self.committed = self.rolled_back = 0


@contextmanager
def counted(engine: AsyncEngine) -> Iterator[Transactions]:
    seen = Transactions()
    listeners = {
        "begin": lambda _c: seen.count("begun"),
        "commit": lambda _c: seen.count("committed"),
        "rollback": lambda _c: seen.count("rolled_back"),
    }
    for name, listener in listeners.items():
        event.listen(engine.sync_engine, name, listener)
    try:
        yield seen
    finally:
        for name, listener in listeners.items():
            event.remove(engine.sync_engine, name, listener)


@pytest.fixture
async def asked(
    url: str,  # noqa: F811  (the fixture imported above)
    form: Form,
) -> AsyncIterator[tuple[WebVisitor, AsyncEngine]]:
    """A visitor at the interview's first question, and the engine to count on."""
    engine, sessions = await connect(url)
    router = Router(Context(sessions=sessions, form=form))
    fast = Buckets(rate=1000, burst=1000)
    async with serving(router, per_visitor=fast, per_address=fast) as address:
        browser = WebVisitor(address)
        await browser.get("/")
        await browser.press(t("button.apply"))
        yield browser, engine
        await browser.close()
    await engine.dispose()


async def answers(engine: AsyncEngine) -> list[str | None]:
    async with engine.connect() as connection:
        return list((await connection.execute(select(col(Answer.raw_text)))).scalars())


async def test_a_web_answer_costs_two_transactions(
    asked: tuple[WebVisitor, AsyncEngine], form: Form
) -> None:
    browser, engine = asked
    with counted(engine) as seen:
        await browser.send("甲公司")  # the form posted, then the page it leads to
        assert current_question(form, "zh_CN", browser.text) == "uscc"
        assert (seen.begun, seen.committed) == (2, 2)
        seen.reset()
        await browser.press(t("button.back"))  # a button is an answer as well
        assert current_question(form, "zh_CN", browser.text) == "enterprise_name"
        assert seen.begun == 2
        seen.reset()
        await browser.send(ELIGIBLE_ZH["enterprise_name"])
        assert seen.begun == 2


async def test_a_form_posted_again_costs_no_more_and_changes_nothing(
    asked: tuple[WebVisitor, AsyncEngine], form: Form
) -> None:
    browser, engine = asked
    stale = dict(browser.page.hidden)
    await browser.send("甲公司")
    with counted(engine) as seen:
        # The same form again (the back button, a double tap): not answered twice.
        await browser.post("/say", {**stale, "text": "乙公司"})
        assert current_question(form, "zh_CN", browser.text) == "uscc"
        assert seen.begun == 2 and seen.rolled_back >= 1
    assert await answers(engine) == ["甲公司"]
