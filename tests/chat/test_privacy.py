"""/delete deletes: a user who has done everything erases it, and a scan of every table
and column of the database finds nothing of theirs (only an event's satisfaction
figures stay, without anything that says whose they were)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import JSON, MetaData, Table, inspect, select
from sqlalchemy.engine import Connection

from bot.delivery.outbox import Delivery
from forms.definition import Form
from handlers.kernel.router import Router
from handlers.kernel.types import Event, Reply
from locales import translator
from models import audiences, broadcast_jobs, queries
from models.tables import Broadcast
from testkit.answers import ELIGIBLE_ZH
from testkit.chat import Chat, fill_details, run_interview
from tests.broadcast_helpers import PROGRAMME, ROUTES, MemorySender, wait_for_status
from tests.chat.test_survey import ADMIN, answer_survey, new_event, report_of

t = translator("zh_CN")
LEAVING, LEAVING_NAME = 73_519_208_641, "Zhou Xiaoyu 周晓雨"
OTHER = 7_002  # an admin the leaving user added
# What the leaving user types: nothing of it may remain. Numbers are distinctive, so
# finding one in the database is theirs, not a coincidence.
ANSWERS = {
    **ELIGIBLE_ZH,
    "enterprise_name": "广州南沙晓雨精密科技有限公司",
    "uscc": "91440115MA5AB7C8XM",
    "contact_name": "周晓雨",
    "contact_phone": "139 7351 9208",
    "sub_field": "晓雨牌谐波减速器",
    "rd_evidence": "晓雨团队牵头制定团体标准",
    "revenue_y1": "10,371",
    "revenue_y2": "12,583",
    "revenue_y3": "15,947",
    "rd_y1": "613.7",
    "rd_y2": "719.3",
    "rd_y3": "853.9",
    "ip_expense": "47.13",
}
DETAILS = {
    "address": "广州市南沙区晓雨路71号",
    "legal_representative": "周大山",
    "centre_head_name": "周小河",
    "centre_head_title": "晓雨中心主任",
    "ip_department": "是",
    "ip_staff": "37",
    "core_technology": "晓雨谐波传动",
    "main_products": "晓雨关节模组",
    "product_revenue": "8,317",
    "planned_patents": "23",
    "planned_event": "2024年11月，晓雨会议室，面向区内企业",
}
COMMENT = "晓雨觉得讲师讲得很好 👍"


class PersonChat(Chat):
    """A chat of a user with a name, keeping everything the user typed."""

    def __init__(self, router: Router, user_id: int, name: str) -> None:
        super().__init__(router, user_id)
        self.name = name
        self.typed: list[str] = []

    async def send(self, text: str, attachment: Any = None) -> list[Reply]:
        if not text.startswith("/"):
            self.typed.append(text)
        event = Event.message(
            self.user_id, self.user_id, text, self.language_code, display_name=self.name
        )
        return await self._handle(event)


@pytest.fixture
async def runner(router: Router) -> AsyncIterator[MemorySender]:
    sender = MemorySender()
    router.context.sender = sender
    router.context.broadcast_rate = 200.0
    running = Delivery(router.context, progress_seconds=0.2, poll_seconds=0.1)
    running.start()
    yield sender
    await running.stop()


async def give_everything(router: Router, form: Form, chat: PersonChat) -> int:
    """Two interview versions, draft details and a draft, a survey response with a
    comment, a broadcast received, admin rights (and an admin added); the event's id."""
    await chat.send("/apply")
    await run_interview(chat, form, {**ANSWERS, "prior_project": "是"})  # version 1
    await chat.send("/apply")
    await chat.press(t("button.restart"))
    await chat.press(t("button.submit"))  # version 2, the same answers
    await chat.send("/draft")
    await chat.press(t("button.fill_details"))
    from handlers.applicant.draft import details_form

    await fill_details(chat, details_form(form), dict(DETAILS))
    await chat.press(t("button.generate_draft"))
    assert any(r.document for r in chat.last), chat.text
    event = await new_event(router, form)
    await chat.send(f"/start survey-{event.code}")
    await answer_survey(chat, form, "非常满意", comment=COMMENT)
    admin = Chat(router, ADMIN)
    await admin.send("/start")
    await admin.send(f"/admins add {LEAVING}")
    await chat.send(f"/admins add {OTHER}")
    async with router.context.sessions() as session:
        assert await queries.is_stored_admin(session, LEAVING)
        assert await queries.is_stored_admin(session, OTHER)
        job = Broadcast(text="通知：培训改期", locale="zh_CN", created_by=ADMIN)
        job = await broadcast_jobs.create_broadcast(
            session, job, audiences.Audience.parse("all"), PROGRAMME, ROUTES
        )
        await session.commit()
    router.context.jobs_changed.set()
    await wait_for_status(router.context.sessions, job.id or 0)
    assert event.id is not None
    return event.id


