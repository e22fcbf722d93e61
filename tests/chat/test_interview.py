"""The interview as a user lives it: chat in, replies out, through the router."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from forms.definition import Form
from handlers.kernel.router import Router
from handlers.kernel.types import Attachment
from locales import translator
from models.tables import Answer, Application, Flag
from testkit.answers import ELIGIBLE_ZH
from testkit.chat import Chat, answer, current_question, run_interview

t = translator("zh_CN")


async def test_first_contact_greets_with_privacy_notice_and_menu(router: Router) -> None:
    chat = Chat(router, 1)
    await chat.send("/start")
    assert "/delete" in chat.text and "/mydata" in chat.text  # the privacy notice
    assert [b.data for b in chat.keyboard()] == ["menu:apply", "menu:help", "menu:language"]
    await chat.send("/start")
    assert "/mydata" not in chat.text  # said once


async def test_an_eligible_enterprise_is_told_so(router: Router, form: Form) -> None:
    chat = Chat(router, 1)
    await chat.send("/apply")
    text = await run_interview(chat, form, ELIGIBLE_ZH)
    assert t("result.eligible") in text
    assert "5.13%" in text  # 1,900 / 37,000 万元 R&D over revenue
    assert "5.00%" in text  # 40 / 800 IP expenses over last year's R&D
    assert "37,000" in text


async def test_a_disqualifier_is_said_at_once_with_its_clause_and_can_be_corrected(
    router: Router, form: Form
) -> None:
    chat = Chat(router, 1)
    await chat.send("/apply")
    answers = dict(ELIGIBLE_ZH, prior_project="是")
    for _ in range(60):
        qid = current_question(form, "zh_CN", chat.text)
        if qid == "prior_project":
            await chat.press("是")
            break
        await run_one(chat, form, qid, answers)
    assert "X1" in chat.text
    # The next question is already asked; the user goes back to fix the mistake.
    assert current_question(form, "zh_CN", chat.text) == "joint_count"
    await chat.press(t("button.back"))
    assert current_question(form, "zh_CN", chat.text) == "prior_project"
    await chat.press("否")
    text = await run_interview(chat, form, ELIGIBLE_ZH)
    assert t("result.eligible") in text and "X1" not in text


def review_number(chat: Chat, label: str) -> str:
    """The item number the review screen shows for this label (a numbered button)."""
    for line in chat.text.splitlines():
        number, dot, rest = line.partition(". ")
        if dot and number.isdigit() and rest.startswith(label):
            return number
    raise AssertionError(f"{label!r} not in the review:\n{chat.text}")


async def run_one(chat: Chat, form: Form, qid: str | None, answers: dict[str, str]) -> None:
    assert qid is not None, chat.text
    await answer(chat, form, qid, answers)


async def test_every_flag_is_listed_with_reason_and_clause(router: Router, form: Form) -> None:
    chat = Chat(router, 1)
    await chat.send("/apply")
    answers = dict(
        ELIGIBLE_ZH,
        rd_y1="100",
        rd_y2="100",
        rd_y3="100",
        ip_expense="2",
        prior_project="是",
        abnormal_patents="是",
    )
    text = await run_interview(chat, form, answers)
    assert t("result.not_eligible") in text
    for clause in ("X1", "E5b", "E2a", "E2b"):
        assert clause in text
    assert "0.81%" in text  # 300 / 37,000, shown truncated, never rounded up to the threshold
    assert "2.00%" in text  # 2 / 100


async def test_bad_input_gets_a_reason_and_the_same_question(router: Router, form: Form) -> None:
    chat = Chat(router, 1)
    await chat.send("/apply")
    for qid in ("enterprise_name", "uscc", "contact_name", "contact_phone"):
        await chat.send(ELIGIBLE_ZH[qid])
    await chat.press("是")  # in Nansha
    await chat.send("我们不确定")  # a typed answer where a button is expected
    assert t("error.choice") in chat.text
    assert current_question(form, "zh_CN", chat.text) == "cluster"


async def test_a_photo_is_not_taken_for_an_answer_but_its_caption_is(
    router: Router, form: Form
) -> None:
    chat = Chat(router, 1)
    await chat.send("/apply")
    photo = Attachment("photo", "AgACAgQ-licence")
    await chat.send("", attachment=photo)  # e.g. the business licence, no caption
    assert t("error.attachment") in chat.text
    assert t("error.empty") not in chat.text
    assert current_question(form, "zh_CN", chat.text) == "enterprise_name"
    await chat.send("广州南沙甲科技有限公司", attachment=photo)  # a caption is typed text
    assert current_question(form, "zh_CN", chat.text) == "uscc"


async def test_amount_questions_refuse_nonsense(router: Router, form: Form) -> None:
    chat = Chat(router, 1)
    await chat.send("/apply")
    answers = dict(ELIGIBLE_ZH)
    while current_question(form, "zh_CN", chat.text) != "revenue_y1":
        await run_one(chat, form, current_question(form, "zh_CN", chat.text), answers)
    for typed, key in (("-5", "error.negative"), ("很多", "error.not_a_number")):
        await chat.send(typed)
        assert current_question(form, "zh_CN", chat.text) == "revenue_y1"
        assert t(key, text=typed, min=0).split("，")[0][:6] in chat.text
    await chat.send("999999999999")
    assert current_question(form, "zh_CN", chat.text) == "revenue_y1"
    await chat.send("1,234.5")
    assert current_question(form, "zh_CN", chat.text) == "revenue_y2"
    async with router.context.sessions() as session:
        stored = (
            await session.exec(select(Answer).where(Answer.question_id == "revenue_y1"))
        ).all()
    assert [a.value for a in stored] == ["1234.5"]  # nothing wrong was stored


async def test_back_changes_the_previous_answer_and_keeps_the_rest(
    router: Router, form: Form
) -> None:
    chat = Chat(router, 1)
    await chat.send("/apply")
    for qid in ("enterprise_name", "uscc", "contact_name"):
        await chat.send(ELIGIBLE_ZH[qid])
    await chat.press(t("button.back"))
    assert current_question(form, "zh_CN", chat.text) == "contact_name"
    assert "李明" in chat.text  # the current answer is shown
    await chat.press(t("button.back"))
    await chat.send("914403001922038216")  # a different, valid code
    # Straight back to where the user was: the answers after it are still there.
    assert current_question(form, "zh_CN", chat.text) == "contact_phone"
    async with router.context.sessions() as session:
        history = (await session.exec(select(Answer).where(Answer.question_id == "uscc"))).all()
    assert [(a.value, a.superseded_at is None) for a in history] == [
        (ELIGIBLE_ZH["uscc"], False),
        ("914403001922038216", True),
    ]


async def test_uscc_that_fails_its_check_is_confirmed_not_refused(
    router: Router, form: Form
) -> None:
    chat = Chat(router, 1)
    await chat.send("/apply")
    await chat.send(ELIGIBLE_ZH["enterprise_name"])
    await chat.send("91440101MA5CJQ4N58")
    assert "91440101MA5CJQ4N58" in chat.text
    await chat.press(t("button.retype"))
    assert current_question(form, "zh_CN", chat.text) == "uscc"
    await chat.send("91440101MA5CJQ4N58")
    await chat.press(t("button.confirm"))
    assert current_question(form, "zh_CN", chat.text) == "contact_name"
    text = await run_interview(chat, form, ELIGIBLE_ZH)
    assert "91440101MA5CJQ4N58" in text and "E0" in text  # flagged for review


async def test_review_lists_every_answer_and_each_can_be_changed(
    router: Router, form: Form
) -> None:
    chat = Chat(router, 1)
    await chat.send("/apply")
    await run_interview(chat, form, ELIGIBLE_ZH, submit=False)
    review = chat.text
    assert "广州南沙示例科技有限公司" in review and "15,000" in review
    # Change the number of joint applicants: the new branch is asked, then back to the review.
    await chat.press(review_number(chat, t("label.joint_count")))
    await chat.send("1")
    assert current_question(form, "zh_CN", chat.text) == "joint1_kind"
    await chat.press(t("joint_kind.university"))
    await chat.send("华南理工大学")
    assert t("review.title") in chat.text and "华南理工大学" in chat.text
    await chat.send("99")  # not an item number
    assert t("review.title") in chat.text
    assert f"“{t('button.submit')}”" in chat.text  # the error names the button as it reads
    await chat.press(t("button.submit"))
    assert t("result.eligible") in chat.text


async def test_a_submitted_application_starts_again_as_a_new_version(
    router: Router, form: Form
) -> None:
    chat = Chat(router, 1)
    await chat.send("/apply")
    await run_interview(chat, form, dict(ELIGIBLE_ZH, prior_project="是"))
    await chat.send("/apply")
    assert t("button.restart") in [b.text for b in chat.keyboard()]
    await chat.press(t("button.restart"))
    assert t("review.title") in chat.text  # answers copied: straight to the review
    await chat.press(review_number(chat, t("label.prior_project")))
    await chat.press("否")
    await chat.press(t("button.submit"))
    assert t("result.eligible") in chat.text
    async with router.context.sessions() as session:
        apps = (await session.exec(select(Application).order_by(Application.version))).all()
        assert [(a.version, a.verdict) for a in apps] == [(1, "not_eligible"), (2, "eligible")]
        assert all(a.programme_id == "nansha-2024" and a.programme_version == 1 for a in apps)
        first_flags = (
            await session.exec(select(Flag).where(Flag.application_id == apps[0].id))
        ).all()
    assert [f.clause for f in first_flags] == ["X1"]  # the old verdict is kept as judged


async def test_two_users_interleaved_never_see_each_other(router: Router, form: Form) -> None:
    alice, bob = Chat(router, 101), Chat(router, 202)
    await alice.send("/apply")
    await bob.send("/apply")
    await alice.send("甲公司")
    await bob.send("乙公司")
    await asyncio.gather(alice.send(ELIGIBLE_ZH["uscc"]), bob.send("914403001922038216"))
    await alice.press(t("button.back"))
    assert ELIGIBLE_ZH["uscc"] in alice.text and "914403001922038216" not in alice.text
    await bob.press(t("button.back"))
    assert "914403001922038216" in bob.text and ELIGIBLE_ZH["uscc"] not in bob.text


async def test_a_double_tap_answers_once(router: Router, form: Form) -> None:
    chat = Chat(router, 1)
    await chat.send("/apply")
    for qid in ("enterprise_name", "uscc", "contact_name", "contact_phone"):
        await chat.send(ELIGIBLE_ZH[qid])
    button = chat.find_button("是")
    from handlers.kernel.types import Event

    first, second = await asyncio.gather(
        router.handle(Event(1, 1, callback_data=button.data)),
        router.handle(Event(1, 1, callback_data=button.data)),
    )
    assert t("error.stale_button") in "".join(r.text for r in first + second)
    async with router.context.sessions() as session:
        stored = (await session.exec(select(Answer).where(Answer.question_id == "in_nansha"))).all()
    assert len(stored) == 1


async def test_cancel_pauses_and_apply_resumes_at_the_same_question(
    router: Router, form: Form
) -> None:
    chat = Chat(router, 1)
    await chat.send("/apply")
    await chat.send(ELIGIBLE_ZH["enterprise_name"])
    await chat.send("/cancel")
    assert t("cancel.interview") in chat.text
    await chat.send("随便说点什么")
    assert current_question(form, "zh_CN", chat.text) is None  # not taken as an answer
    await chat.send("/apply")
    assert current_question(form, "zh_CN", chat.text) == "uscc"


async def test_language_switch_reasks_the_question_in_the_new_language(
    router: Router, form: Form
) -> None:
    chat = Chat(router, 1)
    await chat.send("/apply")
    await chat.send("/language")
    await chat.press("English")
    assert current_question(form, "en", chat.text) == "enterprise_name"
    await chat.press("繁體中文")  # buttons of the language message stay valid
    assert current_question(form, "zh_HK", chat.text) == "enterprise_name"


async def test_language_is_guessed_from_telegram(router: Router, form: Form) -> None:
    for code, locale in (
        ("en-US", "en"),
        ("zh-hant", "zh_HK"),
        ("zh-hans", "zh_CN"),
        (None, "zh_CN"),
    ):
        chat = Chat(router, hash(code) % 10_000 + 10, language_code=code)
        await chat.send("/apply")
        assert current_question(form, locale, chat.text) == "enterprise_name"


async def test_mydata_sends_everything_stored(router: Router, form: Form) -> None:
    import json

    chat = Chat(router, 1)
    await chat.send("/apply")
    await chat.send("<b>{{ 7*7 }}</b>")
    await chat.send("/mydata")
    document = next(r.document for r in chat.last if r.document)
    data = json.loads(document.content)
    assert data["user"]["id"] == 1
    assert data["applications"][0]["answers"][0]["value"] == "<b>{{ 7*7 }}</b>"
    one = t.plural("mydata.kind.assessment", "mydata.kind.assessment.plural", 1)
    assert t("mydata.summary", forms=one) in chat.text


async def test_typed_markup_is_shown_as_text(router: Router, form: Form) -> None:
    chat = Chat(router, 1)
    await chat.send("/apply")
    await chat.send("<b>{{ 7*7 }}</b>")
    await chat.press(t("button.back"))
    html = "".join(r.text for r in chat.last)
    assert "&lt;b&gt;{{ 7*7 }}&lt;/b&gt;" in html and "<b>{{" not in html


async def test_delete_erases_after_confirmation(router: Router, form: Form) -> None:
    chat = Chat(router, 1)
    await chat.send("/apply")
    await chat.send("甲公司")
    await chat.send("/delete")
    await chat.press(t("button.delete_cancel"))
    async with router.context.sessions() as session:
        assert (await session.exec(select(Answer))).all()
    await chat.send("/delete")
    await chat.press(t("button.delete_confirm"))
    async with router.context.sessions() as session:
        assert not (await session.exec(select(Answer))).all()
        assert not (await session.exec(select(Application))).all()
    await chat.send("/start")
    assert "/mydata" in chat.text  # a new first contact: the privacy notice again


async def test_admin_commands_answer_non_admins_like_unknown_ones(router: Router) -> None:
    chat = Chat(router, 1)
    await chat.send("/nonsense")
    unknown = chat.text
    for command in ("/broadcast", "/stats", "/export", "/event"):
        await chat.send(command)
        assert chat.text == unknown
    admin = Chat(router, 999)
    await admin.send("/stats")
    assert admin.text != unknown


async def test_survey_without_a_code_asks_for_one(router: Router) -> None:
    chat = Chat(router, 1)
    await chat.send("/survey")
    assert chat.text == t("survey.code_needed")


async def test_help_lists_the_commands(router: Router) -> None:
    chat = Chat(router, 1)
    await chat.send("/help")
    for command in ("/apply", "/language", "/cancel", "/mydata", "/delete"):
        assert command in chat.text
    assert "/broadcast" not in chat.text


async def test_a_redelivered_update_is_handled_once(router: Router, form: Form) -> None:
    """After a crash Telegram sends again what it had not seen confirmed."""
    from handlers.kernel.types import Event

    await router.handle(Event.message(1, 1, "/apply", update_id=10))
    first = await router.handle(Event.message(1, 1, "甲公司", update_id=11))
    again = await router.handle(Event.message(1, 1, "甲公司", update_id=11))
    assert first and again == []
    chat = Chat(router, 1)
    await chat.send(ELIGIBLE_ZH["uscc"])
    assert current_question(form, "zh_CN", chat.text) == "contact_name"


BAD_INPUT = {  # question type → something wrong a person might type, and the reason given
    "text": ("字" * 501, "error.too_long"),
    "uscc": ("9144", "error.uscc_length"),
    "phone": ("12345", "error.phone"),
    "yes_no": ("也许吧", "error.yes_no"),
    "choice": ("其他行业", "error.choice"),
    "number": ("一百万", "error.not_a_number"),
    "integer": ("1.5", "error.not_whole"),
}


async def test_bad_input_at_every_question_type(router: Router, form: Form) -> None:
    chat = Chat(router, 1)
    await chat.send("/apply")
    tried = set()
    while (qid := current_question(form, "zh_CN", chat.text)) is not None:
        kind = form.question(qid).type
        if kind not in tried:
            typed, key = BAD_INPUT[kind]
            await chat.send(typed)
            assert current_question(form, "zh_CN", chat.text) == qid, chat.text
            max_length = form.question(qid).max_length
            values = {"text": typed, "max": max_length, "length": len(typed), "min": 0}
            assert chat.text.startswith(f"⚠️ {t(key, **values)}\n"), chat.text
            tried.add(kind)
        await run_one(chat, form, qid, ELIGIBLE_ZH)
    assert tried == set(BAD_INPUT)
    async with router.context.sessions() as session:
        values = [a.value for a in (await session.exec(select(Answer))).all()]
    assert not any(bad in values for bad, _ in BAD_INPUT.values())  # nothing wrong stored


async def test_mydata_names_each_kind_of_form_and_writes_amounts_plainly(
    router: Router, form: Form
) -> None:
    import json

    from handlers.training.survey import survey_form
    from tests.chat.test_survey import answer_survey, new_event

    chat = Chat(router, 1)
    await chat.send("/apply")
    await run_interview(chat, form, ELIGIBLE_ZH)  # revenue "10,000" (万元) among them
    event = await new_event(router, form)
    await chat.send(f"/survey {event.code}")
    await answer_survey(chat, form, "满意")
    await chat.send("/mydata")
    forms = t.list([
        t.plural("mydata.kind.assessment", "mydata.kind.assessment.plural", 1),
        t.plural("mydata.kind.survey", "mydata.kind.survey.plural", 1),
    ])  # fmt: skip
    assert chat.text == t("mydata.summary", forms=forms)
    data = json.loads(next(r.document for r in chat.last if r.document).content)
    assessment = next(a for a in data["applications"] if a["programme_id"] == form.id)
    revenue = next(a for a in assessment["answers"] if a["question_id"] == "revenue_y1")
    assert revenue["value"] == "10000"  # not "1E+4"
    assert assessment["figures"]["revenue_total"] == "37000"
    assert any(a["programme_id"] == survey_form(form).id for a in data["applications"])


async def test_after_a_language_change_the_menu_is_shown(router: Router) -> None:
    chat = Chat(router, 1)
    await chat.send("/start")
    await chat.send("/language")
    await chat.press("English")
    en = translator("en")
    assert en("language.set", language="English") in chat.text
    assert [b.text for b in chat.last[-1].buttons[0]] == [en("button.apply")]


async def test_limits_in_error_messages_read_as_numbers(router: Router, form: Form) -> None:
    chat = Chat(router, 1)
    await chat.send("/apply")
    for qid in ("enterprise_name", "uscc", "contact_name", "contact_phone", "in_nansha"):
        await answer(chat, form, qid, ELIGIBLE_ZH)
    while current_question(form, "zh_CN", chat.text) != "revenue_y1":
        await answer(chat, form, current_question(form, "zh_CN", chat.text) or "", ELIGIBLE_ZH)
    await chat.send("999999999999")
    assert "100,000,000" in chat.text
