"""Conditions and formulas of a form, evaluated safely (simpleeval, never ``eval``).

Numbers are exact: a literal ``0.03`` is read as ``Decimal("0.03")`` so that a ratio of
exactly 3% is not "below 3%" through binary rounding. A name that has no value yet (a
question not answered or not asked) makes the whole expression *unknown*: a rule whose
inputs are unknown does not fire, a question whose ``ask_if`` is unknown is not asked.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from simpleeval import EvalWithCompoundTypes, InvalidExpression, NameNotDefined, SimpleEval

from forms.codes import uscc_division, uscc_valid

FUNCTIONS = {
    "sum": lambda *xs: sum(xs, Decimal(0)),
    "min": min,
    "max": max,
    "len": len,
    "uscc_valid": uscc_valid,
    "uscc_division": uscc_division,
}


class Unknown(Exception):
    """The expression needs a value that is not there (yet)."""


class _ExactEval(EvalWithCompoundTypes):  # type: ignore[misc]
    @staticmethod
    def _eval_constant(node: ast.Constant) -> Any:
        if isinstance(node.value, float):
            return Decimal(repr(node.value))
        return SimpleEval._eval_constant(node)


@cache
def _parsed(expr: str) -> ast.Expr:
    body = ast.parse(expr.strip(), mode="exec").body
    if len(body) != 1 or not isinstance(body[0], ast.Expr):
        raise ValueError(f"not a single expression: {expr!r}")
    return body[0]


def validate_expression(expr: str) -> None:
    """Refuse at load time what the evaluator would refuse at run time."""
    allowed = (
        ast.Expr, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.Compare,
        ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is,
        ast.IsNot, ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Name, ast.Load,
        ast.Constant, ast.Tuple, ast.List, ast.Call,
    )  # fmt: skip
    for node in ast.walk(_parsed(expr)):
        if not isinstance(node, allowed):
            raise ValueError(f"{type(node).__name__} is not allowed in {expr!r}")
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
        ):
            raise ValueError(f"only {sorted(FUNCTIONS)} may be called in {expr!r}")


@cache  # asked for every rule on every answer; walking the tree each time showed in profiles
def names_in(expr: str) -> frozenset[str]:
    return frozenset(
        node.id
        for node in ast.walk(_parsed(expr))
        if isinstance(node, ast.Name) and node.id not in FUNCTIONS
    )


_EVALUATOR = _ExactEval(functions=dict(FUNCTIONS))


def evaluate(expr: str, names: Mapping[str, Any]) -> Any:
    """The value of ``expr``; raises Unknown when an input is missing or unusable."""
    # One evaluator for all: building one per expression was a measurable share of a
    # reply's CPU, and eval() runs synchronously, so swapping its names is safe.
    _EVALUATOR.names = names  # True, False and None are constants, not names
    try:
        return _EVALUATOR.eval(expr.strip(), previously_parsed=_parsed(expr))
    except NameNotDefined as e:
        raise Unknown(str(e)) from e
    except (ZeroDivisionError, InvalidOperation, TypeError) as e:
        raise Unknown(f"{expr!r}: {e}") from e
    except InvalidExpression as e:  # pragma: no cover - validate_expression refuses these first
        raise ValueError(str(e)) from e


def holds(expr: str, names: Mapping[str, Any]) -> bool | None:
    """True/False, or None when the condition cannot be decided yet."""
    try:
        return bool(evaluate(expr, names))
    except Unknown:
        return None
