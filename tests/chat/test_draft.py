"""/draft: the Word document an enterprise finishes, opened back and read."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from forms.definition import Form
from handlers.kernel.router import Router
from handlers.kernel.types import Document
from locales import translator
from models.tables import Draft
from testkit.answers import DETAILS_ZH, ELIGIBLE_ZH, eligible_answers
from testkit.chat import Chat, current_question, fill_details, run_interview
from tests.docx_text import read_docx

t = translator("zh_CN")


def document_of(chat: Chat) -> Document:
    documents = [r.document for r in chat.last if r.document is not None]
    assert len(documents) == 1, chat.text
    return documents[0]


async def assessed(router: Router, form: Form, answers: dict[str, str], user: int = 1) -> Chat:
    chat = Chat(router, user)
    await chat.send("/apply")
    await run_interview(chat, form, answers)
    return chat


@pytest.fixture
def details(form: Form) -> Form:
    from handlers.applicant.draft import details_form

    return details_form(form)


async def test_draft_of_an_eligible_application_carries_every_answer(
    router: Router, form: Form, details: Form
) -> None:
    chat = await assessed(router, form, ELIGIBLE_ZH)
    await chat.press(t("button.draft"))  # under the result
    assert "11" in chat.text  # how many details it will ask, all skippable
    await chat.press(t("button.fill_details"))
    await chat.send("字" * 201)  # bad input gets the same rules as the interview
    assert current_question(details, "zh_CN", chat.text) == "address"
    assert t("error.too_long", length=201, max=200) in chat.text
    await fill_details(chat, details, {**DETAILS_ZH, "address": None, "main_products": None})
    assert t("draft.review_title") in chat.text
    await chat.press(t("button.generate_draft"))
    document = document_of(chat)
    assert document.filename.startswith("广州南沙示例科技有限公司-申报书草稿-")
    assert document.filename.endswith(".docx")
    doc = read_docx(document.content)

    assert doc.headings[:2] == [t("programme.nansha-2024.title"), t("draft.doc_title")]
    for key in ("h_applicant", "h_conditions", "h_points", "h_plan", "h_targets", "h_schedule",
                "h_budget", "h_guarantees", "commitment_title"):  # fmt: skip
        assert t(f"draft.{key}") in doc.headings
    assert doc.row("统一社会信用代码")[1] == ELIGIBLE_ZH["uscc"]
    assert doc.row("法定代表人")[1] == "王强"
    assert doc.row("所属产业集群")[1] == "智能机器人"
    assert doc.row("2023") == ["2023", "15,000", "800"]
    assert "5.13%" in doc.text and "5.00%" in doc.text
    # The self-assessment: one row per condition, each citing its clause.
    clauses = [row[0] for table in doc.tables for row in table[1:] if row[0][:1] in "EXJ"]
    assert clauses == ["E0", "E1a", "E1b", "E2a", "E2b", "E3a", "E3b", "E3c", "E3d", "E4",
                       "E5a", "E5b", "X1", "J1", "J2"]  # fmt: skip
    assert doc.row("X1")[3] == "符合" and doc.row("J1")[3] == "不涉及"
    assert "陈静" in doc.text and "副总经理" in doc.text and "发明专利20件" in doc.text
    # What was skipped is a visible placeholder, never a silent blank.
    assert doc.highlighted == ["【待填写：注册地址】", "【待填写：对应主营产品】"]
    # Money as a Chinese document writes it (M1, M2): 30万元, not ¥300,000.00.
    assert doc.row("M1")[1:] == [t("draft.payment_total"), "30万元"]
    assert [row[2] for row in doc.tables[-1] if row[0] == "M2"] == ["15万元", "15万元"]
    assert "¥" not in doc.text
    assert doc.east_asian_font == "SimSun"


async def test_draft_now_marks_every_gap(router: Router, form: Form, details: Form) -> None:
    chat = await assessed(router, form, ELIGIBLE_ZH)
    await chat.send("/draft")
    await chat.press(t("button.draft_now"))
    doc = read_docx(document_of(chat).content)
    labels = {t(q.label) for q in details.questions}
    assert {h.removeprefix("【待填写：").removesuffix("】") for h in doc.highlighted} == labels
    assert t("draft.no_points") in doc.paragraphs  # nothing to explain


async def test_warnings_become_points_to_explain(router: Router, form: Form) -> None:
    chat = await assessed(router, form, dict(ELIGIBLE_ZH, ip_expense="10"))
    await chat.send("/draft")
    await chat.press(t("button.draft_now"))
    doc = read_docx(document_of(chat).content)
    points = doc.paragraphs[doc.paragraphs.index(t("draft.h_points")) + 1]
    assert "E2b" in points and "1.25%" in points  # 10 / 800
    assert doc.row("E2b")[3] == "需说明"
    assert t("draft.banner_not_eligible") not in doc.text


async def test_a_disqualified_application_says_so_first(router: Router, form: Form) -> None:
    chat = await assessed(router, form, dict(ELIGIBLE_ZH, prior_project="是"))
    await chat.send("/draft")
    await chat.press(t("button.draft_now"))
    assert t("draft.sent_not_eligible") in chat.text
    doc = read_docx(document_of(chat).content)
    first_page = "\n".join(doc.paragraphs[: doc.paragraphs.index(t("draft.h_applicant"))])
    assert t("draft.banner_not_eligible") in first_page and "X1" in first_page
    assert doc.row("X1")[3] == "不符合"


async def test_typed_template_syntax_stays_literal(router: Router, form: Form) -> None:
    name = "{{ 7*7 }} <b>公司</b> & {% if 1 %}x{% endif %}"
    chat = await assessed(router, form, dict(ELIGIBLE_ZH, enterprise_name=name))
    await chat.send("/draft")
    await chat.press(t("button.draft_now"))
    doc = read_docx(document_of(chat).content)
    assert doc.row("单位名称")[1] == name
    assert "49" not in doc.row("单位名称")[1]


@pytest.mark.parametrize(
    ("language_code", "locale", "font"), [("zh-hant", "zh_HK", "PMingLiU"), ("en", "en", "SimSun")]
)
async def test_the_draft_speaks_the_users_language(
    router: Router, form: Form, language_code: str, locale: str, font: str
) -> None:
    tl = translator(locale)
    chat = Chat(router, 5, language_code=language_code)
    await chat.send("/apply")
    await run_interview(chat, form, eligible_answers(locale))
    await chat.press(tl("button.draft"))
    await chat.press(tl("button.draft_now"))
    doc = read_docx(document_of(chat).content)
    assert tl("draft.h_applicant") in doc.headings and tl("draft.h_conditions") in doc.headings
    assert tl("draft.placeholder", what=tl("label.address")) in doc.highlighted
    assert doc.east_asian_font == font
    assert t("draft.h_applicant") not in doc.text  # no Simplified Chinese headings left
    situation = doc.row("E0")[2]  # several answers in one cell, punctuated as the language is
    uscc = tl("draft.label_value", label=tl("label.uscc"), value=eligible_answers(locale)["uscc"])
    assert situation.startswith(uscc + tl("draft.item_separator"))
    if locale == "en":
        assert not set("：；（）") & set(doc.text), "full-width punctuation in English"


async def test_each_draft_is_recorded_and_a_changed_answer_makes_a_new_version(
    router: Router, form: Form, details: Form
) -> None:
    chat = await assessed(router, form, ELIGIBLE_ZH)
    await chat.send("/draft")
    await chat.press(t("button.draft_now"))
    await chat.send("/draft")  # nothing changed: the same version again
    assert t("draft.caption", version=1) == document_of(chat).caption
    await chat.press(t("button.change_details"))
    await fill_details(chat, details, {"legal_representative": "王强"})
    await chat.press(t("button.generate_draft"))
    assert document_of(chat).caption == t("draft.caption", version=2)
    async with router.context.sessions() as session:
        drafts = (await session.exec(select(Draft).order_by(Draft.version))).all()
    assert [(d.version, d.locale) for d in drafts] == [(1, "zh_CN"), (2, "zh_CN")]
    assert drafts[0].fingerprint != drafts[1].fingerprint and drafts[0].template_version


async def test_draft_before_any_assessment_points_to_apply(router: Router) -> None:
    chat = Chat(router, 1)
    await chat.send("/draft")
    assert chat.text == t("draft.needs_assessment")
    assert chat.find_button(t("button.apply")).data == "menu:apply"


def draft_cli(tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "draft", *args],
        env={"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip


async def test_draft_from_the_terminal(
    router: Router, form: Form, tmp_path: Path, database_url: str
) -> None:
    await assessed(router, form, ELIGIBLE_ZH)
    out = tmp_path / "draft.docx"
    result = draft_cli(
        tmp_path, database_url, "--application", "1", "--out", str(out), "--locale", "en"
    )
    assert result.returncode == 0, result.stderr
    en = translator("en")
    said = en("draft.cli_written", path=out, version=1, language="English")
    assert said in result.stdout
    assert en("draft.h_applicant") in read_docx(out.read_bytes()).headings
    missing = draft_cli(tmp_path, database_url, "--application", "99", "--out", str(out))
    assert missing.returncode == 2
    assert translator("zh_CN")("draft.cli_not_found", id=99) in missing.stderr  # localized


async def test_the_draft_converts_to_pdf(router: Router, form: Form, tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed here (apt-get install libreoffice-writer-nogui)")
    chat = await assessed(router, form, ELIGIBLE_ZH)
    await chat.send("/draft")
    await chat.press(t("button.draft_now"))
    source = tmp_path / "draft.docx"
    source.write_bytes(document_of(chat).content)
    subprocess.run(
        [soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
        check=True, capture_output=True, timeout=120,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    pdf = (tmp_path / "draft.pdf").read_bytes()
    pages = re.findall(rb"/Type\s*/Page\b", pdf)
    assert pdf.startswith(b"%PDF") and len(pages) >= 4


async def test_each_version_has_its_own_file_name(
    router: Router, form: Form, details: Form
) -> None:
    chat = await assessed(router, form, ELIGIBLE_ZH)
    await chat.send("/draft")
    await chat.press(t("button.draft_now"))
    first = document_of(chat).filename
    await chat.press(t("button.change_details"))
    await fill_details(chat, details, {"legal_representative": "王强"})
    await chat.press(t("button.generate_draft"))
    second = document_of(chat).filename
    assert first != second  # version 2 never overwrites version 1 of the same day
    assert first.endswith("第1版.docx") and second.endswith("第2版.docx")


async def test_cancel_in_the_draft_details_leads_back_to_them(
    router: Router, form: Form, details: Form
) -> None:
    chat = await assessed(router, form, ELIGIBLE_ZH)
    await chat.send("/draft")
    await chat.press(t("button.fill_details"))
    await chat.send(DETAILS_ZH["address"])
    asked = current_question(details, "zh_CN", chat.text)
    await chat.send("/cancel")
    assert chat.text == t("cancel.draft_details")
    assert "/apply" not in chat.text
    await chat.press(t("button.continue_details"))
    assert current_question(details, "zh_CN", chat.text) == asked  # where they stopped
