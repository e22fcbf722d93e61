"""Running a form over a set of answers: what to ask next, what follows, what is flagged.

Everything here is a pure function of (form, answers); the handlers own the storage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from forms.answers import Value
from forms.definition import SEVERITY_ORDER, Check, Form, Question, Rule
from forms.expressions import Unknown, evaluate, holds, names_in

Answers = Mapping[str, Value]


@dataclass(frozen=True)
class Flag:
    rule: Rule
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def severity(self) -> str:
        return self.rule.severity


@dataclass(frozen=True)
class Outcome:
    verdict: str  # eligible | eligible_with_points | not_eligible
    flags: tuple[Flag, ...]
    derived: dict[str, Any]


def applicable(form: Form, answers: Answers) -> list[Question]:
    """The questions to ask given the answers so far, in order (``ask_if`` decided)."""
    asked: list[Question] = []
    known: dict[str, Any] = dict(form.params)
    for q in form.questions:
        if q.ask_if is None or holds(q.ask_if, known):
            asked.append(q)
            if answers.get(q.id) is not None:
                known[q.id] = answers[q.id]
    return asked


def relevant_answers(form: Form, answers: Answers) -> dict[str, Value]:
    """Answers of the questions that apply; answers left behind by a changed branch drop
    out, and so do skipped ones (None): to a condition they are unknown."""
    return {
        q.id: answers[q.id]
        for q in applicable(form, answers)
        if q.id in answers and answers[q.id] is not None
    }


def next_question(form: Form, answers: Answers) -> Question | None:
    return next((q for q in applicable(form, answers) if q.id not in answers), None)


def previous_question(form: Form, answers: Answers, current: str | None) -> Question | None:
    """The question asked before ``current`` (or the last one when at the review)."""
    asked = applicable(form, answers)
    ids = [q.id for q in asked]
    if current is None or current not in ids:
        return asked[-1] if asked else None
    index = ids.index(current)
    return asked[index - 1] if index > 0 else None


def progress(form: Form, answers: Answers, current: str) -> tuple[int, int]:
    """(number of the current question, how many this applicant will be asked given the
    answers so far). A question whose ``ask_if`` the answers do not yet decide is not
    counted: the total may grow when an answer opens a branch, but never shows a question
    the applicant will not meet."""
    ids = [q.id for q in applicable(form, answers)]
    return (ids.index(current) + 1 if current in ids else len(ids), len(ids))


def _derive(form: Form, names: dict[str, Any]) -> dict[str, Any]:
    """Each derived value in turn (a later one may use an earlier), added to ``names``."""
    values: dict[str, Any] = {}
    for d in form.derived:
        try:
            values[d.id] = names[d.id] = evaluate(d.expr, names)
        except Unknown:
            values[d.id] = None
    return values


def derived_values(form: Form, answers: Answers) -> dict[str, Any]:
    return _derive(form, {**form.params, **relevant_answers(form, answers)})


def _names(form: Form, answers: Answers) -> dict[str, Any]:
    """Everything a rule may name: params, the relevant answers, the derived values."""
    names: dict[str, Any] = {**form.params, **relevant_answers(form, answers)}
    _derive(form, names)
    return {k: v for k, v in names.items() if v is not None}


def _flag(rule: Rule, names: Mapping[str, Any]) -> Flag:
    shown = set(rule.show) | names_in(rule.when)
    return Flag(rule, {k: names[k] for k in shown if k in names})


def evaluate_rules(form: Form, answers: Answers) -> list[Flag]:
    names = _names(form, answers)
    flags = [_flag(r, names) for r in form.rules if holds(r.when, names)]
    return sorted(flags, key=lambda f: SEVERITY_ORDER.index(f.severity))


def disqualifiers_from(form: Form, answers: Answers, question_id: str) -> list[Flag]:
    """Hard disqualifiers that the answer to ``question_id`` has just made true."""
    names = _names(form, answers)
    triggers = {question_id}
    for d in form.derived:  # in order, so a value derived from a derived value follows too
        if names_in(d.expr) & triggers:
            triggers.add(d.id)
    return [
        _flag(r, names)
        for r in form.rules
        if r.severity == "disqualify" and names_in(r.when) & triggers and holds(r.when, names)
    ]


def check_names(
    form: Form, answers: Answers, outer: Form | None = None, outer_answers: Answers | None = None
) -> dict[str, Any]:
    """What a check may name: the form's own names and, for a form that reads ``inputs``
    from another (the draft details from the interview), that form's names too."""
    names = _names(outer, outer_answers or {}) if outer is not None else {}
    return {**names, **_names(form, answers)}


def doubts(
    form: Form, question_id: str, action: str, names: Mapping[str, Any]
) -> list[tuple[Check, dict[str, Any]]]:
    """The checks of this question and kind that the answer in ``names`` raises, each
    with the values it saw."""
    return [
        (c, {k: names[k] for k in names_in(c.when) if k in names})
        for c in form.checks
        if c.question == question_id and c.action == action and holds(c.when, names)
    ]


def outcome(form: Form, answers: Answers) -> Outcome:
    flags = evaluate_rules(form, answers)
    severities = {f.severity for f in flags}
    if "disqualify" in severities:
        verdict = "not_eligible"
    elif severities:
        verdict = "eligible_with_points"
    else:
        verdict = "eligible"
    return Outcome(verdict, tuple(flags), derived_values(form, answers))
