"""The draft clause by clause: what it says for each clause of the call, that its letter
never commits to what a verdict denies, and that it reads like the applicant wrote it."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from docx import Document as WordDocument
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from forms.definition import Form
from handlers.kernel.router import Router
from locales import translator
from testkit.answers import DETAILS_ZH, ELIGIBLE_ZH
from testkit.chat import Chat, fill_details, run_interview
from tests.chat.test_draft import document_of
from tests.docx_text import Docx, read_docx

LANGUAGES = {"zh_CN": "zh-hans", "zh_HK": "zh-hant", "en": "en"}

# What makes each rule of the call hold, on top of ELIGIBLE_ZH (typed text, or a button's
# Simplified Chinese label; "group/option" for a cluster). Every hard rule needs a case.
CASES: dict[str, dict[str, str]] = {
    "not_in_nansha": {"in_nansha": "否"},
    "cluster_outside": {"cluster": "都不属于/都不属于以上产业集群"},
    "rd_not_leading": {"rd_leading": "否"},
    "not_operating": {"operating_normally": "否"},
    "no_legal_person": {"legal_person": "以上都不是"},
    "no_independent_accounting": {"independent_accounting": "否"},
    "credit_noncompliant": {"credit_compliant": "否"},
    "no_ip_management": {"ip_management": "尚未建立知识产权管理制度"},
    "serious_dishonesty": {"serious_dishonesty": "是"},
    "abnormal_patents": {"abnormal_patents": "是"},
    "prior_project": {"prior_project": "是"},
    "too_many_joint": {"joint_count": "3", "joint1_kind": "高等院校",
                       "joint1_name": "华南理工大学", "joint2_kind": "高等院校",
                       "joint2_name": "中山大学"},
    "joint1_kind_invalid": {"joint_count": "1", "joint1_kind": "其他类型单位",
                            "joint1_name": "某贸易公司"},
    "joint2_kind_invalid": {"joint_count": "2", "joint1_kind": "高等院校",
                            "joint1_name": "华南理工大学", "joint2_kind": "其他类型单位",
                            "joint2_name": "某贸易公司"},
}  # fmt: skip


def localized(form: Form, answers: dict[str, str], locale: str) -> dict[str, str]:
    """Answers as a user of ``locale`` gives them: the same buttons, in their words."""
    zh, t = translator("zh_CN"), translator(locale)
    out = {}
    for qid, given in answers.items():
        question = form.question(qid)
        labels = {zh(o.label): t(o.label) for o in (*question.options, *question.groups)}
        labels |= {zh("button.yes"): t("button.yes"), zh("button.no"): t("button.no")}
        parts = given.split("/") if question.groups else [given]
        out[qid] = "/".join(labels.get(part, part) for part in parts)
    return out


async def draft_bytes(
    router: Router,
    form: Form,
    answers: dict[str, str],
    locale: str = "zh_CN",
    details: dict[str, str | None] | None = None,
) -> bytes:
    """The draft of a new user's assessment: written at once, or after these details."""
    t = translator(locale)
    chat = Chat(router, 1, language_code=LANGUAGES[locale])
    await chat.send("/apply")
    await run_interview(chat, form, localized(form, answers, locale))
    await chat.press(t("button.draft"))
    if details is None:
        await chat.press(t("button.draft_now"))
    else:
        from handlers.applicant.draft import details_form

        await chat.press(t("button.fill_details"))
        await fill_details(chat, details_form(form), details, locale)
        await chat.press(t("button.generate_draft"))
    return document_of(chat).content


async def draft_of(*args: Any, **kwargs: Any) -> Docx:
    return read_docx(await draft_bytes(*args, **kwargs))


def letter(doc: Docx, locale: str) -> list[str]:
    """The commitment letter: everything after its title."""
    start = doc.paragraphs.index(translator(locale)("draft.commitment_title"))
    return [p for p in doc.paragraphs[start + 1 :] if p.strip()]


def hard_rules(form: Form) -> list[str]:
    return [r.id for r in form.rules if r.severity == "disqualify"]


def test_every_hard_rule_has_a_case(form: Form) -> None:
    assert set(hard_rules(form)) <= set(CASES)


@pytest.mark.parametrize("locale", LANGUAGES)
@pytest.mark.parametrize("rule_id", sorted(CASES))
async def test_the_letter_never_commits_to_what_a_disqualifier_denies(
    router: Router, form: Form, rule_id: str, locale: str
) -> None:
    rule = form.rule(rule_id)
    assert rule is not None
    if rule.severity != "disqualify":
        pytest.skip(f"{rule_id} is not a hard rule of this call")
    t = translator(locale)
    doc = await draft_of(router, form, dict(ELIGIBLE_ZH, **CASES[rule_id]), locale)
    condition, verdict = doc.row(rule.clause)[1], doc.row(rule.clause)[3]
    assert verdict == t("draft.verdict_not_met")
    said = letter(doc, locale)
    # Neither "we meet the conditions" nor the condition this flag denies, anywhere in it.
    assert not any(t("draft.commitment_eligible") in p for p in doc.paragraphs)
    assert not any(condition in p for p in said), (condition, said)
    # What it cannot commit to is said plainly, with the clause.
    reason = t("draft.commitment_reason", title=t(rule.title), clause=rule.clause)
    assert any(reason in p for p in said), said
    assert t("draft.commitment_closing") in said  # responsibility is still taken


