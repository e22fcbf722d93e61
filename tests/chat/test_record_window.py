""" "近三年" read the two ways the call means it (shared/domain/nansha-2024.md): the record
clauses (E5a, E5b, X1) run from the first of January of the first year up to the day of
application, so an event in 2024 disqualifies; the figures keep the three complete years."""

from __future__ import annotations

from datetime import date

import pytest

from forms.definition import Form
from handlers.kernel.render import plain, question_text
from handlers.kernel.router import Router
from locales import translator
from testkit.answers import eligible_answers
from testkit.chat import Chat, answer, current_question, run_interview

LANGUAGES = [("zh-hans", "zh_CN"), ("zh-hant", "zh_HK"), ("en", "en")]
RECORD = [("serious_dishonesty", "E5a"), ("abnormal_patents", "E5b"), ("prior_project", "X1")]
# How each language says "up to today" in these questions: the window has no end year.
UP_TO_TODAY = {"zh_CN": "至今", "zh_HK": "至今", "en": "up to today"}


@pytest.mark.parametrize(("language_code", "locale"), LANGUAGES)
@pytest.mark.parametrize(("qid", "clause"), RECORD)
async def test_an_event_in_2024_disqualifies_in_every_language(
    router: Router, form: Form, language_code: str, locale: str, qid: str, clause: str
) -> None:
    """A CNIPA notice of April 2024 (or a project taken on in March 2024) lies after the
    last year of the figures: the question must still cover it, and 是 must disqualify."""
    t = translator(locale)
    chat = Chat(router, 1, language_code=language_code)
    answers = eligible_answers(locale)
    await chat.send("/apply")
    while (asked := current_question(form, locale, chat.text)) != qid:
        assert asked is not None, chat.text
        await answer(chat, form, asked, answers)
    question = plain(question_text(t, form, form.question(qid)))
    assert t.date(date(2021, 1, 1)) in question and UP_TO_TODAY[locale] in question
    assert str(form.years[-1]) not in question  # no window that ends before the event
    await chat.press(t("button.yes"))
    assert clause in chat.text
    text = await run_interview(chat, form, {**answers, qid: t("button.yes")})
    assert t("result.not_eligible") in text and clause in text


async def test_the_window_comes_from_the_programme_file(form: Form) -> None:
    t = translator("zh_CN")
    assert form.record_since == date(2021, 1, 1)
    later = form.model_copy(update={"record_since": date(2022, 1, 1)})
    text = question_text(t, later, later.question("prior_project"))
    assert "2022年1月1日至今" in text and "2021" not in text
    # The figures keep the three complete years.
    assert question_text(t, form, form.question("revenue_y3")).count("2023") == 1
