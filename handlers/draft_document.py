"""The draft application (申报书) as a Word document, from an application's answers.

The layout is ``templates/draft_application.docx`` (docxtpl: Jinja2 inside Word); the
words are catalog keys ``draft.*``; values are inserted as text, so whatever a user
typed (``{{ 7*7 }}``, ``<b>``) appears literally. What the enterprise still has to
write is a highlighted placeholder, never a silent blank.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib.resources import files
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape as xml_escape

from forms import engine
from forms.answers import Value, encode
from forms.definition import SEVERITY_ORDER, Form
from handlers import render
from handlers.render import flag_line, show_value
from handlers.render import plain as _plain
from locales import N_, Translator
from models.tables import Application
from models.tables import Flag as StoredFlag

if TYPE_CHECKING:
    from docxtpl import RichText

TEMPLATE = files("templates") / "draft_application.docx"
# Fonts per locale, (Latin, East Asian) for the body and for headings: 宋体/黑体 for
# Simplified Chinese, 新細明體/微軟正黑體 for Traditional; English keeps 宋体 for any
# Chinese names in it.
FONTS = {
    "zh_CN": (("SimSun", "SimSun"), ("SimHei", "SimHei")),
    "zh_HK": (("PMingLiU", "PMingLiU"), ("Microsoft JhengHei", "Microsoft JhengHei")),
    "en": (("Times New Roman", "SimSun"), ("Arial", "SimHei")),
}
STYLED = ("Normal", "Title", "Heading 1", "Heading 2")

LABELS = (
    N_("draft.doc_title"), N_("draft.draft_notice"), N_("draft.applicant"),
    N_("draft.joint_applicants"), N_("draft.contact"), N_("draft.date"),
    N_("draft.h_applicant"), N_("draft.enterprise_name"), N_("draft.uscc"), N_("draft.address"),
    N_("draft.legal_representative"), N_("draft.cluster"), N_("draft.sub_field"),
    N_("draft.finance_caption"), N_("draft.year"), N_("draft.revenue"), N_("draft.rd"),
    N_("draft.h_conditions"), N_("draft.clause"), N_("draft.condition"), N_("draft.situation"),
    N_("draft.verdict"), N_("draft.h_points"), N_("draft.h_plan"), N_("draft.h_targets"),
    N_("draft.target"), N_("draft.our_plan"), N_("draft.h_schedule"), N_("draft.stage"),
    N_("draft.period"), N_("draft.work"), N_("draft.h_budget"), N_("draft.payment"),
    N_("draft.amount"), N_("draft.h_guarantees"), N_("draft.commitment_title"),
    N_("draft.commitment_stamp"), N_("draft.commitment_signature"), N_("draft.commitment_date"),
)  # fmt: skip
CONDITIONS = ("E0", "E1a", "E1b", "E2a", "E2b", "E3a", "E3b", "E3c", "E3d", "E4", "E5a", "E5b",
              "X1", "J1", "J2")  # fmt: skip
CONDITION_TEXTS = {c: f"draft.condition_{c}" for c in CONDITIONS}
N_("draft.condition_E0"), N_("draft.condition_E1a"), N_("draft.condition_E1b")
N_("draft.condition_E2a"), N_("draft.condition_E2b"), N_("draft.condition_E3a")
N_("draft.condition_E3b"), N_("draft.condition_E3c"), N_("draft.condition_E3d")
N_("draft.condition_E4"), N_("draft.condition_E5a"), N_("draft.condition_E5b")
N_("draft.condition_X1"), N_("draft.condition_J1"), N_("draft.condition_J2")
VERDICTS = {
    None: N_("draft.verdict_met"),
    "disqualify": N_("draft.verdict_not_met"),
    "warning": N_("draft.verdict_explain"),
    "review": N_("draft.verdict_check"),
}
TASKS = (
    ("T1", N_("draft.task_T1_title"), N_("draft.task_T1")),
    ("T2", N_("draft.task_T2_title"), N_("draft.task_T2")),
    ("T3", N_("draft.task_T3_title"), N_("draft.task_T3")),
    ("T4", N_("draft.task_T4_title"), N_("draft.task_T4")),
    ("T5", N_("draft.task_T5_title"), N_("draft.task_T5")),
)
TARGETS = (
    ("K1", N_("draft.target_K1"), N_("draft.plan_K1")),
    ("K2", N_("draft.target_K2"), N_("draft.plan_K2")),
    ("K3", N_("draft.target_K3"), N_("draft.plan_K3")),
    ("K4", N_("draft.target_K4"), N_("draft.plan_K4")),
)
GUARANTEES = (N_("draft.guarantee_1"), N_("draft.guarantee_2"), N_("draft.guarantee_3"))


@dataclass(frozen=True)
class Missing:
    """A value the enterprise still has to write: shown as a highlighted placeholder."""

    what: str


Field = str | Missing


@dataclass(frozen=True)
class DraftInput:
    form: Form  # the eligibility interview
    details_form: Form  # what the draft needs beyond it
    application: Application
    answers: Mapping[str, Value]
    details: Mapping[str, Value]
    flags: Sequence[StoredFlag]
    today: date


def template_version() -> str:
    """Changes whenever the template file does (a restyle makes new drafts a new version)."""
    return hashlib.sha256(TEMPLATE.read_bytes()).hexdigest()[:12]


def fingerprint(data: DraftInput, locale: str) -> str:
    payload = {
        "answers": {k: encode(v) for k, v in sorted(data.answers.items())},
        "details": {k: encode(v) for k, v in sorted(data.details.items())},
        "flags": sorted(f.rule_id for f in data.flags),
        "template": template_version(),
        "locale": locale,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def filename(t: Translator, data: DraftInput, version: int) -> str:
    """Named after the enterprise, the date and the version: version 2 of the same day
    never overwrites version 1 in the downloads folder."""
    name = str(data.answers.get("enterprise_name") or t("draft.unnamed"))
    safe = re.sub(r'[\\/:*?"<>|\s]+', "_", name).strip("_")[:60]
    date = data.today.strftime("%Y%m%d")
    return t("draft.filename", name=safe, date=date, version=version) + ".docx"


class _Builder:
    def __init__(self, t: Translator, data: DraftInput) -> None:
        from docxtpl import RichText  # docxtpl (lxml, jinja2) is loaded only to write a draft

        self.RichText = RichText
        self.t = t
        self.data = data
        self.flags_by_clause: dict[str, list[StoredFlag]] = {}
        for flag in data.flags:
            self.flags_by_clause.setdefault(flag.clause, []).append(flag)

    # -- values --------------------------------------------------------------
    def rich(self, *parts: Field, bold: bool = False, color: str | None = None) -> RichText:
        text = self.RichText()
        for part in parts:
            if isinstance(part, Missing):
                # docxtpl's "highlight" is shading; Word's own yellow highlighter is w:highlight.
                placeholder = xml_escape(self.t("draft.placeholder", what=part.what))
                text.xml += (
                    '<w:r><w:rPr><w:b/><w:highlight w:val="yellow"/></w:rPr>'
                    f'<w:t xml:space="preserve">{placeholder}</w:t></w:r>'
                )
            elif part:
                text.add(part, bold=bold, color=color)
        return text

    def sentence(self, key: str, **fields: Field) -> RichText:
        """A catalog sentence whose {fields} may be placeholders, highlighted in place."""
        parts: list[Field] = []
        for literal, name, _, _ in string.Formatter().parse(self.t(key)):
            parts.append(literal)
            if name:
                parts.append(fields[name])
        return self.rich(*parts)

    def field(self, form: Form, answers: Mapping[str, Value], qid: str) -> Field:
        question = form.question(qid)
        value = answers.get(qid)
        if value is None:
            return Missing(render.label(self.t, form, question))
        return _plain(show_value(self.t, question, value))

    def answer(self, qid: str) -> Field:
        return self.field(self.data.form, self.data.answers, qid)

    def detail(self, qid: str) -> Field:
        return self.field(self.data.details_form, self.data.details, qid)

    def figure(self, name: str) -> Decimal | None:
        return render.figure(self.data.application.figures or {}, name)

    def percent(self, name: str) -> str:
        return render.figure_percent(self.t, self.data.application.figures or {}, name)

    def items(self, parts: list[str]) -> str:
        """Several items in one cell, separated as the language does ("；" or "; ")."""
        # TRANSLATORS: goes between the items of one table cell, spaces included.
        return self.t("draft.item_separator").join(parts)

    # -- sections ------------------------------------------------------------
    def joint_applicants(self) -> Field:
        count = self.data.answers.get("joint_count") or 0
        assert isinstance(count, int)
        names = []
        for n in range(1, min(count, 2) + 1):
            kind, name = self.answer(f"joint{n}_kind"), self.answer(f"joint{n}_name")
            names.append(self.t("draft.joint_applicant", name=_text(name), kind=_text(kind)))
        return self.items(names) if names else self.t("draft.no_joint_applicants")

    def finance(self) -> list[dict[str, str]]:
        rows = []
        for n, year in enumerate(self.data.form.years, start=1):
            revenue, rd = self.data.answers.get(f"revenue_y{n}"), self.data.answers.get(f"rd_y{n}")
            rows.append(
                {
                    "year": str(year),
                    "revenue": self.t.number(_dec(revenue)) if revenue is not None else "",
                    "rd": self.t.number(_dec(rd)) if rd is not None else "",
                }
            )
        return rows

    def ratios(self) -> RichText:
        form = self.data.form
        text = self.t(
            "draft.ratios",
            ip_expense=self.t.number(_dec(self.data.answers.get("ip_expense") or 0)),
            last_year=form.years[-1],
            rd_ratio=self.percent("rd_ratio_3y"),
            ip_ratio=self.percent("ip_ratio"),
            rd_minimum=self.t.percent(_dec(form.params["rd_ratio_min"])),
            ip_minimum=self.t.percent(_dec(form.params["ip_ratio_min"])),
        )
        return self.rich(text)

    def situation(self, clause: str) -> str:
        """The answers behind a condition; the money conditions by their totals and ratio."""
        if clause in ("E2a", "E2b"):
            return self.money_situation(clause)
        form, answers = self.data.form, self.data.answers
        asked = [q for q in engine.applicable(form, answers) if q.clause == clause]
        parts = [
            self.t(
                "draft.label_value",
                label=render.label(self.t, form, q),
                value=_plain(show_value(self.t, q, answers[q.id])),
            )
            for q in asked
            if q.id in answers and q.type != "text"
        ]
        return self.items(parts) or self.t("draft.not_applicable")

    def money_situation(self, clause: str) -> str:
        if clause == "E2a":
            return self.t(
                "draft.situation_E2a",
                rd_total=self.t.number(self.figure("rd_total") or 0),
                revenue_total=self.t.number(self.figure("revenue_total") or 0),
                ratio=self.percent("rd_ratio_3y"),
            )
        return self.t(
            "draft.situation_E2b",
            ip_expense=self.t.number(_dec(self.data.answers.get("ip_expense") or 0)),
            rd=self.t.number(_dec(self.data.answers.get(f"rd_y{len(self.data.form.years)}") or 0)),
            ratio=self.percent("ip_ratio"),
        )

    def verdict(self, clause: str) -> RichText:
        flags = self.flags_by_clause.get(clause, [])
        if clause == "J1" and not self.data.answers.get("joint_count"):
            return self.rich(self.t("draft.verdict_na"))
        severities = {f.severity for f in flags}
        worst = next((s for s in SEVERITY_ORDER if s in severities), None)
        color = {"disqualify": "C00000", "warning": "C55A11", "review": "2F5597"}.get(worst or "")
        return self.rich(self.t(VERDICTS[worst]), bold=worst is not None, color=color)

    def conditions(self) -> list[dict[str, Any]]:
        return [
            {
                "clause": clause,
                "condition": self.t(CONDITION_TEXTS[clause]),
                "situation": self.situation(clause),
                "verdict": self.verdict(clause),
            }
            for clause in CONDITIONS
        ]

    def flag_text(self, flag: StoredFlag) -> str:
        return _plain(flag_line(self.t, flag))

    def points(self) -> list[RichText]:
        points = [self.flag_text(f) for f in self.data.flags if f.severity != "disqualify"]
        planned = self.data.details.get("planned_patents")
        minimum = int(self.data.details_form.params["min_invention_patents"])
        if isinstance(planned, int) and planned < minimum:
            points.append(
                "• " + self.t("draft.point_few_patents", planned=planned, minimum=minimum)
            )
        return [self.rich(p) for p in points] or [self.rich(self.t("draft.no_points"))]

    def tasks(self) -> list[dict[str, Any]]:
        fields: dict[str, Field] = {
            "head_name": self.detail("centre_head_name"),
            "head_title": self.detail("centre_head_title"),
            "ip_department": self.ip_department(),
            "ip_staff": self.detail("ip_staff"),
            "ip_expense": self.answer("ip_expense"),
            "ip_ratio": self.percent("ip_ratio"),
            "sub_field": self.answer("sub_field"),
            "cluster": self.answer("cluster"),
            "core_technology": self.detail("core_technology"),
            "planned_patents": self.detail("planned_patents"),
            "planned_event": self.detail("planned_event"),
            "min_patents": str(self.data.details_form.params["min_invention_patents"]),
        }
        return [
            {"title": f"{clause}  {self.t(title)}", "body": self.sentence(body, **fields)}
            for clause, title, body in TASKS
        ]

    def ip_department(self) -> Field:
        """A sentence part for T1: there is an IP department, there will be, or unknown."""
        department = self.data.details.get("ip_department")
        if department is None:
            return self.detail("ip_department")  # the placeholder
        yes, no = N_("draft.ip_department_yes"), N_("draft.ip_department_no")
        return self.t(yes if department else no)

    def targets(self) -> list[dict[str, Any]]:
        params = self.data.details_form.params
        fields: dict[str, Field] = {
            "core_technology": self.detail("core_technology"),
            "main_products": self.detail("main_products"),
            "product_revenue": self.detail("product_revenue"),
            "planned_patents": self.detail("planned_patents"),
            "planned_event": self.detail("planned_event"),
        }
        values = {
            "min_patents": params["min_invention_patents"],
            "min_events": params["min_events"],
            "min_satisfaction": self.t.percent(_dec(params["min_satisfaction"]), digits=0),
        }
        return [
            {
                "clause": clause,
                "target": self.t(target, **values),
                "plan": self.sentence(plan, **fields),
            }
            for clause, target, plan in TARGETS
        ]

    def schedule(self) -> list[dict[str, str]]:
        p = self.data.details_form.params

        def month(key: str) -> str:
            year, mon = str(p[key]).split("-")
            return self.t.month(date(int(year), int(mon), 1))

        span = self.t("draft.span", start=month("launch_from"), end=month("launch_to"))
        implement = self.t("draft.span", start=month("implement_from"), end=month("implement_to"))
        return [
            {
                "stage": self.t("draft.stage_D1"),
                "period": span,
                "work": self.t("draft.work_D1", contract=month("contract_by")),
            },
            {
                "stage": self.t("draft.stage_D2"),
                "period": implement,
                "work": self.t("draft.work_D2"),
            },
            {
                "stage": self.t("draft.stage_D3"),
                "period": month("acceptance"),
                "work": self.t("draft.work_D3"),
            },
        ]

    def payments(self) -> tuple[str, list[dict[str, str]]]:
        p = self.data.details_form.params
        total = _dec(p["funding_cny"])
        first = total * _dec(p["first_payment_ratio"])
        text = self.t("draft.budget_text", total=self.t.money(total))
        rows = [
            {"when": self.t("draft.payment_contract"), "amount": self.t.money(first)},
            {"when": self.t("draft.payment_acceptance"), "amount": self.t.money(total - first)},
            {"when": self.t("draft.payment_total"), "amount": self.t.money(total)},
        ]
        return text, rows

    def context(self) -> dict[str, Any]:
        t, data = self.t, self.data
        disqualifiers = [f for f in data.flags if f.severity == "disqualify"]
        contact = [self.answer("contact_name"), "  ", self.answer("contact_phone")]
        budget_text, payments = self.payments()
        return {
            "programme": t(data.form.title),
            "L": {key.removeprefix("draft."): t(key) for key in LABELS},
            "date": t.date(data.today),
            "banner": self.rich(t("draft.banner_not_eligible"), bold=True, color="C00000")
            if disqualifiers
            else None,
            "disqualifiers": [self.rich(self.flag_text(f), color="C00000") for f in disqualifiers],
            "v": {
                "enterprise_name": self.rich(self.answer("enterprise_name")),
                "joint_applicants": self.rich(self.joint_applicants()),
                "contact": self.rich(*contact),
                "uscc": self.rich(self.answer("uscc")),
                "address": self.rich(self.detail("address")),
                "legal_representative": self.rich(self.detail("legal_representative")),
                "cluster": self.rich(self.answer("cluster")),
                "sub_field": self.rich(self.answer("sub_field")),
                "ratios": self.ratios(),
                "commitment": self.sentence(
                    N_("draft.commitment"), name=self.answer("enterprise_name")
                ),
            },
            "finance": self.finance(),
            "conditions": self.conditions(),
            "points": self.points(),
            "tasks": self.tasks(),
            "targets": self.targets(),
            "schedule": self.schedule(),
            "budget_text": budget_text,
            "payments": payments,
            "guarantees": [t(g) for g in GUARANTEES],
        }


def _text(value: Field) -> str:
    return value.what if isinstance(value, Missing) else value


def _dec(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _set_fonts(document: Any, locale: str) -> None:
    """Point the body and heading styles at the locale's faces (eastAsia included)."""
    from docx.oxml.ns import qn

    body, heading = FONTS[locale]
    for name in STYLED:
        latin, east = body if name == "Normal" else heading
        fonts = document.styles[name].element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:ascii"), latin)
        fonts.set(qn("w:hAnsi"), latin)
        fonts.set(qn("w:eastAsia"), east)


def render_draft(data: DraftInput, t: Translator) -> bytes:
    from docxtpl import DocxTemplate

    template = DocxTemplate(io.BytesIO(TEMPLATE.read_bytes()))
    template.render(_Builder(t, data).context(), autoescape=True)
    _set_fonts(template.docx, t.locale)
    out = io.BytesIO()
    template.save(out)
    return out.getvalue()
