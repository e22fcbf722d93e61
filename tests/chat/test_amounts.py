"""Amounts are confirmed, not guessed: separators that leave a doubt and figures that
look like yuan in a 万元 field are asked back with buttons; a product revenue above the
year's revenue is questioned; fewer planned patents than K3 asks is said when typed."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlmodel import select

from forms.answers import parse
from forms.definition import Form
from handlers.kernel.router import Router
from locales import translator
from models.tables import Answer
from testkit.answers import DETAILS_ZH, ELIGIBLE_ZH, eligible_answers
from testkit.chat import Chat, answer, current_question, fill_details
from tests.chat.test_draft import assessed, document_of
from tests.chat.test_draft import details as details  # the fixture

t = translator("zh_CN")


@pytest.mark.parametrize(
    ("typed", "key", "readings"),
    [
        ("1,23", "confirm.amount_reading_choose", [D("1.23"), D(123)]),
        ("1,2345", "confirm.amount_reading_choose", [D("1.2345"), D(12345)]),
        ("1.234,5", "confirm.amount_reading", [D("1234.5")]),
        ("1 8 2 0 0", "confirm.amount_reading", [D(18200)]),
        ("50000000元", "confirm.amount_yuan", [D(5000)]),
        ("800元", "confirm.amount_yuan", [D("0.08")]),
        ("50000000", "confirm.amount_large", [D(5000), D(50000000)]),
        ("5000000000", "confirm.amount_yuan", [D(500000)]),  # over the field's maximum
    ],
)
def test_what_could_be_misread_is_asked_back(
    form: Form, typed: str, key: str, readings: list[D]
) -> None:
    parsed = parse(form.question("revenue_y1"), typed)
    assert parsed.confirm == key
    assert list(parsed.choices or [parsed.value]) == readings


@pytest.mark.parametrize("typed", ["1,234.5", "1 234", "12,345", "123,456.5", "800万元"])
def test_usual_figures_are_taken_as_typed(form: Form, typed: str) -> None:
    assert parse(form.question("revenue_y1"), typed).confirm is None


async def stored(router: Router, qid: str) -> list[object]:
    async with router.context.sessions() as session:
        rows = await session.exec(select(Answer).where(Answer.question_id == qid))
        return [a.value for a in rows.all() if a.superseded_at is None]


async def at_revenue(router: Router, form: Form, language_code: str = "zh-hans") -> Chat:
    chat = Chat(router, 1, language_code=language_code)
    await chat.send("/apply")
    locale = "en" if language_code == "en" else "zh_CN"
    answers = eligible_answers(locale)
    while (qid := current_question(form, locale, chat.text)) != "revenue_y1":
        assert qid is not None, chat.text
        await answer(chat, form, qid, answers)
    return chat


async def test_an_ambiguous_comma_is_asked_back_with_both_readings(
    router: Router, form: Form
) -> None:
    chat = await at_revenue(router, form)
    await chat.send("1,23")
    assert current_question(form, "zh_CN", chat.text) is None  # not taken yet
    assert [b.text for b in chat.keyboard()] == ["1.23 万元", "123 万元", t("button.retype")]
    await chat.press("123 万元")
    assert current_question(form, "zh_CN", chat.text) == "revenue_y2"
    assert await stored(router, "revenue_y1") == ["123"]


async def test_odd_grouping_is_confirmed_or_typed_again(router: Router, form: Form) -> None:
    chat = await at_revenue(router, form)
    await chat.send("1 8 2 0 0")
    assert "18,200 万元" in chat.text
    await chat.press(t("button.retype"))
    assert current_question(form, "zh_CN", chat.text) == "revenue_y1"
    await chat.send("1.234,5")
    assert "您是指 1,234.5 万元吗？" in chat.text
    await chat.press(t("button.confirm"))
    assert await stored(router, "revenue_y1") == ["1234.5"]


async def test_yuan_typed_into_a_wan_yuan_field_is_offered_converted(
    router: Router, form: Form
) -> None:
    chat = await at_revenue(router, form)
    await chat.send("50000000元")
    assert "您是指 5,000 万元吗？" in chat.text
    await chat.press(t("button.confirm"))
    assert current_question(form, "zh_CN", chat.text) == "revenue_y2"
    await chat.send("50000000")  # no unit, implausibly large in 万元 (5,000亿元)
    assert "5,000 万元" in chat.text and current_question(form, "zh_CN", chat.text) is None
    await chat.press("50,000,000 万元")  # it really was that much
    assert await stored(router, "revenue_y1") == ["5000"]
    assert await stored(router, "revenue_y2") == ["50000000"]


async def test_the_yuan_offer_in_english(router: Router, form: Form) -> None:
    en = translator("en")
    chat = await at_revenue(router, form, "en")
    await chat.send("50000000元")
    assert "Do you mean 5,000 (in units of CNY 10,000)?" in chat.text
    await chat.press(en("button.confirm"))
    assert current_question(form, "en", chat.text) == "revenue_y2"


async def details_at(router: Router, form: Form, details: Form, qid: str) -> Chat:
    chat = await assessed(router, form, ELIGIBLE_ZH)
    await chat.press(t("button.draft"))
    await chat.press(t("button.fill_details"))
    while (asked := current_question(details, "zh_CN", chat.text)) != qid:
        assert asked is not None, chat.text
        await fill_details_one(chat, details, asked)
    return chat


async def fill_details_one(chat: Chat, details: Form, qid: str) -> None:
    given = DETAILS_ZH[qid]
    if any(b.text == given for b in chat.keyboard()):
        await chat.press(given)
    else:
        await chat.send(given)


async def test_a_product_revenue_above_the_years_revenue_is_questioned(
    router: Router, form: Form, details: Form
) -> None:
    chat = await details_at(router, form, details, "product_revenue")
    await chat.send("20,000")  # the interview gave 15,000 万元 of revenue for 2023
    assert "15,000" in chat.text and "2023" in chat.text
    assert current_question(details, "zh_CN", chat.text) is None
    await chat.press(t("button.retype"))
    assert current_question(details, "zh_CN", chat.text) == "product_revenue"
    await chat.send("20000")
    await chat.press(t("button.confirm"))  # it is right: stored as typed
    assert current_question(details, "zh_CN", chat.text) == "planned_patents"
    assert await stored(router, "product_revenue") == ["20000"]


async def test_fewer_planned_patents_than_k3_asks_is_said_when_typed(
    router: Router, form: Form, details: Form
) -> None:
    chat = await details_at(router, form, details, "planned_patents")
    await chat.send("10")
    assert "10" in chat.text and "15" in chat.text and "K3" in chat.text
    assert current_question(details, "zh_CN", chat.text) == "planned_event"  # taken
    await fill_details(chat, details, DETAILS_ZH)
    await chat.press(t("button.generate_draft"))
    assert document_of(chat).content  # the draft is still written
    assert await stored(router, "planned_patents") == [10]


async def test_enough_planned_patents_go_without_a_word(
    router: Router, form: Form, details: Form
) -> None:
    chat = await details_at(router, form, details, "planned_patents")
    await chat.send("15")
    assert "K3" not in chat.text
    assert current_question(details, "zh_CN", chat.text) == "planned_event"
