"""One timed phase of a load benchmark: simulated users, each ready at its own pace, released
together against the bot's processes (one, or several behind a load balancer); the latencies
they saw, and the bot's CPU, peak memory and Bot API calls over exactly that time."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import BotProcess, CpuSample, machine_busy, peak_rss_mb, percentile
from testkit.fake_bot_api import BotMessage, FakeBotAPI, FakeUser

# One user's part of a phase: given the release signal and a callback to say it is ready.
UserTask = Callable[[FakeUser, asyncio.Event, Callable[[], None]], Coroutine[Any, Any, None]]


class CountingBotAPI(FakeBotAPI):
    """The fake server, counting calls by method (record_calls=False keeps no call list)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.method_counts: Counter[str] = Counter()
        self.updates_delivered = 0

    async def _dispatch(self, name: str, *args: Any, **kwargs: Any) -> tuple[int, Any]:
        self.method_counts[name] += 1
        status, body = await super()._dispatch(name, *args, **kwargs)
        if name == "getUpdates" and status == 200:
            self.updates_delivered += len(body.get("result") or ())
        return status, body


@dataclass
class PhaseResult:
    name: str
    users: int
    steps_per_user: int
    latencies: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    questions: int = 0
    failures: list[str] = field(default_factory=list)
    wall: float = 0.0
    ready_wait: float = 0.0
    peak_rss_mb: float = 0.0
    bot_cpu: float = 0.0
    bot_main_thread_cpu: float = 0.0
    bot_threads: int = 0
    own_cpu: float = 0.0
    machine_busy: float = 0.0  # share of all cores busy during the timed part
    api_calls: Counter[str] = field(default_factory=Counter)
    timings: dict[str, dict[str, float]] = field(default_factory=dict)
    updates: int = 0
    log_lines: int = 0
    processes: int = 1  # of the bot, behind a load balancer when more than one
    posts_answered: list[int] = field(default_factory=list)  # by each process, via the balancer

    def record(self, kind: str, seconds: float) -> None:
        self.latencies.append(seconds)
        self.by_kind.setdefault(kind, []).append(seconds)

    @property
    def replies(self) -> int:
        return len(self.latencies)

    @property
    def replies_per_s(self) -> float:
        return self.replies / self.wall if self.wall else 0.0

    def pct(self, q: float, values: list[float] | None = None) -> float:
        return percentile(self.latencies if values is None else values, q)


async def next_output(
    user: FakeUser, accept: Callable[[BotMessage], bool], timeout: float
) -> BotMessage:
    """The first bot output in this chat that ``accept`` takes (others are skipped)."""
    deadline = time.perf_counter() + timeout
    while (remaining := deadline - time.perf_counter()) > 0:
        message = await user.next_message(timeout=remaining)  # AssertionError on timeout
        if accept(message):
            return message
    raise AssertionError(f"no accepted reply in chat {user.id} within {timeout}s")


async def run_phase(
    server: CountingBotAPI,
    bots: list[BotProcess],
    result: PhaseResult,
    users: list[FakeUser],
    make_user_task: UserTask,
    phase_timeout: float,
    profile: Path | None = None,
) -> None:
    """Start every user, release them together once all are ready, time until all are done.

    With several ``bots`` (processes of one bot), CPU seconds, threads and log lines are
    their sums and the peak RSS is the largest one's: what one machine must have for each.
    ``profile`` takes one process.
    """
    if profile and len(bots) != 1:
        raise ValueError("a profile is of one process")
    go = asyncio.Event()
    waiting = len(users)
    all_ready = asyncio.Event()

    def ready() -> None:
        nonlocal waiting
        waiting -= 1
        if waiting == 0:
            all_ready.set()

    tasks: list[asyncio.Task[None]] = [
        asyncio.create_task(make_user_task(u, go, ready)) for u in users
    ]
    await asyncio.wait_for(all_ready.wait(), phase_timeout)
    await asyncio.sleep(0.2)  # let the warm-up replies settle
    calls_before = Counter(server.method_counts)
    updates_before = server.updates_delivered
    cpu_before = [CpuSample.of(bot.pid) for bot in bots]
    own_before = time.process_time()
    machine_before = machine_busy()
    log_before = sum(bot.count_in_log("") for bot in bots)

    if profile:
        os.kill(bots[0].pid, signal.SIGUSR1)  # bench/variants.py: start cProfile
    started = time.perf_counter()
    go.set()
    done, pending = await asyncio.wait(tasks, timeout=phase_timeout)
    result.wall = time.perf_counter() - started
    if profile:
        os.kill(bots[0].pid, signal.SIGUSR2)  # stop and write the profile
        for _ in range(100):  # up to 10 s
            if profile.exists() and profile.stat().st_mtime >= time.time() - 60:
                break
            await asyncio.sleep(0.1)

    result.own_cpu = time.process_time() - own_before
    busy, total = machine_busy()
    result.machine_busy = (busy - machine_before[0]) / max(total - machine_before[1], 1)
    result.bot_cpu = result.bot_main_thread_cpu = 0.0
    result.bot_threads = 0
    for bot, before in zip(bots, cpu_before, strict=True):
        after = CpuSample.of(bot.pid)
        result.bot_cpu += after.total - before.total
        main = next(k for k in after.threads if k.split()[0] == str(bot.pid))
        result.bot_main_thread_cpu += after.threads[main] - before.threads.get(main, 0.0)
        result.bot_threads += len(after.threads)
    result.peak_rss_mb = max(peak_rss_mb(bot.pid) for bot in bots)
    result.api_calls = server.method_counts - calls_before
    result.updates = server.updates_delivered - updates_before
    result.log_lines = sum(bot.count_in_log("") for bot in bots) - log_before
    for task in pending:
        task.cancel()
        result.failures.append("phase timeout")
    for task in done:
        if task.exception() is not None:
            result.failures.append(str(task.exception()).splitlines()[0][:300])
    await asyncio.gather(*pending, return_exceptions=True)
