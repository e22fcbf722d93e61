"""The values a draft application is written with: its input (the answers, details,
flags and figures of one application) and how each value reads in the document — an
answer as the language writes it, a param in its format, a placeholder for what the
enterprise still has to write."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape as xml_escape

from forms import engine
from forms.answers import Value
from forms.definition import Form
from forms.document import DraftDocument
from handlers.kernel import render
from handlers.kernel.render import plain as _plain
from handlers.kernel.render import show_value
from locales import Translator
from models.tables import Application
from models.tables import Flag as StoredFlag

if TYPE_CHECKING:
    from docxtpl import RichText

# Chinese documents write a figure and its unit together (6人, 85万元); the chat spaces them.
_SPACED_UNIT = re.compile(r"(?<=\d) (?=[\u3000-\u9fff\uff00-\uffef])")


@dataclass(frozen=True)
class Missing:
    """A value the enterprise still has to write: shown as a highlighted placeholder."""

    what: str


Field = str | Missing


@dataclass(frozen=True)
class DraftInput:
    form: Form  # the eligibility interview
    details_form: Form  # what the draft needs beyond it, and the document's structure
    application: Application
    answers: Mapping[str, Value]
    details: Mapping[str, Value]
    flags: Sequence[StoredFlag]
    today: date
    typed: Mapping[str, str] = field(default_factory=dict)  # question id → as typed

    @property
    def document(self) -> DraftDocument:
        if self.details_form.document is None:
            raise LookupError(f"{self.details_form.id} has no document section")
        return self.details_form.document

    @property
    def params(self) -> dict[str, Any]:
        return {**self.form.params, **self.details_form.params}


class DraftWords:
    """The words of one draft: every value by name, and sentences from catalog keys with
    those values inserted (as text, never as template code)."""

    def __init__(self, t: Translator, data: DraftInput) -> None:
        from docxtpl import RichText  # docxtpl (lxml, jinja2) is loaded only to write a draft

        self.RichText = RichText
        self.t = t
        self.data = data
        self.doc = data.document
        self.flags_by_clause: dict[str, list[StoredFlag]] = {}
        for flag in data.flags:
            self.flags_by_clause.setdefault(flag.clause, []).append(flag)
        self.values = self._values()

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

    def parts(self, key: str, **extra: Field) -> list[Field]:
        """A catalog sentence split at its {names}, each replaced by its value."""
        fields = {**self.values, **extra}
        parts: list[Field] = []
        for literal, name, _, _ in string.Formatter().parse(self.t(key)):
            parts.append(literal)
            if name:
                if name not in fields:
                    raise KeyError(f"{key} names {{{name}}}, which the call does not have")
                parts.append(fields[name])
        return parts

    def sentence(self, key: str, **extra: Field) -> RichText:
        """A catalog sentence whose {names} may be placeholders, highlighted in place."""
        return self.rich(*self.parts(key, **extra))

    def text(self, key: str, **extra: Field) -> str:
        """A sentence as plain text (a placeholder reads as its label)."""
        return "".join(_text(p) for p in self.parts(key, **extra))

    def shown(self, form: Form, answers: Mapping[str, Value], qid: str) -> Field:
        """An answer as the document writes it; a missing one is a placeholder."""
        question = form.question(qid)
        value = answers.get(qid)
        if value is None:
            return Missing(render.label(self.t, form, question))
        if qid in self.data.typed:  # a phone number as the applicant wrote it
            return self.data.typed[qid]
        shown = _plain(show_value(self.t, question, value))
        if question.type in ("number", "integer") and self.t.locale.startswith("zh"):
            shown = _SPACED_UNIT.sub("", shown)
        return shown

    def param(self, name: str, value: object) -> str:
        """A param of the call as its ``formats`` says it reads."""
        match self.doc.formats.get(name):
            case "percent":
                ratio = _dec(value)
                digits = max(0, -(ratio * 100).normalize().as_tuple().exponent)  # type: ignore[operator]
                return self.t.percent(ratio, digits=digits)
            case "money":
                return self.money(_dec(value))
            case "month":
                year, month = str(value).split("-")
                return self.t.month(date(int(year), int(month), 1))
            case "number":
                return self.t.number(_dec(value))
        return str(value)

    def money(self, yuan: Decimal) -> str:
        """An amount as the language's documents write it: 30万元, CNY 300,000."""
        # TRANSLATORS: how many yuan the unit of draft.money holds: 10000 for 万元, 1 for CNY.
        unit = Decimal(self.t("draft.money_unit"))
        return self.t("draft.money", amount=self.t.number(yuan / unit))

    def _values(self) -> dict[str, Field]:
        data, t = self.data, self.t
        values: dict[str, Field] = {n: self.param(n, v) for n, v in data.params.items()}
        if data.form.years:
            values["first_year"], values["last_year"] = (
                str(data.form.years[0]),
                str(data.form.years[-1]),
            )
        for form, answers in ((data.form, data.answers), (data.details_form, data.details)):
            for q in form.questions:
                values[q.id] = self.shown(form, answers, q.id)
        figures = data.application.figures or {}
        for d in data.form.derived:
            figure = render.figure(figures, d.id)
            if figure is None:
                values[d.id] = t("result.not_computable")
            else:
                values[d.id] = t.percent(figure) if d.display == "percent" else t.number(figure)
        for qid, phrases in self.doc.phrases.items():
            answer = {**data.answers, **data.details}.get(qid)
            if answer is not None:
                values[qid] = t(phrases[_option(answer)])
        values["joint_applicants"] = self.joint_applicants()
        return values

    def items(self, parts: list[str]) -> str:
        """Several items in one cell, separated as the language does ("；" or "; ")."""
        # TRANSLATORS: goes between the items of one table cell, spaces included.
        return self.t("draft.item_separator").join(parts)

    def names(self) -> dict[str, Any]:
        """What a condition of the document data may name: params, answers, details."""
        known = {**self.data.params, **self.data.answers, **self.data.details}
        return {k: v for k, v in known.items() if v is not None}

    def joint_applicants(self) -> str:
        asked = {q.id for q in engine.applicable(self.data.form, self.data.answers)}
        names = [
            self.t(
                "draft.joint_applicant",
                name=_text(self.shown(self.data.form, self.data.answers, pair.name)),
                kind=_text(self.shown(self.data.form, self.data.answers, pair.kind)),
            )
            for pair in self.doc.joint_applicants
            if pair.name in asked
        ]
        return self.items(names) if names else self.t("draft.no_joint_applicants")


def _option(answer: Value) -> str:
    """A yes/no or choice answer as a phrase's key: "yes", "no" or the option id."""
    if isinstance(answer, bool):
        return "yes" if answer else "no"
    return str(answer)


def _text(value: Field) -> str:
    return value.what if isinstance(value, Missing) else value


def _dec(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))
