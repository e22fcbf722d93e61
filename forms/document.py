"""The draft application's structure as data: which rows, sections and sentences a call
has (the ``document`` of a programme's draft-details file).

Every key here is a catalog key; every ``{name}`` in those sentences is an answer, a
draft detail, a derived value or a param, so that a call's figures live in its files.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from forms.expressions import validate_expression

# How a param reads in a sentence: 3%, 30万元, 2024年6月, 1,234, as written.
ParamFormat = Literal["percent", "money", "month", "number", "text"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class JointApplicant(_Strict):
    name: str  # question id
    kind: str  # question id


class Condition(_Strict):
    clause: str
    text: str  # the condition as the call states it
    situation: str | None = None  # a sentence; default: the answers to its questions
    applies_if: str | None = None  # false: the row reads "not applicable"


class Shortfall(_Strict):
    """A plan that falls short of a target: a point to explain."""

    clause: str
    when: str
    text: str


class Task(_Strict):
    clause: str
    title: str
    text: str


class Target(_Strict):
    clause: str
    text: str
    plan: str


class Stage(_Strict):
    clause: str
    title: str
    start: str  # a month param
    end: str | None = None  # a month param; none: the stage is one month
    text: str


class Payment(_Strict):
    clause: str
    title: str
    share: str | None = None  # a ratio param; none: what the others leave


class Funding(_Strict):
    clause: str
    total: str  # a param, in yuan
    text: str
    payments: tuple[Payment, ...]


class DraftDocument(_Strict):
    formats: dict[str, ParamFormat] = Field(default_factory=dict)
    joint_applicants: tuple[JointApplicant, ...] = ()
    conditions: tuple[Condition, ...]
    # A yes/no or choice answer as a phrase of a sentence: question id → {yes|no|option
    # id → phrase}.
    phrases: dict[str, dict[str, str]] = Field(default_factory=dict)
    points: dict[str, str] = Field(default_factory=dict)  # rule id → sentence
    shortfalls: tuple[Shortfall, ...] = ()
    tasks: tuple[Task, ...] = ()
    targets: tuple[Target, ...] = ()
    schedule: tuple[Stage, ...] = ()
    funding: Funding | None = None
    guarantees: tuple[str, ...] = ()
    pledges: tuple[str, ...] = ()  # clauses pledged in the commitment letter

    @model_validator(mode="after")
    def _expressions(self) -> DraftDocument:
        for expr in [c.applies_if for c in self.conditions if c.applies_if]:
            validate_expression(expr)
        for shortfall in self.shortfalls:
            validate_expression(shortfall.when)
        listed = {c.clause for c in self.conditions}
        if set(self.pledges) - listed:
            raise ValueError(
                f"pledges of unlisted conditions: {sorted(set(self.pledges) - listed)}"
            )
        return self
