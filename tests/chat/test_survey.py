"""Training events and their satisfaction survey (clause K4): scan, answer, report."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from forms.definition import Form
from handlers.kernel.render import plain
from handlers.kernel.router import Router
from handlers.training import events
from handlers.training.report import chart_font_path, chart_png, compute, report_xlsx
from handlers.training.survey import survey_form
from locales import LOCAL_TIME, translator
from models.tables import Answer, Application, TrainingEvent
from testkit.chat import Chat, current_question
from tests.xlsx import column_width

t = translator("zh_CN")
ADMIN = 999  # an admin in the router fixture
LEVELS = ["非常满意", "满意", "一般", "不满意", "非常不满意"]


async def new_event(router: Router, form: Form, **kw: object) -> TrainingEvent:
    async with router.context.sessions() as session:
        event = await events.create_event(
            session,
            form,
            title=str(kw.get("title", "高价值专利培育培训会")),
            event_date=date(2024, 10, 8),
            place="南沙",
            closes_at=kw.get("closes_at"),  # type: ignore[arg-type]
            created_by=ADMIN,
        )
        await session.commit()
        return event


async def answer_survey(
    chat: Chat, form: Form, overall: str, *, others: str = "满意", comment: str | None = None
) -> None:
    """Answer every rating; the comment as given (else skipped), topics skipped."""
    survey = survey_form(form)
    while (qid := current_question(survey, "zh_CN", chat.text)) is not None:
        if qid == "comment" and comment is not None:
            await chat.send(comment)
        elif qid in ("comment", "topics"):
            await chat.press(t("button.skip"))
        else:
            await chat.press(overall if qid == "overall" else others)
    await chat.press(t("button.survey_submit"))


async def report_of(router: Router, form: Form, event: TrainingEvent):  # type: ignore[no-untyped-def]
    async with router.context.sessions() as session:
        return await events.load_report(session, form, event)


async def test_an_attendee_answers_from_the_deep_link(router: Router, form: Form) -> None:
    event = await new_event(router, form)
    chat = Chat(router, 501, language_code="en")  # never used the bot before
    await chat.send(f"/start survey-{event.code}")
    assert "/delete" in chat.text  # privacy notice at first contact
    assert current_question(survey_form(form), "en", chat.text) == "relevance"
    assert [b.text for b in chat.keyboard()] == [
        "Very satisfied", "Satisfied", "Neutral", "Dissatisfied", "Very dissatisfied"
    ]  # fmt: skip
    en = translator("en")
    for _ in range(5):
        await chat.press("Very satisfied")
    await chat.send("Great session <b>!</b>")
    await chat.press(en("button.skip"))
    assert en("survey.review_title") in chat.text
    await chat.press(en("button.survey_submit"))
    assert en("survey.thanks", event="").split("{")[0][:10] in chat.text
    report = await report_of(router, form, event)
    assert report.valid == 1 and report.overall.rate == 1 and report.met


async def test_one_response_per_attendee_changing_keeps_history(router: Router, form: Form) -> None:
    event = await new_event(router, form)
    chat = Chat(router, 502)
    await chat.send(f"/survey {event.code.upper()}")  # typed, any case
    await answer_survey(chat, form, "一般")
    await chat.send(f"/start survey-{event.code}")  # scans the code again
    assert t("button.survey_change") in [b.text for b in chat.keyboard()]
    await chat.press(t("button.survey_change"))
    number = next(line.split(".")[0] for line in chat.text.splitlines() if "总体满意度" in line)
    await chat.press(number)
    await chat.press("非常满意")
    await chat.press(t("button.survey_submit"))
    async with router.context.sessions() as session:
        responses = (
            await session.exec(select(Application).where(Application.event_id == event.id))
        ).all()
        overall = (await session.exec(select(Answer).where(Answer.question_id == "overall"))).all()
    assert len(responses) == 1
    assert [(a.value, a.superseded_at is None) for a in overall] == [("3", False), ("5", True)]
    report = await report_of(router, form, event)
    assert report.valid == 1 and report.overall.counts == {5: 1}


async def test_unknown_and_closed_events_say_so(router: Router, form: Form) -> None:
    chat = Chat(router, 503)
    await chat.send("/survey nosuch")
    assert chat.text == t("survey.unknown", code="nosuch")
    past = datetime.now().astimezone() - timedelta(hours=1)
    event = await new_event(router, form, closes_at=past)
    await chat.send(f"/survey {event.code}")
    assert "已经关闭" in chat.text


async def test_stop_halfway_and_continue_later(router: Router, form: Form) -> None:
    event = await new_event(router, form)
    chat = Chat(router, 504)
    await chat.send(f"/survey {event.code}")
    await chat.press("满意")
    await chat.press("满意")
    await chat.send("/cancel")
    await chat.send(f"/survey {event.code}")
    assert current_question(survey_form(form), "zh_CN", chat.text) == "organisation"
    report = await report_of(router, form, event)
    assert report.valid == 0  # an unfinished questionnaire is not a valid one


@pytest.mark.parametrize(
    ("overall", "rate", "met"),
    [
        ([], None, None),  # no responses: nothing to judge
        (["一般"] * 4, Decimal(0), False),  # all neutral
        (["非常满意"] * 10 + ["满意"] * 7 + ["一般"] * 3, Decimal("0.85"), True),  # exactly 85%
        (["满意"] * 16 + ["不满意"] * 4, Decimal("0.8"), False),
    ],
)
async def test_the_satisfaction_rate(
    router: Router, form: Form, overall: list[str], rate: Decimal | None, met: bool | None
) -> None:
    event = await new_event(router, form)
    for n, level in enumerate(overall):
        chat = Chat(router, 1000 + n)
        await chat.send(f"/survey {event.code}")
        await answer_survey(chat, form, level, others="非常满意")
    report = await report_of(router, form, event)
    assert report.valid == len(overall)
    assert report.overall.rate == rate and report.met is met
    if overall:
        assert report.items[0].rate == 1 and report.items[0].mean == 5
        admin = Chat(router, ADMIN)  # /stats reads only the overall item: the same figure
        await admin.send("/stats")
        assert f"满意度 {t.percent(rate, digits=1)} {'✅' if met else '❌'}" in admin.text


async def test_admin_creates_an_event_and_gets_link_and_qr(router: Router, form: Form) -> None:
    router.context.bot_username = "patentbot_test"
    admin = Chat(router, ADMIN)
    await admin.send("/event")
    await admin.press(t("button.event_new"))
    await admin.send("专利培育培训会")
    await admin.send("2024年10月8日")
    await admin.send("南沙 ")
    await admin.send("2024-10-08 25:00")  # no such hour
    assert t("error.datetime") in admin.text
    await admin.send("2024-10-08 18:00")  # a closing time that has passed
    assert t("error.datetime_past") in admin.text
    next_year = datetime.now(LOCAL_TIME).year + 1
    await admin.send(f"{next_year}-10-08 18:00")
    assert f"{next_year}年10月8日 18:00" in admin.text  # the review, to the minute
    await admin.press(t("button.event_create"))
    async with router.context.sessions() as session:
        event = (await session.exec(select(TrainingEvent))).one()
    link = f"https://t.me/patentbot_test?start=survey-{event.code}"
    assert link in admin.text
    photo = next(r.photo for r in admin.last if r.photo is not None)
    assert photo.content.startswith(b"\x89PNG")
    assert event.title == "专利培育培训会" and event.place == "南沙"
    assert event.closes_at is not None and event.closes_at.hour == 10  # 18:00 UTC+8
    # Close it: attendees are told; reopen: they can answer again.
    await admin.send(f"/event close {event.code}")
    attendee = Chat(router, 600)
    await attendee.send(f"/survey {event.code}")
    assert "已经关闭" in attendee.text
    await admin.send(f"/event open {event.code}")
    await attendee.send(f"/survey {event.code}")
    assert current_question(survey_form(form), "zh_CN", attendee.text) == "relevance"


async def test_an_event_title_is_text_in_the_qr_caption(router: Router, form: Form) -> None:
    router.context.bot_username = "patentbot_test"
    event = await new_event(router, form, title="<专利> & 培训")
    admin = Chat(router, ADMIN)
    await admin.send("/event")
    await admin.press(f"ev:show:{event.id}")
    await admin.press(f"ev:qr:{event.id}")
    photo = next(r.photo for r in admin.last if r.photo is not None)
    assert "&lt;专利&gt; &amp; 培训" in photo.caption  # Telegram HTML: shown as typed


async def test_event_commands_are_for_admins_only(router: Router, form: Form) -> None:
    chat = Chat(router, 700)
    await chat.send("/event")
    assert chat.text == t("error.unknown_command")


async def test_report_text_chart_and_spreadsheet(router: Router, form: Form) -> None:
    event = await new_event(router, form)
    for n, level in enumerate(["非常满意", "满意", "一般"]):
        chat = Chat(router, 800 + n)
        await chat.send(f"/survey {event.code}")
        await answer_survey(chat, form, level, comment="=1+1" if n == 0 else None)
    admin = Chat(router, ADMIN)
    await admin.send(f"/event report {event.code}")
    text = admin.text
    # 2 of 3, truncated like every ratio here: a figure is never rounded up to a target.
    assert t("report.not_met", rate="66.6%", target="85%") in text
    assert t("report.valid", count=3) in text
    chart = next(r.photo for r in admin.last if r.photo is not None)
    assert chart.content.startswith(b"\x89PNG")
    sheet = next(r.document for r in admin.last if r.document is not None)
    book = load_workbook(io.BytesIO(sheet.content))
    summary, raw = book.worksheets
    rows = {row[0]: row for row in summary.iter_rows(values_only=True) if row and row[0]}
    overall = rows["总体满意度"]
    assert list(overall[1:6]) == [1, 1, 1, 0, 0] and overall[6] == 3
    # The cell holds what it shows, as the chat: 66.6%, never a 66.7% rounded up.
    assert overall[7] == pytest.approx(0.666) and overall[8] == pytest.approx(4.0)
    assert rows["绩效要求（总体满意度）"][2] == "未达到"
    responses = list(raw.iter_rows(values_only=True))
    assert len(responses) == 4 and responses[0][0] == "序号"
    assert "用户 ID" not in responses[0]  # anonymous by default
    assert set(r[2 + 4] for r in responses[1:]) == {"非常满意", "满意", "一般"}
    comment = raw.cell(row=2, column=2 + 5 + 1)
    assert comment.value == "=1+1" and comment.data_type == "s"  # text, never a formula


def test_chart_font_has_chinese_glyphs(form: Form) -> None:
    from matplotlib.ft2font import FT2Font

    font = FT2Font(str(chart_font_path()))
    labels = "".join(translator(loc)(key) for loc in ("zh_CN", "zh_HK") for key in (
        "label.s_overall", "scale.very_satisfied", "report.chart_axis"))  # fmt: skip
    missing = [c for c in labels if not c.isascii() and font.get_char_index(ord(c)) == 0]
    assert not missing, f"no glyph for {missing}"
    empty = compute(form, TrainingEvent(code="x", title="标题", event_date=date(2024, 1, 1),
                    place="南沙", survey_id="s", created_by=1), [], [])  # fmt: skip
    assert chart_png(t, empty).startswith(b"\x89PNG")


async def test_the_chart_marks_each_rate_and_the_target(router: Router, form: Form) -> None:
    from handlers.training.report import chart_figure

    event = await new_event(router, form)
    for n, level in enumerate(["非常满意", "满意", "一般"]):
        chat = Chat(router, 820 + n)
        await chat.send(f"/survey {event.code}")
        await answer_survey(chat, form, level)
    figure = chart_figure(t, await report_of(router, form, event))
    (axes,) = figure.axes
    texts = [text.get_text() for text in axes.texts]
    # Every item's rate beside its bar: the others all 满意, overall 2 of 3 satisfied.
    assert texts.count("100.0%") == 4 and texts.count("66.6%") == 1
    assert t("report.col_rate") in texts
    target = [line for line in axes.get_lines() if list(line.get_xdata()) == [85.0, 85.0]]
    assert len(target) == 1 and target[0].get_linestyle() == "--"
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert t("report.chart_target", target="85%") in legend and "非常满意" in legend
    assert axes.get_legend().get_bbox_to_anchor().y0 >= axes.bbox.y1 - 1  # above the bars
    png = chart_png(t, await report_of(router, form, event))
    width = int.from_bytes(png[16:20], "big")  # the PNG header's width, in pixels
    assert width >= 1800  # 6.3 in at 300 dpi: sharp across an A4 page


async def test_a_chart_without_responses_says_so(router: Router, form: Form) -> None:
    from handlers.training.report import chart_figure

    event = await new_event(router, form)
    (axes,) = chart_figure(t, await report_of(router, form, event)).axes
    assert [text.get_text() for text in axes.texts] == [t("report.chart_empty")]
    assert not axes.patches  # no empty bars


async def test_the_report_spreadsheet_opens_ready_to_read(router: Router, form: Form) -> None:
    event = await new_event(router, form)
    chat = Chat(router, 830)
    await chat.send(f"/survey {event.code}")
    await answer_survey(chat, form, "满意", comment="讲得很好，希望多举案例" * 3)
    report = report_xlsx(t, await report_of(router, form, event))
    summary, raw = load_workbook(io.BytesIO(report)).worksheets
    header = [cell.value for cell in raw[1]]
    submitted = chr(ord("A") + header.index(t("report.col_submitted")))
    assert column_width(raw, submitted) >= 16  # "2024-10-08 17:00", not "###"
    assert column_width(raw, chr(ord("A") + header.index(t("label.s_comment")))) >= 40
    assert raw.freeze_panes == "B2" and raw.auto_filter.ref == f"A1:{chr(64 + len(header))}2"
    item_row = next(r for r in summary.iter_rows() if r[0].value == t("report.col_item"))
    assert summary.freeze_panes == f"B{item_row[0].row + 1}"
    rate = next(c for c in item_row if c.value == t("report.col_rate")).column_letter
    overall = next(r for r in summary.iter_rows() if r[0].value == t("label.s_overall"))
    assert summary[f"{rate}{overall[0].row}"].number_format == "0.0%"
    assert column_width(summary, "A") >= 2 * len(t("label.s_overall"))


async def test_no_qr_code_is_offered_that_no_phone_can_open(router: Router, form: Form) -> None:
    assert router.context.bot_username is None  # a terminal without BOT_USERNAME
    admin = Chat(router, ADMIN)
    await admin.send("/event new")
    for typed in ("专利培训会", "2024-10-08", "南沙", "2099-10-08 17:00"):
        await admin.send(typed)
    await admin.press(t("button.event_create"))
    assert all(r.photo is None for r in admin.last)
    async with router.context.sessions() as session:
        event = (await session.exec(select(TrainingEvent))).one()
    no_link = events.no_link_text(t, event.code)
    assert plain(no_link) in admin.text and "BOT_USERNAME" in admin.text
    assert t("event.created_qr") not in admin.text  # nobody is told to scan
    await admin.press(t("button.event_qr"))
    assert admin.last[0].photo is None and admin.text == plain(no_link)


async def test_the_event_card_names_the_web_address_and_the_telegram_link(
    router: Router, form: Form
) -> None:
    router.context.public_url = "https://bot.example.cn"
    router.context.bot_username = "patentbot_test"
    event = await new_event(router, form)
    admin = Chat(router, ADMIN)
    await admin.send(f"/event show {event.code}")
    web = f"https://bot.example.cn/s/{event.code}"
    assert plain(t("event.link_web", url=web)) in admin.text
    assert f"https://t.me/patentbot_test?start=survey-{event.code}" in admin.text
    await admin.press(t("button.event_qr"))
    photo = admin.last[0].photo
    assert photo is not None and photo.content == events.qr_png(web)  # what WeChat opens
