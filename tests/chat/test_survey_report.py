"""The officer's event report reads every answer as it was stored, on either engine.

PostgreSQL's driver decodes a JSON column itself where SQLite gives its text: the report
once failed on PostgreSQL with the chat's error page as soon as an attendee skipped an
optional question (null) or typed a comment (a string). CI runs this tier on both."""

from __future__ import annotations

from io import BytesIO

import openpyxl
from sqlmodel import select

from forms.definition import Form
from handlers.kernel.router import Router
from locales import translator
from models.tables import TrainingEvent
from testkit.chat import Chat
from testkit.office import Officer
from tests.chat.test_office import officer, site  # noqa: F401  (the fixtures)
from tests.chat.test_survey import answer_survey

t = translator("zh_CN")


async def test_skipped_and_typed_answers_reach_the_officers_report(
    router: Router,
    form: Form,
    officer: Officer,  # noqa: F811
) -> None:
    await officer.post(
        "/office/events", {"title": "专利培训会", "event_date": "2024-10-08", "place": "南沙"}
    )
    async with router.context.sessions() as session:
        event = (await session.exec(select(TrainingEvent))).one()
    skipping = Chat(router, 601)  # skips the comment and the topics: both optional
    await skipping.send(f"/survey {event.code}")
    await answer_survey(skipping, form, "非常满意")
    commenting = Chat(router, 602)
    await commenting.send(f"/survey {event.code}")
    await answer_survey(commenting, form, "一般", comment="讲得很好")

    await officer.get(f"/office/events/{event.id}")
    assert officer.status == 200
    assert t("report.valid", count=2) in officer.html
    assert t("report.not_met", rate="50.0%", target="85%") in officer.html
    await officer.get(f"/office/events/{event.id}/report.xlsx")
    responses = list(openpyxl.load_workbook(BytesIO(officer.body)).worksheets[1].values)
    comments = [row[responses[0].index(t("label.s_comment"))] for row in responses[1:]]
    assert sorted(comments, key=str) == [None, "讲得很好"]
