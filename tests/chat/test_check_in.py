"""One attendee, one response (clause K4): an event's check-in cards (签到), each taking one
questionnaire; the report states the responses against attendance (回收率). The stuffing
attack of the security review — one client dropping its cookie between responses — no
longer moves the figure."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook
from yarl import URL

from bot.pages.identity import Buckets
from forms.definition import Form
from handlers.kernel.render import plain
from handlers.kernel.router import Router
from handlers.training import events
from handlers.training.survey import survey_form
from locales import translator
from models import attendance
from models.tables import TrainingEvent
from testkit.chat import Chat, current_question
from testkit.web import WebVisitor, answer_survey_in_pages
from tests.chat.test_web import serving

ZH = translator("zh_CN")
ADMIN = 999  # the conftest router's admin
FAST = Buckets(rate=1000, burst=1000)  # the attack at full speed: the cards, not the limits


async def event_with_cards(
    router: Router, form: Form, names: list[str]
) -> tuple[TrainingEvent, list[str]]:
    async with router.context.sessions() as session:
        event = await events.create_event(
            session, form, title="专利导航培训", event_date=date(2024, 10, 8), place="南沙",
            closes_at=None, created_by=ADMIN,
        )  # fmt: skip
        cards = await events.issue_cards(session, event, names)
        await session.commit()
    return event, [card.code for card in cards]


async def report(router: Router, form: Form, event: TrainingEvent) -> str:
    admin = Chat(router, ADMIN)
    await admin.send(f"/event report {event.code}")
    return admin.text


async def answer(chat: Chat, form: Form, level: str) -> None:
    survey = survey_form(form)
    while (qid := current_question(survey, "zh_CN", chat.text)) is not None:
        await chat.press(ZH("button.skip") if qid in ("comment", "topics") else level)
    await chat.press(ZH("button.survey_submit"))


async def test_a_card_checks_one_attendee_in_and_takes_one_response(
    router: Router, form: Form
) -> None:
    event, (first, second, third) = await event_with_cards(router, form, ["李明", "王芳", "陈静"])
    attendee = Chat(router, 7001)
    await attendee.send(f"/survey {event.code}")
    assert plain(ZH("survey.check_in_ask")) in attendee.text
    await attendee.send("ZZZZZZ")
    assert plain(ZH("survey.check_in_unknown", code="ZZZZZZ")) == attendee.text
    await attendee.send(first.lower()[:3] + " " + first.lower()[3:])  # as people type it
    assert plain(ZH("survey.check_in_ok")) in attendee.text
    await answer(attendee, form, "非常满意")

    someone_else = Chat(router, 7002)
    await someone_else.send(f"/survey {event.code}")
    await someone_else.send(first)
    assert plain(ZH("survey.check_in_used", code=first)) == someone_else.text
    await someone_else.send(second)
    await answer(someone_else, form, "一般")

    by_link = Chat(router, 7003)  # the personal link on the card: straight to the questions
    await by_link.send(f"/start survey-{event.code}-{third}")
    assert plain(ZH("survey.check_in_ask")) not in by_link.text
    await answer(by_link, form, "满意")

    said = await report(router, form, event)
    assert ZH("report.valid", count=3) in said
    assert plain(ZH("report.attendance", checked_in="3", issued="3", rate="100.0%")) in said
    assert ZH("report.met", rate="66.6%", target="85%") not in said  # 2 of 3: not met


async def test_dropping_the_cookie_does_not_move_the_figure(router: Router, form: Form) -> None:
    """Five genuine attendees, all 非常不满意; then one client opens the survey thirty times
    without its cookie, trying the cards it has seen and codes it makes up."""
    event, cards = await event_with_cards(router, form, [f"参会者{i}" for i in range(5)])
    survey = survey_form(form)
    async with serving(router, per_visitor=FAST, per_address=FAST) as site:
        for card in cards:
            genuine = WebVisitor(URL(site))
            try:
                await genuine.get(f"/s/{event.code}")
                await genuine.press(ZH("button.survey_start"))
                await genuine.send(card)
                await answer_survey_in_pages(genuine, survey, "非常不满意")
            finally:
                await genuine.close()
        answered = 0
        for attempt in range(30):
            stuffer = WebVisitor(URL(site))  # a new browser each time: no cookie
            try:
                await stuffer.get(f"/s/{event.code}")
                await stuffer.press(ZH("button.survey_start"))
                await stuffer.send(cards[attempt % 5] if attempt % 2 else f"AAAA{attempt:02d}")
                if current_question(survey, "zh_CN", stuffer.text) is not None:
                    await answer_survey_in_pages(stuffer, survey, "非常满意")
                    answered += 1
            finally:
                await stuffer.close()
    assert answered == 0
    said = await report(router, form, event)
    assert ZH("report.valid", count=5) in said
    assert plain(ZH("report.attendance", checked_in="5", issued="5", rate="100.0%")) in said
    assert ZH("report.not_met", rate="0.0%", target="85%") in said


async def test_an_event_without_cards_says_its_figure_cannot_be_checked(
    router: Router, form: Form
) -> None:
    async with router.context.sessions() as session:
        event = await events.create_event(
            session, form, title="无签到的讲座", event_date=date(2024, 10, 8), place="南沙",
            closes_at=None, created_by=ADMIN,
        )  # fmt: skip
        await session.commit()
    attendee = Chat(router, 7010)
    await attendee.send(f"/survey {event.code}")
    await answer(attendee, form, "满意")
    assert plain(ZH("report.no_check_in")) in await report(router, form, event)


def test_the_office_list_becomes_names_one_per_card() -> None:
    pasted = "姓名,单位\n李明,南沙示例科技\n\n  王 芳 ,\n陈静\n"
    assert events.attendee_names(pasted) == ["李明", "王 芳", "陈静"]


async def test_the_cards_spreadsheet_has_each_name_code_and_link(
    router: Router, form: Form
) -> None:
    names = ["李明", "王芳"]
    event, codes = await event_with_cards(router, form, names)
    async with router.context.sessions() as session:
        cards = await attendance.cards(session, event.id or 0)
    links = events.survey_links("https://bot.example.cn", None, event.code)
    book = load_workbook(io.BytesIO(events.cards_xlsx(ZH, event, cards, links)))
    rows = [r for r in book.worksheets[0].iter_rows(min_row=3, values_only=True)]
    assert [(r[0], r[1]) for r in rows] == list(zip(names, codes, strict=True))
    assert rows[0][2] == f"https://bot.example.cn/s/{event.code}-{codes[0]}"


async def test_an_attendee_who_erases_their_data_still_counts(router: Router, form: Form) -> None:
    event, (card, _) = await event_with_cards(router, form, ["李明", "王芳"])
    attendee = Chat(router, 7020)
    await attendee.send(f"/start survey-{event.code}-{card}")
    await answer(attendee, form, "满意")
    before = await report(router, form, event)
    await attendee.send("/delete")
    await attendee.press(ZH("button.delete_confirm"))
    assert await report(router, form, event) == before  # attended, answered: the same figure
    async with router.context.sessions() as session:
        used = [c for c in await attendance.cards(session, event.id or 0) if c.user_id]
    assert [c.code for c in used] == [card] and used[0].user_id != 7020  # nobody's any more