Cell = tuple[str, str, bool, Any]  # table, column, whether it holds JSON, value


def _cells(connection: Connection) -> Iterator[Cell]:
    """Every cell of every table the database has (a table added later included)."""
    metadata = MetaData()
    for name in inspect(connection).get_table_names():
        if name == "alembic_version":
            continue
        table = Table(name, metadata, autoload_with=connection)
        json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
        for row in connection.execute(select(table)).mappings():
            for column, value in row.items():
                yield name, column, column in json_columns, value


def _leaves(value: Any) -> Iterator[Any]:
    """The scalars inside a value (JSON columns may hold lists and objects)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _leaves(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _leaves(v)
    elif isinstance(value, str) and value[:1] in "[{":
        try:
            yield from _leaves(json.loads(value))
        except ValueError:
            yield value
    else:
        yield value


def _number(text: str) -> float | None:
    """A typed number as stored (full-width digits and thousands separators gone)."""
    plain = text.translate({ord(c): ord("0") + i for i, c in enumerate("０１２３４５６７８９")})
    plain = re.sub(r"[,\s]", "", plain)
    return float(plain) if re.fullmatch(r"\d+(\.\d+)?", plain) else None


def traces(cells: Iterator[Cell], user_id: int, typed: list[str]) -> list[str]:
    """Every cell that holds the user's id, or anything they typed."""
    numbers = {n for text in typed if (n := _number(text)) is not None}
    texts = {text for text in typed if _number(text) is None}
    # A phone number as typed and as stored (digits only) both identify.
    texts |= {re.sub(r"\D", "", text) for text in texts if len(re.sub(r"\D", "", text)) >= 8}
    needles = {str(user_id), *texts}
    found = []
    for table, column, is_json, value in cells:
        for leaf in _leaves(value):
            if isinstance(leaf, bytes):
                leaf = leaf.decode(errors="replace")
            number = isinstance(leaf, int | float) and not isinstance(leaf, bool)
            hit = (
                (number and leaf == user_id)
                or (isinstance(leaf, str) and any(s in leaf for s in needles))
                # A typed figure, stored as an answer's value (ids and counts are not typed).
                or (is_json and _number(str(leaf)) in numbers)
            )
            if hit:
                found.append(f"{table}.{column} = {leaf!r}")
    return found


async def test_delete_leaves_nothing_of_the_user_but_anonymous_satisfaction_figures(
    router: Router, form: Form, runner: MemorySender
) -> None:
    chat = PersonChat(router, LEAVING, LEAVING_NAME)
    event_id = await give_everything(router, form, chat)
    assert runner.received(LEAVING) == 1  # the broadcast reached them
    typed = [*chat.typed, LEAVING_NAME]
    assert COMMENT in typed and ANSWERS["contact_phone"] in typed

    async def scan() -> list[str]:
        async with router.context.sessions() as session:
            connection = await session.connection()
            return await connection.run_sync(lambda c: traces(_cells(c), LEAVING, typed))

    before = await scan()
    # The scan sees what it must: the id, the name, the typed texts, the typed numbers.
    seen = " ".join(before)
    for where in ("user.id", "user.display_name", "admin.user_id", "admin.added_by",
                  "broadcastrecipient.user_id", "application.user_id", "answer.value",
                  "answer.raw_text", "conversation.user_id"):  # fmt: skip
        assert where in seen, where
    assert "10371" in seen or "10371.0" in seen  # revenue_y1, as a number
    report = await report_of(router, form, await _event(router, event_id))
    rate_before, responses_before = report.overall.rate, len(report.responses)

    await chat.send("/delete")
    await chat.press(t("button.delete_confirm"))
    assert t("delete.done") in chat.text

    assert await scan() == []
    # The event's satisfaction rate (clause K4) counts the response as before.
    report = await report_of(router, form, await _event(router, event_id))
    assert report.overall.rate == rate_before and len(report.responses) == responses_before
    # A new first contact: nothing is remembered (the privacy notice again).
    await chat.send("/start")
    assert "/delete" in chat.text and "/mydata" in chat.text


async def _event(router: Router, event_id: int) -> Any:
    from models.tables import TrainingEvent

    async with router.context.sessions() as session:
        return await session.get(TrainingEvent, event_id)
