"""Run patentbot (``bot.cli``) with bench-only what-ifs, to attribute where its time goes.

Run as ``python -m bench.variants`` by ``python -m bench.interview_load --variant NAME[,NAME]``
(the echo bot applies pin-generics and quiet-log too); nothing here is for
production, and the project's code is not changed: the what-ifs are applied in this
process before ``bot.cli`` runs. BENCH_VARIANTS (comma-separated) chooses:

pin-generics
    Keep every ``Response[T]`` class pydantic builds. aiogram's ``check_response`` does
    ``Response[method.__returning__]`` for every API response; pydantic caches the
    parametrised class only weakly, so once a cyclic GC pass has collected it the class
    is built again (schema generation, 2–8 ms of CPU) on the next response.
quiet-log
    The ``aiogram.event`` logger at WARNING: no "Update id=… is handled" INFO line per
    update (``bot/cli/__init__.py`` logs at INFO).
timings
    Measure, and write as JSON to BENCH_TIMINGS at exit: ``Router.handle`` (wall and
    main-thread CPU per update; the CPU figure is meaningful only with one user at a
    time), ``check_response`` CPU per API response, ``make_request`` wall per API call by
    method, SQL statements and commits executed, pydantic generic classes built.
profile
    cProfile the main thread between SIGUSR1 and SIGUSR2 (the benchmark sends them around
    the timed part, so start-up is left out), writing the stats to BENCH_PROFILE.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import runpy
import time
from collections import defaultdict
from typing import Any

VARIANTS = {v.strip() for v in os.environ.get("BENCH_VARIANTS", "").split(",") if v.strip()}
KNOWN = {"pin-generics", "quiet-log", "timings", "profile"}
if VARIANTS - KNOWN:
    raise SystemExit(f"unknown BENCH_VARIANTS {sorted(VARIANTS - KNOWN)}; known: {sorted(KNOWN)}")


class Tally:
    def __init__(self) -> None:
        self.n = 0
        self.wall = 0.0
        self.cpu = 0.0

    def add(self, wall: float, cpu: float = 0.0) -> None:
        self.n += 1
        self.wall += wall
        self.cpu += cpu

    def as_dict(self) -> dict[str, float]:
        return {"n": self.n, "wall_s": self.wall, "cpu_s": self.cpu}


def install_timings(path: str) -> None:
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.session.base import BaseSession
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from handlers.kernel.router import Router

    tallies: dict[str, Tally] = defaultdict(Tally)
    perf, thread_cpu = time.perf_counter, time.thread_time

    handle = Router.handle

    async def timed_handle(self: Router, event_: Any, *args: Any) -> Any:
        wall, cpu = perf(), thread_cpu()
        try:
            return await handle(self, event_, *args)
        finally:
            tallies["router.handle"].add(perf() - wall, thread_cpu() - cpu)

    Router.handle = timed_handle  # type: ignore[method-assign, assignment]

    check = BaseSession.check_response

    def timed_check(self: Any, *args: Any, **kwargs: Any) -> Any:
        wall, cpu = perf(), thread_cpu()
        try:
            return check(self, *args, **kwargs)
        finally:
            tallies["check_response"].add(perf() - wall, thread_cpu() - cpu)

    BaseSession.check_response = timed_check  # type: ignore[method-assign]

    request = AiohttpSession.make_request

    async def timed_request(self: Any, bot: Any, method: Any, timeout: Any = None) -> Any:
        wall = perf()
        try:
            return await request(self, bot, method, timeout)
        finally:
            tallies[f"api.{type(method).__name__}"].add(perf() - wall)

    AiohttpSession.make_request = timed_request  # type: ignore[method-assign]

    import pydantic._internal._generics as generics

    create = generics.create_generic_submodel

    def counted_create(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = perf(), thread_cpu()
        try:
            return create(*args, **kwargs)
        finally:
            tallies["pydantic.create_generic_submodel"].add(perf() - wall, thread_cpu() - cpu)

    generics.create_generic_submodel = counted_create

    @event.listens_for(Engine, "before_cursor_execute")
    def _statement(*_: Any) -> None:
        tallies["sql.statements"].add(0.0)

    @event.listens_for(Engine, "commit")
    def _commit(*_: Any) -> None:
        tallies["sql.commits"].add(0.0)

    def dump() -> None:
        with open(path, "w") as f:
            json.dump({k: v.as_dict() for k, v in tallies.items()}, f, indent=1)

    atexit.register(dump)


def install_profiler(path: str) -> None:
    import cProfile
    import signal

    profiler = cProfile.Profile()

    def start(*_: Any) -> None:
        profiler.enable()

    def stop(*_: Any) -> None:
        profiler.disable()
        profiler.dump_stats(path)

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)


def apply(variants: set[str] = VARIANTS) -> None:
    if "pin-generics" in variants:
        import pydantic._internal._generics as generics

        generics._GENERIC_TYPES_CACHE = {}  # type: ignore[assignment]  # strong references
    if "quiet-log" in variants:
        logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    if "timings" in variants:
        install_timings(os.environ["BENCH_TIMINGS"])
    if "profile" in variants:
        install_profiler(os.environ["BENCH_PROFILE"])


if __name__ == "__main__":
    apply()
    runpy.run_module("bot.cli", run_name="__main__", alter_sys=True)
