"""The web chat under load: N browsers at once, each answering its first M questions of the
interview as a person would, next to a bare aiohttp app answering the same requests
with a fixed page, in the same run, on 127.0.0.1 only.

    .venv/bin/python -m bench.web_load                      # 200 sessions × 20 answers
    .venv/bin/python -m bench.web_load --sessions 20 --answers 10

An answer is what a browser without JavaScript does: post the form, follow the 303 to
the page, read it. Bounded: every request times out after --request-timeout, each phase
after --phase-timeout; the servers are stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

from bench.harness import CpuSample, machine_busy, peak_rss_mb, percentile, spawn
from forms.definition import programme
from testkit.answers import ELIGIBLE_ZH
from testkit.chat import answer, current_question
from testkit.telegram import free_port
from testkit.web import WebVisitor

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    failures: int = 0
    cpu: float = 0.0
    rss: float = 0.0
    machine: float = 0.0

    def pct(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    def row(self) -> str:
        n = len(self.latencies)
        return (
            f"| {self.name} | {n} | {self.wall:.1f} | {n / self.wall:.1f} | {self.pct(50):.0f} "
            f"| {self.pct(99):.0f} | {max(self.latencies) * 1000:.0f} | {self.rss:.0f} "
            f"| {1000 * self.cpu / max(n, 1):.2f} | {self.machine:.0f} | {self.failures} |"
        )


class TimedVisitor(WebVisitor):
    """A browser that records how long each answer took (post + redirect + page)."""

    def __init__(self, base: URL, phase: Phase) -> None:
        super().__init__(base)
        self.phase = phase
        # Each browser from its own address, as the proxy in front would say.
        self.http.headers["X-Forwarded-For"] = f"bench-visitor-{id(self)}"

    async def post(self, path: str, form: dict[str, str]):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        page = await super().post(path, form)
        self.phase.latencies.append(time.perf_counter() - started)
        if page.status != 200:
            raise RuntimeError(f"{path}: {page.status} {self.text[:200]}")
        return page


async def patentbot_session(base: URL, phase: Phase, answers: int, gate: asyncio.Event) -> None:
    form = programme("nansha-2024")
    browser = TimedVisitor(base, phase)
    try:
        await browser.get("/")
        await gate.wait()  # everyone starts answering at once
        await browser.press("menu:apply")
        for _ in range(answers - 1):
            qid = current_question(form, "zh_CN", browser.text)
            if qid is None:
                raise RuntimeError(f"no question: {browser.text[:200]}")
            await answer(browser, form, qid, ELIGIBLE_ZH)  # type: ignore[arg-type]
    except Exception:
        phase.failures += 1
    finally:
        await browser.close()


async def echo_session(base: URL, phase: Phase, answers: int, gate: asyncio.Event) -> None:
    browser = TimedVisitor(base, phase)
    try:
        await browser.get("/")
        await gate.wait()
        for n in range(answers):
            await browser.post("/say", {"text": f"answer {n}"})
    except Exception:
        phase.failures += 1
    finally:
        await browser.close()


async def run_phase(
    name: str,
    argv: list[str],
    env: dict[str, str],
    args: argparse.Namespace,
    workdir: Path,
    session: Callable[[URL, Phase, int, asyncio.Event], Coroutine[Any, Any, None]],
) -> Phase:
    port = free_port()
    server = await spawn(name, [*argv, f"127.0.0.1:{port}"] if name == "echo" else argv,
                         {**env, "WEB_LISTEN": f"127.0.0.1:{port}"}, workdir)  # fmt: skip
    base = URL(f"http://127.0.0.1:{port}/")
    phase = Phase(name)
    try:
        deadline = time.monotonic() + 60
        while True:  # ready when it answers
            try:
                async with aiohttp.ClientSession() as http, http.get(base) as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{server.log_tail()}")
            await asyncio.sleep(0.2)
        gate = asyncio.Event()
        tasks = [asyncio.create_task(session(base, phase, args.answers, gate))
                 for _ in range(args.sessions)]  # fmt: skip
        await asyncio.sleep(1)  # every browser has its first page
        before, busy0 = CpuSample.of(server.pid), machine_busy()
        started = time.perf_counter()
        gate.set()
        await asyncio.wait_for(asyncio.gather(*tasks), args.phase_timeout)
        phase.wall = time.perf_counter() - started
        busy1 = machine_busy()
        phase.cpu = CpuSample.of(server.pid).total - before.total
        phase.machine = 100 * (busy1[0] - busy0[0]) / max(busy1[1] - busy0[1], 1)
        phase.rss = peak_rss_mb(server.pid)
    finally:
        await server.stop()
    return phase


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "WEB_"))}
        env |= {"DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}", "PYTHONUNBUFFERED": "1",
                "PYTHONPATH": str(ROOT)}  # fmt: skip
        bot = await run_phase("patentbot", [sys.executable, "-m", "bot.cli", "web"], env, args,
                              workdir, patentbot_session)  # fmt: skip
        echo = await run_phase("echo", [sys.executable, "-m", "bench.web_echo"], env, args,
                               workdir, echo_session)  # fmt: skip
    print(f"{args.sessions} sessions × {args.answers} answers, SQLite, same run\n")
    print(
        "| server | answers | wall s | answers/s | p50 ms | p99 ms | max ms | peak RSS MB "
        "| CPU ms/answer | machine CPU % | failed sessions |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(bot.row())
    print(echo.row())
    return 1 if bot.failures or echo.failures else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--answers", type=int, default=20)
    parser.add_argument("--phase-timeout", type=float, default=600)
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
