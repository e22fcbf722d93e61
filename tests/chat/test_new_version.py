"""A new assessment version carries the draft details along with the answers: version 2's
draft is not back to blank placeholders, and each detail stays changeable."""

from __future__ import annotations

from forms.definition import Form
from handlers.kernel.render import plain
from handlers.kernel.router import Router
from locales import translator
from testkit.answers import DETAILS_ZH, ELIGIBLE_ZH
from testkit.chat import fill_details, run_interview
from tests.chat.test_draft import assessed, document_of
from tests.chat.test_draft import details as details  # the fixture
from tests.chat.test_interview import review_number
from tests.docx_text import read_docx

t = translator("zh_CN")


async def test_a_new_version_keeps_the_draft_details_and_each_can_be_changed(
    router: Router, form: Form, details: Form
) -> None:
    chat = await assessed(router, form, ELIGIBLE_ZH)
    await chat.press(t("button.draft"))  # under the result
    await chat.press(t("button.fill_details"))
    await fill_details(chat, details, DETAILS_ZH)
    await chat.press(t("button.generate_draft"))
    assert read_docx(document_of(chat).content).highlighted == []

    await chat.send("/apply")
    await chat.press(t("button.restart"))
    assert t("interview.new_version", version=2) in chat.text
    result = await run_interview(chat, form, ELIGIBLE_ZH)  # every answer is already there
    assert plain(t("result.programme", programme=t(form.title), version=2)) in result
    await chat.send("/draft")
    doc = read_docx(document_of(chat).content)  # no questions asked again
    assert doc.highlighted == []  # all 11 details came along
    assert doc.row("法定代表人")[1] == "王强" and "陈静" in doc.text

    await chat.press(t("button.change_details"))
    await chat.press(review_number(chat, t("label.legal_representative")))
    await chat.send("李华")
    await chat.press(t("button.generate_draft"))
    assert read_docx(document_of(chat).content).row("法定代表人")[1] == "李华"
