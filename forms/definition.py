"""Form definitions: the schema of a programme/survey YAML file and its loader.

A form file is data: questions, derived values and rules, each citing the clause of the
call it implements. Years, thresholds and limits are ``params`` in the file, so next
year's call is a new file, not new code.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from forms.document import DraftDocument
from forms.expressions import names_in, validate_expression

FORMS_DIR = Path(__file__).resolve().parent
FormKind = Literal["programmes", "surveys", "admin"]

QuestionType = Literal[
    "yes_no", "choice", "number", "integer", "text", "uscc", "phone", "date", "datetime"
]
Severity = Literal["disqualify", "warning", "review"]
SEVERITY_ORDER: tuple[str, ...] = get_args(Severity)  # the worst first
Display = Literal["percent", "number", "text"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    id: str
    label: str  # catalog key
    group: str | None = None
    score: int | None = None  # on a rating scale (5 = 非常满意 … 1 = 非常不满意)


class Group(_Strict):
    id: str
    label: str  # catalog key


class Question(_Strict):
    id: str
    type: QuestionType
    text: str  # catalog key: the question as asked
    label: str  # catalog key: a short name for the review and the documents
    section: str  # catalog key
    clause: str | None = None
    ask_if: str | None = None
    options: tuple[Option, ...] = ()
    groups: tuple[Group, ...] = ()
    unit: str | None = None  # catalog key, shown in the question and the review
    min: Decimal | None = None
    max: Decimal | None = None
    # An amount in 万元 above this is implausible for an applicant: it is asked back as
    # possibly typed in yuan (50000000 → "5,000 万元?"), never taken silently.
    plausible_max: Decimal | None = None
    max_length: int = 200
    optional: bool = False  # offers a "skip" button; a skipped answer is stored as None
    future: bool = False  # a datetime that must not have passed (a closing time)
    vars: dict[str, int | str] = Field(default_factory=dict)

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


class Derived(_Strict):
    id: str
    label: str  # catalog key: its column heading in the export
    expr: str
    display: Display = "number"


class Rule(_Strict):
    id: str
    when: str
    severity: Severity
    clause: str
    title: str  # catalog key: a short name for lists (/stats, broadcast audiences)
    message: str  # catalog key; may use {name} of any answer, derived value or param
    show: dict[str, Display] = Field(default_factory=dict)


class Check(_Strict):
    """A doubt about one answer, raised when it is typed: ``confirm`` asks before the
    answer is stored (a product revenue above the year's total revenue), ``notice``
    stores it and says what it falls short of (fewer patents planned than K3 asks)."""

    id: str
    question: str
    when: str  # over answers, derived values and params (``inputs`` too)
    action: Literal["confirm", "notice"]
    clause: str | None = None
    message: str  # catalog key; may use {name} of any name in ``when``


class Period(_Strict):
    """When a call takes applications: both days inclusive, in UTC+8."""

    opens: date
    closes: date

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.closes < self.opens:
            raise ValueError(f"application_period closes ({self.closes}) before it opens")
        return self


class Form(_Strict):
    id: str
    version: int
    title: str  # catalog key
    # The form that asks what the draft application needs (a file beside this one),
    # and the satisfaction survey of the programme's training events (forms/surveys).
    draft_details: str | None = None
    survey: str | None = None
    # "近三年" read two ways: ``years`` are the complete financial years the figures cover
    # (E2a, E2b); the record (E5a, E5b, X1) runs from ``record_since`` up to the day of
    # application, so an event after the last of those years still counts.
    years: tuple[int, ...] = ()
    record_since: date | None = None
    # Optional: after it closes, /apply says the call is closed (results and drafts stay).
    application_period: Period | None = None
    params: dict[str, Decimal | int | str] = Field(default_factory=dict)
    questions: tuple[Question, ...]
    derived: tuple[Derived, ...] = ()
    rules: tuple[Rule, ...] = ()
    checks: tuple[Check, ...] = ()
    # Names this form's checks read from the application's other answers: a draft-details
    # form comparing a product's revenue with the interview's revenue of that year.
    inputs: tuple[str, ...] = ()
    # A draft-details file: what the draft application lists and says (forms/document.py).
    document: DraftDocument | None = None
    # Where the file was read from: the forms it names are looked for beside it first.
    directory: Path | None = Field(default=None, exclude=True)

    @field_validator("params", mode="before")
    @classmethod
    def _exact_numbers(cls, params: dict[str, Any]) -> dict[str, Any]:
        # 0.03 must stay 0.03: floats from YAML become exact decimals.
        return {k: Decimal(str(v)) if isinstance(v, float) else v for k, v in params.items()}

    @model_validator(mode="after")
    def _consistent(self) -> Form:
        ids = [q.id for q in self.questions] + [d.id for d in self.derived]
        duplicates = {i for i in ids if ids.count(i) > 1}
        if duplicates:
            raise ValueError(f"duplicate ids: {sorted(duplicates)}")
        known = set(ids) | set(self.params)
        expressions = [(q.id, q.ask_if, known) for q in self.questions if q.ask_if]
        expressions += [(d.id, d.expr, known) for d in self.derived]
        expressions += [(r.id, r.when, known) for r in self.rules]
        expressions += [(c.id, c.when, known | set(self.inputs)) for c in self.checks]
        for owner, expr, names in expressions:
            validate_expression(expr)
            unknown = names_in(expr) - names
            if unknown:
                raise ValueError(f"{owner}: unknown names {sorted(unknown)} in {expr!r}")
        for c in self.checks:
            if c.question not in ids:
                raise ValueError(f"{c.id}: no question {c.question!r} to check")
        for q in self.questions:
            if q.type == "choice" and not q.options:
                raise ValueError(f"{q.id}: a choice question needs options")
        return self

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def has_question(self, question_id: str) -> bool:
        return any(q.id == question_id for q in self.questions)


def _expand(raw: dict[str, Any]) -> dict[str, Any]:
    """Resolve shared option sets and per-year questions before validation."""
    option_sets: dict[str, list[Any]] = raw.pop("option_sets", {})
    group_sets: dict[str, list[Any]] = raw.pop("group_sets", {})
    years: list[int] = raw.get("years", [])
    questions: list[dict[str, Any]] = []
    for q in raw.get("questions", []):
        q = dict(q)
        if isinstance(q.get("options"), str):
            q["options"] = option_sets[q["options"]]
        if isinstance(q.get("groups"), str):
            q["groups"] = group_sets[q["groups"]]
        if q.pop("for_each_year", False):
            for n, year in enumerate(years, start=1):
                questions.append(
                    {**q, "id": f"{q['id']}_y{n}", "vars": {**q.get("vars", {}), "year": year}}
                )
        else:
            questions.append(q)
    raw["questions"] = questions
    return raw


def load_form(path: Path) -> Form:
    with path.open(encoding="utf-8") as f:
        raw = yaml.safe_load(f)
    return Form.model_validate({**_expand(raw), "directory": path.resolve().parent})


@cache
def form_file(kind: FormKind, name: str) -> Form:
    """A form shipped under ``forms/<kind>/`` by file stem, e.g. ``nansha-2024``."""
    path = FORMS_DIR / kind / f"{name}.yaml"
    if not path.is_file():
        available = ", ".join(sorted(p.stem for p in (FORMS_DIR / kind).glob("*.yaml")))
        raise FileNotFoundError(f"no {kind} file {path.name}; available: {available}")
    return load_form(path)


def programme(name: str) -> Form:
    """The call by name (``nansha-2024``, shipped under forms/programmes) or by the path of
    its file, so that an office keeps its call files outside the installed package."""
    if name.endswith((".yaml", ".yml")) or "/" in name or "\\" in name:
        return _programme_at(str(Path(name).expanduser().resolve()))
    return form_file("programmes", name)


@cache
def _programme_at(path: str) -> Form:
    if not Path(path).is_file():
        raise FileNotFoundError(f"no programme file {path}")
    return load_form(Path(path))


def survey(name: str) -> Form:
    return form_file("surveys", name)


def admin_form(name: str) -> Form:
    return form_file("admin", name)


# The forms a programme names: its draft details (a programme file) and its event survey.
LINKED: dict[str, FormKind] = {"draft_details": "programmes", "survey": "surveys"}


def linked(form: Form, field: Literal["draft_details", "survey"]) -> Form:
    name = getattr(form, field)
    if name is None:
        raise LookupError(f"programme {form.id} has no {field} form")
    beside = form.directory / f"{name}.yaml" if form.directory else None
    if beside is not None and beside.is_file() and beside.parent != FORMS_DIR / LINKED[field]:
        return _programme_at(str(beside))  # a call kept outside the package, with its files
    return form_file(LINKED[field], name)
