"""Where a bot's CPU went, from a cProfile file written by ``interview_load --profile DIR``.

    .venv/bin/python -m bench.profile_summary DIR/patentbot.prof [--top 25]

Sums each function's own time (tottime, so nothing is counted twice) by the package it
lives in (builtins and stdlib helpers count for the package that called them), and lists
the functions with the most own time. Waiting in epoll (idle) is shown
apart. cProfile slows Python code down (about 1.5-2x here), so use the shares, not the
absolute seconds.
"""

from __future__ import annotations

import argparse
import pstats
from collections import defaultdict
from collections.abc import Callable
from typing import Any

GROUPS = (
    ("select.epoll", "idle (epoll)"),
    ("pydantic", "pydantic"),
    ("aiogram", "aiogram"),
    ("aiohttp", "aiohttp/yarl/multidict"),
    ("yarl", "aiohttp/yarl/multidict"),
    ("multidict", "aiohttp/yarl/multidict"),
    ("sqlalchemy", "SQLAlchemy/sqlmodel"),
    ("sqlmodel", "SQLAlchemy/sqlmodel"),
    ("greenlet", "SQLAlchemy/sqlmodel"),
    ("aiosqlite", "aiosqlite/asyncpg"),
    ("asyncpg", "aiosqlite/asyncpg"),
    ("simpleeval", "forms (rules, simpleeval)"),
    ("/forms/", "forms (rules, simpleeval)"),
    ("/handlers/", "handlers"),
    ("/bot/", "bot transport"),
    ("babel", "locales (babel, gettext)"),
    ("/locales/", "locales (babel, gettext)"),
    ("gettext", "locales (babel, gettext)"),
    ("logging", "logging"),
    ("asyncio", "asyncio"),
    ("json", "json"),
    ("importlib", "imports (start-up)"),
    ("<frozen", "imports (start-up)"),
    ("marshal", "imports (start-up)"),
)


def group_of(filename: str, name: str) -> str:
    where = f"{filename}:{name}"
    for needle, group in GROUPS:
        if needle in where:
            return group
    return "other"


def resolver(stats: dict[Any, Any]) -> Callable[[Any], dict[str, float]]:
    """A function's own time by group; time of builtins and stdlib helpers ("other") goes
    to the group of whoever called them, in proportion to the time spent per caller."""
    memo: dict[Any, dict[str, float]] = {}

    def shares(func: Any, depth: int = 0) -> dict[str, float]:
        """How 1 s of func's own time splits over groups."""
        if func in memo:
            return memo[func]
        filename, _line, name = func
        group = group_of(filename, name)
        result: defaultdict[str, float] = defaultdict(float)
        callers = stats[func][4] if func in stats else {}
        if group != "other" or depth > 12 or not callers:
            result[group] = 1.0
        else:
            memo[func] = {"other": 1.0}  # cycle guard
            total = sum(v[2] for v in callers.values()) or 1.0
            for caller, value in callers.items():
                for g, share in shares(caller, depth + 1).items():
                    result[g] += share * value[2] / total
        memo[func] = result
        return result

    return shares


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("profile")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    stats = pstats.Stats(args.profile).stats  # type: ignore[attr-defined]
    shares = resolver(stats)
    by_group: defaultdict[str, float] = defaultdict(float)
    functions: defaultdict[str, float] = defaultdict(float)
    for func, (_cc, _nc, tottime, _ct, _callers) in stats.items():
        for group, share in shares(func).items():
            by_group[group] += tottime * share
        filename, line, name = func
        functions[f"{filename.split('site-packages/')[-1]}:{line}({name})"] += tottime
    apart = ("idle (epoll)", "imports (start-up)")
    busy = sum(v for k, v in by_group.items() if k not in apart)
    print(f"busy CPU (profiled, without idle and imports): {busy:.2f}s")
    for group, seconds in sorted(by_group.items(), key=lambda kv: -kv[1]):
        percent = "" if group in apart else f"{seconds / busy:6.1%}"
        print(f"  {group:<28} {seconds:8.2f}s {percent}")
    print(f"top {args.top} functions by own time:")
    for function, seconds in sorted(functions.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"  {seconds:8.2f}s  {function}")


if __name__ == "__main__":
    main()