@pytest.mark.parametrize("locale", LANGUAGES)
async def test_an_eligible_letter_commits_to_the_conditions(
    router: Router, form: Form, locale: str
) -> None:
    t = translator(locale)
    doc = await draft_of(router, form, ELIGIBLE_ZH, locale)
    said = letter(doc, locale)
    assert t("draft.commitment_eligible") in said
    for clause in ("E5a", "E5b", "X1"):  # pledged one by one, as the call lists them
        assert any(doc.row(clause)[1] in p for p in said)
    assert not any(t("draft.commitment_cannot", reasons="")[:8] in p for p in said)


async def test_a_disqualifier_leaves_the_other_pledges(router: Router, form: Form) -> None:
    t = translator("zh_CN")
    doc = await draft_of(router, form, dict(ELIGIBLE_ZH, abnormal_patents="是"))
    said = "\n".join(letter(doc, "zh_CN"))
    assert doc.row("E5a")[1] in said and doc.row("X1")[1] in said
    assert doc.row("E5b")[1] not in said
    assert (
        t("draft.commitment_reason", title=t("flag.abnormal_patents.title"), clause="E5b") in said
    )


def paragraph_after(doc: Docx, text: str) -> str:
    return next(p for p in doc.paragraphs[doc.paragraphs.index(text) + 1 :] if p.strip())


def heading(doc: Docx, clause: str) -> str:
    return next(h for h in doc.headings if h.startswith(clause + " "))


async def test_every_clause_of_the_call_in_the_draft(router: Router, form: Form) -> None:
    """F1, T1–T5, K1–K4, D1–D3, M1–M2: what the draft says for each, with the call's
    figures (nansha-2024: 15 patents, 85%, June 2024 …, 300,000 CNY, half on signing)."""
    t = translator("zh_CN")
    details = {**DETAILS_ZH, "ip_staff": "6", "planned_patents": "20"}
    doc = await draft_of(router, form, ELIGIBLE_ZH, details=details)
    assert doc.row("F1")[2] == "细分技术领域：协作机器人力控关节"
    assert doc.row("F1")[3] == t("draft.verdict_met")
    t1 = paragraph_after(doc, heading(doc, "T1"))
    assert "委派副总经理陈静作为中心主要负责人" in t1
    assert t("draft.ip_department_yes") in t1 and "专职知识产权工作人员6人" in t1
    assert "上年度知识产权费用为40万元，占研发投入的5.00%" in paragraph_after(
        doc, heading(doc, "T2")
    )
    assert "（协作机器人力控关节）" in paragraph_after(doc, heading(doc, "T3"))
    t4 = paragraph_after(doc, heading(doc, "T4"))
    assert "核心技术（协作机器人力控关节）" in t4 and "发明专利20件" in t4 and "不少于15件" in t4
    assert DETAILS_ZH["planned_event"] in paragraph_after(doc, heading(doc, "T5"))
    assert [heading(doc, c).split()[0] for c in ("T1", "T2", "T3", "T4", "T5")] == [
        "T1", "T2", "T3", "T4", "T5"
    ]  # fmt: skip
    assert "1家高价值专利培育布局中心" in doc.row("K1")[1]
    assert "布局报告" in doc.row("K2")[1]
    assert "不少于15件" in doc.row("K3")[1]
    assert doc.row("K3")[2] == (
        "计划围绕核心技术（协作机器人力控关节）培育发明专利20件；对应产品：协作机器人，上年度销售收入8,000万元"
    )
    assert "不少于1场" in doc.row("K4")[1] and "满意度不低于85%" in doc.row("K4")[1]
    assert doc.row("D1")[2:] == ["2024年6月—2024年7月", t("draft.work_D1", contract_by="2024年7月")]
    assert doc.row("D2")[2] == "2024年7月—2024年11月"
    assert doc.row("D3")[2] == "2024年12月"
    budget = paragraph_after(doc, t("draft.h_budget"))
    assert budget.startswith("项目资金30万元，来源为2024年省级")
    assert doc.row("M2")[1:] == ["签订服务合同后预先支付（50%）", "15万元"]
    # Nothing of the call's plan is a point to explain: 20 patents meet K3's 15.
    assert paragraph_after(doc, t("draft.h_points")) == t("draft.no_points")


