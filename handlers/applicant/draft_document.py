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
from decimal import Decimal
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from forms import engine
from forms.answers import encode
from forms.definition import SEVERITY_ORDER
from forms.document import Condition
from forms.expressions import holds
from handlers.applicant.draft_values import DraftInput, DraftWords, Missing, _dec, _text
from handlers.kernel import render
from handlers.kernel.render import plain as _plain
from locales import N_, Translator
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
STYLED = ("Normal", "Body Text", "Title", "Heading 1", "Heading 2")
HEADINGS = ("Title", "Heading 1", "Heading 2")
# In Word a theme font wins over a named one: gone, so that 黑体 is what a heading shows.
THEME_FONTS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")

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
VERDICTS = {
    None: N_("draft.verdict_met"),
    "disqualify": N_("draft.verdict_not_met"),
    "warning": N_("draft.verdict_explain"),
    "review": N_("draft.verdict_check"),
}
VERDICT_COLOURS = {"disqualify": "C00000", "warning": "C55A11", "review": "2F5597"}


def template_version() -> str:
    """Changes whenever the template file does (a restyle makes new drafts a new version)."""
    return hashlib.sha256(TEMPLATE.read_bytes()).hexdigest()[:12]


def fingerprint(data: DraftInput, locale: str) -> str:
    payload = {
        "answers": {k: encode(v) for k, v in sorted(data.answers.items())},
        "details": {k: encode(v) for k, v in sorted(data.details.items())},
        "typed": dict(sorted(data.typed.items())),
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


class _Builder(DraftWords):
    """Fills the template from the call's document data: every row, section and sentence
    comes from it, every {name} in a sentence from ``values``."""

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

    def applies(self, condition: Condition) -> bool:
        if condition.applies_if is None:
            return True
        return holds(condition.applies_if, self.names()) is True

    def situation(self, condition: Condition) -> RichText:
        """The answers behind a condition: its own sentence, or its questions' answers."""
        if not self.applies(condition):
            return self.rich(self.t("draft.not_applicable"))
        if condition.situation is not None:
            return self.sentence(condition.situation)
        form, answers = self.data.form, self.data.answers
        asked = [q for q in engine.applicable(form, answers) if q.clause == condition.clause]
        parts = [
            self.t(
                "draft.label_value",
                label=render.label(self.t, form, q),
                value=_text(self.shown(form, answers, q.id)),
            )
            for q in asked
            if q.id in answers and q.type != "text"
        ]
        return self.rich(self.items(parts) or self.t("draft.not_applicable"))

    def worst(self, clause: str) -> str | None:
        severities = {f.severity for f in self.flags_by_clause.get(clause, [])}
        return next((s for s in SEVERITY_ORDER if s in severities), None)

    def verdict(self, condition: Condition) -> RichText:
        if not self.applies(condition):
            return self.rich(self.t("draft.verdict_na"))
        worst = self.worst(condition.clause)
        color = VERDICT_COLOURS.get(worst or "")
        return self.rich(self.t(VERDICTS[worst]), bold=worst is not None, color=color)

    def conditions(self) -> list[dict[str, Any]]:
        return [
            {
                "clause": c.clause,
                "condition": self.sentence(c.text),
                "situation": self.situation(c),
                "verdict": self.verdict(c),
            }
            for c in self.doc.conditions
        ]

    def flag_text(self, flag: StoredFlag) -> str:
        """A flag in the applicant's voice, citing its clause."""
        key = self.doc.points.get(flag.rule_id, flag.message_key)
        shown = render.shown_values(self.t, flag.values or {})
        # The call's thresholds read as the rest of the document writes them (3%, not 3.00%).
        shown |= {name: _text(self.values[name]) for name in shown if name in self.doc.formats}
        message = _plain(self.t(key, **shown))
        return self.t("flag.line", message=message, clause=flag.clause)

    def points(self) -> list[RichText]:
        """Each point to explain, followed by the place where the applicant explains it."""
        explain = Missing(self.t("draft.explanation"))
        texts = [self.flag_text(f) for f in self.data.flags if f.severity != "disqualify"]
        names = self.names()
        texts += [
            self.t("flag.line", message=self.text(s.text), clause=s.clause)
            for s in self.doc.shortfalls
            if holds(s.when, names)
        ]
        if not texts:
            return [self.rich(self.t("draft.no_points"))]
        return [self.rich(f"{n}. {text}", "\n", explain) for n, text in enumerate(texts, start=1)]

    def tasks(self) -> list[dict[str, Any]]:
        return [
            {"title": f"{task.clause}  {self.t(task.title)}", "body": self.sentence(task.text)}
            for task in self.doc.tasks
        ]

    def targets(self) -> list[dict[str, Any]]:
        return [
            {"clause": k.clause, "target": self.sentence(k.text), "plan": self.sentence(k.plan)}
            for k in self.doc.targets
        ]

    def schedule(self) -> list[dict[str, Any]]:
        rows = []
        for stage in self.doc.schedule:
            start = _text(self.values[stage.start])
            period = start
            if stage.end is not None:
                period = self.t("draft.span", start=start, end=_text(self.values[stage.end]))
            rows.append(
                {
                    "clause": stage.clause,
                    "stage": self.t(stage.title),
                    "period": period,
                    "work": self.sentence(stage.text),
                }
            )
        return rows

    def payments(self) -> tuple[RichText, list[dict[str, Any]]]:
        funding = self.doc.funding
        if funding is None:
            return self.rich(), []
        total = _dec(self.data.params[funding.total])
        rows, paid = [], Decimal(0)
        for payment in funding.payments:
            if payment.share is None:
                amount = total - paid
            else:
                amount = total * _dec(self.data.params[payment.share])
            paid += amount
            share = (
                self.param(payment.share, self.data.params[payment.share]) if payment.share else ""
            )
            rows.append(
                {"clause": payment.clause, "when": self.text(payment.title, share=share),
                 "amount": self.money(amount)}
            )  # fmt: skip
        rows.append(
            {
                "clause": funding.clause,
                "when": self.t("draft.payment_total"),
                "amount": self.money(total),
            }
        )
        return self.sentence(funding.text), rows

    def commitment(self) -> list[RichText]:
        """The letter commits only to what the answers support, and says plainly what it
        cannot commit to while a disqualifier stands."""
        disqualifiers = [f for f in self.data.flags if f.severity == "disqualify"]
        flagged = {f.clause for f in disqualifiers}
        paragraphs = [self.sentence(N_("draft.commitment"))]
        pledged = [
            self.text(c.text)
            for c in self.doc.conditions
            if c.clause in self.doc.pledges and c.clause not in flagged
        ]
        if not disqualifiers:
            paragraphs.append(self.rich(self.t("draft.commitment_eligible")))
        if pledged:
            paragraphs.append(
                self.rich(self.t("draft.commitment_pledges", conditions=self.items(pledged)))
            )
        if disqualifiers:
            reasons = [
                self.t("draft.commitment_reason", title=self.title(f), clause=f.clause)
                for f in disqualifiers
            ]
            cannot = self.t("draft.commitment_cannot", reasons=self.items(reasons))
            paragraphs.append(self.rich(cannot, bold=True, color=VERDICT_COLOURS["disqualify"]))
        paragraphs.append(self.rich(self.t("draft.commitment_closing")))
        return paragraphs

    def title(self, flag: StoredFlag) -> str:
        return render.flag_title(self.t, self.data.form, flag, length=60)

    def context(self) -> dict[str, Any]:
        t, data = self.t, self.data
        disqualifiers = [f for f in data.flags if f.severity == "disqualify"]
        budget_text, payments = self.payments()
        return {
            "programme": t(data.form.title),
            "L": {key.removeprefix("draft."): t(key) for key in LABELS},
            "date": t.date(data.today),
            "banner": self.rich(t("draft.banner_not_eligible"), bold=True, color="C00000")
            if disqualifiers
            else None,
            "disqualifiers": [
                self.rich("• " + self.flag_text(f), color="C00000") for f in disqualifiers
            ],
            "v": {
                "enterprise_name": self.rich(self.values["enterprise_name"]),
                "joint_applicants": self.rich(self.values["joint_applicants"]),
                "contact": self.rich(
                    self.values["contact_name"], "  ", self.values["contact_phone"]
                ),
                "uscc": self.rich(self.values["uscc"]),
                "address": self.rich(self.values["address"]),
                "legal_representative": self.rich(self.values["legal_representative"]),
                "cluster": self.rich(self.values["cluster"]),
                "sub_field": self.rich(self.values["sub_field"]),
                "ratios": self.sentence(N_("draft.ratios")),
            },
            "finance": self.finance(),
            "conditions": self.conditions(),
            "points": self.points(),
            "tasks": self.tasks(),
            "targets": self.targets(),
            "schedule": self.schedule(),
            "budget_text": budget_text,
            "payments": payments,
            "guarantees": [t(g) for g in self.doc.guarantees],
            "commitment": self.commitment(),
        }


def _set_fonts(document: Any, locale: str) -> None:
    """Point the body and heading styles at the locale's faces (eastAsia included)."""
    from docx.oxml.ns import qn

    body, heading = FONTS[locale]
    for name in STYLED:
        latin, east = heading if name in HEADINGS else body
        fonts = document.styles[name].element.get_or_add_rPr().get_or_add_rFonts()
        for attribute in THEME_FONTS:
            fonts.attrib.pop(qn(attribute), None)
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