async def test_a_plan_short_of_k3_is_a_point_with_room_to_explain(
    router: Router, form: Form
) -> None:
    t = translator("zh_CN")
    doc = await draft_of(router, form, ELIGIBLE_ZH, details={"planned_patents": "10"})
    point = paragraph_after(doc, t("draft.h_points"))
    assert "本单位计划培育发明专利10件，少于绩效目标要求的15件（申报条件 K3）" in point
    assert t("draft.placeholder", what=t("draft.explanation")) in doc.highlighted


async def test_the_verdict_on_the_money_conditions_cites_the_calls_thresholds(
    router: Router, form: Form
) -> None:
    t = translator("zh_CN")
    doc = await draft_of(
        router, form, dict(ELIGIBLE_ZH, rd_y1="100", rd_y2="100", rd_y3="100", ip_expense="1")
    )
    assert doc.row("E2a")[1] == "近三年研发投入占销售收入的比例原则上不低于3%"
    assert doc.row("E2b")[1] == "上年度知识产权费用占研发投入的比例原则上达3%以上"
    assert doc.row("J2")[1] == "联合申报单位最多不超过2家"
    assert doc.row("E2a")[3] == doc.row("E2b")[3] == t("draft.verdict_explain")
    assert doc.row("J1")[2:] == [t("draft.not_applicable"), t("draft.verdict_na")]


# -- item 5: it reads like the applicant wrote it -------------------------------------

MANY_POINTS = dict(
    ELIGIBLE_ZH,
    uscc="914403001922038216",  # valid, but registered in Shenzhen (440300)
    contact_phone="020-39001234",
    sub_field="协作机器人柔性关节与力控技术",
    rd_y1="100",  # R&D under 3% of revenue: a warning (E1b and E4 are no longer soft)
    rd_y2="100",
    rd_y3="100",
    ip_expense="1",
    abnormal_patents="是",
)


@pytest.mark.parametrize("locale", LANGUAGES)
async def test_the_draft_speaks_as_the_applicant(router: Router, form: Form, locale: str) -> None:
    t = translator(locale)
    details: dict[str, str | None] = {"ip_staff": "6", "planned_patents": "10",
                                      "core_technology": "力控技术"}  # fmt: skip
    doc = await draft_of(router, form, MANY_POINTS, locale, details=details)
    text = doc.text
    for chat_voice in ("贵单位", "貴單位", "貴公司", "请核", "請核", "Your enterprise", "Please"):
        assert chat_voice not in text, chat_voice
    # Each warning and review flag, and the K3 shortfall, is followed by room to explain.
    async with router.context.sessions() as session:
        from models import queries

        application = await queries.latest_submitted(session, 1, form.id)
        assert application is not None and application.id is not None
        flags = await queries.flags_of(session, application.id)
    soft = [f for f in flags if f.severity != "disqualify"]
    assert {f.rule_id for f in soft} == {"uscc_outside_nansha", "rd_ratio_low", "ip_ratio_low"}
    explain = t("draft.placeholder", what=t("draft.explanation"))
    assert doc.highlighted.count(explain) == len(soft) + 1
    assert "020-39001234" in doc.row(t("draft.contact"))[1]  # as typed, not 02039001234
    if locale == "en":
        assert not re.search(r"patents\W+(of\s+)?invention patents", text) and "10 patents" in text
    else:
        for doubled in ("件件", "技术技术", "技術技術", "人人", "万元万元"):
            assert doubled not in text, doubled
        money = "30萬元" if locale == "zh_HK" else "30万元"
        assert "10件" in text and "6人" in text and money in text


async def test_the_layout_a_chinese_document_expects(router: Router, form: Form) -> None:
    t = translator("zh_CN")
    content = await draft_bytes(router, form, ELIGIBLE_ZH)
    word = WordDocument(io.BytesIO(content))
    # Headings really in 黑体: named East Asian font, no theme font overriding it.
    for name in ("Title", "Heading 1", "Heading 2"):
        fonts = word.styles[name].element.rPr.rFonts
        assert fonts.get(qn("w:eastAsia")) == "SimHei", name
        assert not [a for a in fonts.attrib if a.endswith("Theme}") or "Theme" in a], name
    headings = [p for p in word.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert all(r.element.rPr is None or r.element.rPr.rFonts is None
               for p in headings for r in p.runs)  # fmt: skip
    # Running text indented two characters.
    body = word.styles["Body Text"].element.pPr.find(qn("w:ind"))
    assert body.get(qn("w:firstLineChars")) == "200"
    indented = [p.text for p in word.paragraphs if p.style.name == "Body Text"]
    assert any(p.startswith(t("draft.commitment").split("{")[0]) for p in indented)
    assert t("draft.guarantee_1") in indented and t("draft.commitment_closing") in indented
    # The cover's label column holds "申报单位（牵头单位）" on one line: its characters at
    # 小四 (12 pt) plus the cell's margins (0.19 cm each side).
    label = t("draft.applicant")
    cover = word.tables[0]
    assert cover.cell(0, 0).text == label
    assert cover.columns[0].width >= Pt(12) * len(label) + Mm(3.8)
