"""Load benchmark: many users through the interview at once, next to a bare echo bot.

    .venv/bin/python -m bench.interview_load [--users 200 --questions 20 --db sqlite|postgresql]

One fake Telegram Bot API server (tests/fake_bot_api, on 127.0.0.1) runs in this process
together with the simulated users. The bot under test runs in a child process exactly as
in production (``python -m bot.cli`` with BOT_TOKEN, BOT_API_SERVER and DATABASE_URL: the
aiogram transport, the real router, a fresh database), long-polling the fake server.

Phase 1, patentbot: every user sends /apply and waits for the first question; when all
are there, all of them answer their first ``--questions`` questions at once, each answer
as a person gives it (typed text, or a button press; a cluster is two presses, group then
cluster). For each update a user sends, the latency runs from sending it to receiving the
bot's reply that carries the next prompt: the new message with the next question (not the
edit of the pressed message); for a cluster *group* press, whose only reply is the edit
that shows the clusters, that edit.

Phase 2, baseline, same server, same run: ``bench/echo_bot.py`` (aiogram, one handler,
one sendMessage per message) in a child process; the same number of users each send
``--questions`` messages one after another and wait for each echo.

Reported per phase: replies/s (replies awaited ÷ wall time of the timed part), latency
p50/p90/p99/max, the bot process's peak RSS (VmHWM) and CPU seconds (all threads, and the
main thread alone), Bot API calls by method, and this process's CPU (to show whether the
load generator + fake server, which share a core, were the bottleneck).

Every wait is bounded: a reply within --reply-timeout, a phase within --phase-timeout, a
child process start within --start-timeout and its exit within a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import secrets
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fake_bot_api import BotMessage, FakeBotAPI, FakeUser
from tests.telegram import free_port

TOKEN = "123456:BENCH-TOKEN"
BENCH_DIR = Path(__file__).resolve().parent
ECHO_BOTS = {"aiogram": BENCH_DIR / "echo_bot.py", "ptb": BENCH_DIR / "echo_bot_ptb.py"}
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
LANGUAGE = "zh-hans"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Load users get ids from here on; the warm-up probe uses smaller ones.
FIRST_USER_ID = 10_000
ECHO_FIRST_USER_ID = 500_000


# ------------------------------------------------------------------- fake server


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


# ---------------------------------------------------------------------- processes


def read_status(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process ever had (kB in /proc)."""
    return int(read_status(pid)["VmHWM"].split()[0]) / 1024


def cpu_seconds(stat_path: str) -> float:
    with open(stat_path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


@dataclass
class CpuSample:
    total: float  # all threads of the process
    threads: dict[str, float]  # "tid name" -> seconds

    @staticmethod
    def of(pid: int) -> CpuSample:
        threads = {}
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                name = Path(f"/proc/{pid}/task/{task}/comm").read_text().strip()
                threads[f"{task} {name}"] = cpu_seconds(f"/proc/{pid}/task/{task}/stat")
        return CpuSample(cpu_seconds(f"/proc/{pid}/stat"), threads)


@dataclass
class BotProcess:
    name: str
    process: asyncio.subprocess.Process
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:])

    def count_in_log(self, needle: str) -> int:
        try:
            with open(self.log_path, errors="replace") as f:
                return sum(needle in line for line in f)
        except OSError:
            return 0

    async def stop(self, timeout: float = 10.0) -> int | None:
        """SIGINT (aiogram stops polling and the process exits), then SIGKILL."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await asyncio.wait_for(self.process.wait(), 5)
        return self.process.returncode


async def spawn(name: str, argv: list[str], env: dict[str, str], workdir: Path) -> BotProcess:
    log_path = workdir / f"{name}.log"
    with open(log_path, "wb") as log:
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=workdir,  # no .env of the checkout is read; files land in the temp dir
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    return BotProcess(name, process, log_path)


def child_env(server: FakeBotAPI, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    env.update(
        BOT_TOKEN=TOKEN,
        BOT_API_SERVER=server.base_url,
        WEB_LISTEN="off",  # Telegram only: no web chat taking port 8080
        PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(BENCH_DIR.parent), env.get("PYTHONPATH")])),
        **extra,
    )
    return env


async def wait_ready(
    bot: BotProcess,
    probe: FakeUser,
    text: str,
    accept: Callable[[BotMessage], bool],
    timeout: float,
) -> float:
    """Send a probe message until the bot answers it: it is polling. Returns seconds waited."""
    started = time.perf_counter()
    await probe.send(text)
    deadline = started + timeout
    while (remaining := deadline - time.perf_counter()) > 0:
        if bot.process.returncode is not None:
            raise RuntimeError(
                f"{bot.name} exited with {bot.process.returncode} before polling:\n"
                + bot.log_tail()
            )
        with contextlib.suppress(AssertionError):
            message = await probe.next_message(timeout=min(0.5, remaining))
            if accept(message):
                return time.perf_counter() - started
    raise RuntimeError(f"{bot.name} did not answer within {timeout:.0f}s:\n{bot.log_tail()}")


# ------------------------------------------------------------------------- phases


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
        data = sorted(self.latencies if values is None else values)
        if not data:
            return float("nan")
        return data[min(len(data) - 1, max(0, math.ceil(q / 100 * len(data)) - 1))]  # nearest rank


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


class Interview:
    """What a simulated applicant knows: the questions' texts and the answers to give."""

    def __init__(self) -> None:
        from forms.definition import programme
        from locales import guess_locale
        from tests.chat import question_texts
        from tests.conftest import ELIGIBLE_ZH

        self.form = programme("nansha-2024")
        self.answers = dict(ELIGIBLE_ZH)
        self.texts = question_texts(self.form, guess_locale(LANGUAGE))

    def question_in(self, message: BotMessage) -> str | None:
        """Which question a message asks (the last one its text mentions)."""
        from tests.chat import question_in

        return question_in(self.texts, message.text or "")


async def interview_user(
    interview: Interview,
    user: FakeUser,
    questions: int,
    go: asyncio.Event,
    ready: Callable[[], None],
    result: PhaseResult,
    timeout: float,
) -> None:
    def new_question(m: BotMessage) -> bool:
        return not m.edited and interview.question_in(m) is not None

    def edited_question(m: BotMessage) -> bool:
        return m.edited and interview.question_in(m) is not None

    try:
        await user.send("/apply")
        message = await next_output(user, new_question, timeout)
    finally:
        ready()
    await go.wait()
    qid = interview.question_in(message)
    for _ in range(questions):
        assert qid is not None
        question = interview.form.question(qid)
        answer = interview.answers[qid]
        if question.groups and "/" in answer:
            group, option = answer.split("/", 1)
            started = time.perf_counter()
            await user.press(group)
            message = await next_output(user, lambda m: True, timeout)
            elapsed = time.perf_counter() - started
            if not edited_question(message):
                raise AssertionError(f"group press answered with: {message.text!r}")
            result.record("group press (edit)", elapsed)
            started = time.perf_counter()
            await user.press(option)
            kind = "button press"
        elif any(answer == text for row in message.buttons for text in row):
            started = time.perf_counter()
            await user.press(answer)
            kind = "button press"
        else:
            started = time.perf_counter()
            await user.send(answer)
            kind = "typed answer"
        message = await next_output(user, lambda m: not m.edited, timeout)
        elapsed = time.perf_counter() - started
        following = interview.question_in(message)
        if following is None:  # e.g. "something went wrong": a person would type again
            raise AssertionError(f"reply without a question: {message.text!r}")
        result.record(kind, elapsed)
        result.questions += 1
        if following == qid:
            raise AssertionError(f"user {user.id}: {qid} asked again: {message.text!r}")
        qid = following


def echo_of(text: str) -> Callable[[BotMessage], bool]:
    return lambda m: not m.edited and m.text == text


async def echo_user(
    user: FakeUser,
    messages: int,
    go: asyncio.Event,
    ready: Callable[[], None],
    result: PhaseResult,
    timeout: float,
) -> None:
    ready()
    await go.wait()
    for i in range(messages):
        text = f"echo {user.id} #{i}"
        started = time.perf_counter()
        await user.send(text)
        await next_output(user, echo_of(text), timeout)
        result.record("echo", time.perf_counter() - started)
        result.questions += 1


async def run_phase(
    server: CountingBotAPI,
    bot: BotProcess,
    result: PhaseResult,
    users: list[FakeUser],
    make_user_task: Callable[
        [FakeUser, asyncio.Event, Callable[[], None]], Coroutine[Any, Any, None]
    ],
    phase_timeout: float,
    profile: Path | None = None,
) -> None:
    """Start every user, release them together once all are ready, time until all are done."""
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
    cpu_before = CpuSample.of(bot.pid)
    own_before = time.process_time()
    machine_before = machine_busy()
    log_before = bot.count_in_log("")

    if profile:
        os.kill(bot.pid, signal.SIGUSR1)  # bench/variants.py: start cProfile
    started = time.perf_counter()
    go.set()
    done, pending = await asyncio.wait(tasks, timeout=phase_timeout)
    result.wall = time.perf_counter() - started
    if profile:
        os.kill(bot.pid, signal.SIGUSR2)  # stop and write the profile
        for _ in range(100):  # up to 10 s
            if profile.exists() and profile.stat().st_mtime >= time.time() - 60:
                break
            await asyncio.sleep(0.1)

    result.own_cpu = time.process_time() - own_before
    busy, total = machine_busy()
    result.machine_busy = (busy - machine_before[0]) / max(total - machine_before[1], 1)
    cpu_after = CpuSample.of(bot.pid)
    result.bot_cpu = cpu_after.total - cpu_before.total
    main = next(k for k in cpu_after.threads if k.split()[0] == str(bot.pid))
    result.bot_main_thread_cpu = cpu_after.threads[main] - cpu_before.threads.get(main, 0.0)
    result.bot_threads = len(cpu_after.threads)
    result.peak_rss_mb = peak_rss_mb(bot.pid)
    result.api_calls = server.method_counts - calls_before
    result.updates = server.updates_delivered - updates_before
    result.log_lines = bot.count_in_log("") - log_before
    for task in pending:
        task.cancel()
        result.failures.append("phase timeout")
    for task in done:
        if task.exception() is not None:
            result.failures.append(str(task.exception()).splitlines()[0][:300])
    await asyncio.gather(*pending, return_exceptions=True)


# ----------------------------------------------------------------------- database


async def create_pg_database(base_url: str) -> tuple[str, Callable[[], Awaitable[None]]]:
    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    url = make_url(base_url)
    name = f"patentbot_bench_{secrets.token_hex(4)}"
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncio.wait_for(asyncpg.connect(dsn), 10)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()

    async def drop() -> None:
        connection = await asyncio.wait_for(asyncpg.connect(dsn), 10)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    return url.set(database=name).render_as_string(hide_password=False), drop


# -------------------------------------------------------------------------- report


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def timings_line(r: PhaseResult) -> str:
    t = r.timings
    per = max(t.get("router.handle", {}).get("n", 0), 1)
    parts = []
    if "router.handle" in t:
        h = t["router.handle"]
        parts.append(
            f"Router.handle {h['wall_s'] / per * 1000:.2f} ms wall, "
            f"{h['cpu_s'] / per * 1000:.2f} ms main-thread CPU per update (n={h['n']})"
        )
    for name in ("sql.statements", "sql.commits"):
        if name in t:
            parts.append(f"{name} {t[name]['n'] / per:.1f}/update")
    if "check_response" in t:
        c = t["check_response"]
        parts.append(
            f"check_response {c['cpu_s'] / max(c['n'], 1) * 1000:.2f} ms CPU per response "
            f"(n={c['n']}, total {c['cpu_s']:.2f}s)"
        )
    if "pydantic.create_generic_submodel" in t:
        g = t["pydantic.create_generic_submodel"]
        parts.append(
            f"pydantic generic classes built {g['n']} ({g['n'] / per:.2f}/update), "
            f"{g['cpu_s'] / max(g['n'], 1) * 1000:.2f} ms CPU each, total {g['cpu_s']:.2f}s"
        )
    api = sorted((k, v) for k, v in t.items() if k.startswith("api."))
    parts += [
        f"{k[4:]} {v['wall_s'] / max(v['n'], 1) * 1000:.2f} ms wall (n={v['n']})" for k, v in api
    ]
    return "timings: " + "; ".join(parts)


def report(results: list[PhaseResult], args: argparse.Namespace, meta: dict[str, str]) -> str:
    ours, echo = results[0], results[1] if len(results) > 1 else None
    lines = [
        f"code {meta['code']} · date {meta['date']} · {meta['machine']} · "
        f"Python {meta['python']} · "
        f"aiogram {meta['aiogram']} · aiohttp {meta['aiohttp']} · pydantic {meta['pydantic']} · "
        f"SQLAlchemy {meta['sqlalchemy']} · db {args.db} · "
        f"{args.users} users × {args.questions} questions"
        + (f" · variant {args.variant}" if args.variant else ""),
        "",
        "| | replies | wall s | replies/s | p50 ms | p90 ms | p99 ms | max ms "
        "| peak RSS MB | bot CPU s (main thread) | CPU ms/reply | gen CPU % | machine CPU % "
        "| failures |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        per_reply = r.bot_cpu / r.replies * 1000 if r.replies else float("nan")
        lines.append(
            f"| {r.name} | {r.replies} | {r.wall:.2f} | {r.replies_per_s:.1f} "
            f"| {fmt_ms(r.pct(50))} | {fmt_ms(r.pct(90))} | {fmt_ms(r.pct(99))} "
            f"| {fmt_ms(max(r.latencies, default=float('nan')))} | {r.peak_rss_mb:.0f} "
            f"| {r.bot_cpu:.2f} ({r.bot_main_thread_cpu:.2f}) | {per_reply:.2f} "
            f"| {r.own_cpu / r.wall * 100 if r.wall else 0:.0f} | {r.machine_busy * 100:.0f} "
            f"| {len(r.failures)} |"
        )
    lines.append("")
    for r in results:
        kinds = ", ".join(
            f"{kind} n={len(v)} p50 {fmt_ms(r.pct(50, v))} p99 {fmt_ms(r.pct(99, v))} ms"
            for kind, v in sorted(r.by_kind.items())
        )
        calls = ", ".join(f"{m} {n}" for m, n in r.api_calls.most_common())
        per = sum(n for m, n in r.api_calls.items() if m != "getUpdates") / max(r.replies, 1)
        batch = r.updates / max(r.api_calls.get("getUpdates", 0), 1)
        lines.append(f"- {r.name}: {kinds}")
        lines.append(
            f"  - Bot API calls: {calls} ({per:.2f} non-polling calls per reply; "
            f"{batch:.1f} updates per getUpdates); {r.bot_threads} threads; "
            f"{r.log_lines} log lines"
        )
        if r.timings:
            lines.append("  - " + timings_line(r))
        if r.failures:
            common = Counter(r.failures).most_common(3)
            lines.append(f"  - failures: {common}")
    if echo is not None and echo.replies and ours.replies:
        throughput = ours.replies_per_s / echo.replies_per_s
        tail = ours.pct(99) / echo.pct(99)
        ok = not ours.failures and not echo.failures
        lines += [
            "",
            f"- target replies/s ≥ 0.7× echo: {throughput:.2f}× → "
            f"{'MET' if throughput >= 0.7 and ok else 'NOT MET'}",
            f"- target p99 ≤ 1.5× echo: {tail:.2f}× → {'MET' if tail <= 1.5 and ok else 'NOT MET'}",
        ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- main


def code_version() -> str:
    """The commit measured (``-dirty`` with uncommitted changes), or where the code is."""
    import subprocess

    try:
        described = subprocess.run(
            ["git", "-C", str(BENCH_DIR.parent), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return described.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return str(BENCH_DIR.parent)


async def run(args: argparse.Namespace) -> int:
    import aiogram
    import aiohttp
    import pydantic
    import sqlalchemy

    meta = {
        "code": code_version(),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": f"{os.cpu_count()} cores {platform.machine()}",
        "python": platform.python_version(),
        "aiogram": aiogram.__version__,
        "aiohttp": aiohttp.__version__,
        "pydantic": pydantic.VERSION,
        "sqlalchemy": sqlalchemy.__version__,
    }
    interview = Interview()
    available = len(interview.answers)  # the eligible path asks fewer than the form holds
    if args.questions > available:
        raise SystemExit(f"--questions: the simulated applicant answers {available} questions")

    results: list[PhaseResult] = []
    server = CountingBotAPI(token=TOKEN, bot_username="patentbot_bench_bot", record_calls=False)
    await server.start()
    print(f"fake Bot API on {server.base_url}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="patentbot-bench-") as tmp:
        workdir = Path(tmp)
        timings_path = workdir / "timings.json"
        drop_db: Callable[[], Awaitable[None]] | None = None
        bots: list[BotProcess] = []
        try:
            # ---- patentbot
            if args.db == "postgresql":
                database_url, drop_db = await create_pg_database(args.pg_url)
            else:
                database_url = f"sqlite:///{workdir / 'bench.db'}"
            variant = ",".join(filter(None, [args.variant, "profile" if args.profile else ""]))
            argv = [sys.executable, "-m", "bench.variants" if variant else "bot.cli"]
            env = child_env(
                server,
                DATABASE_URL=database_url,
                BOT_FRAMEWORK=args.framework,
                BENCH_VARIANTS=variant,
                BENCH_TIMINGS=str(timings_path),
                BENCH_PROFILE=str(Path(args.profile or workdir, "patentbot.prof").resolve()),
            )
            if args.webhook:  # the fake server posts updates; the bot listens on loopback
                port = free_port()
                env["WEBHOOK_URL"] = f"http://127.0.0.1:{port}/telegram"
                env["WEBHOOK_LISTEN"] = f"127.0.0.1:{port}"
            bot = await spawn("patentbot", argv, env, workdir)
            bots.append(bot)
            probe = server.user(1, first_name="Probe", language_code=LANGUAGE)
            name = "patentbot (webhook)" if args.webhook else "patentbot"
            result = PhaseResult(name, args.users, args.questions)
            result.ready_wait = await wait_ready(
                bot, probe, "/start", lambda m: not m.edited, args.start_timeout
            )
            print(f"patentbot polling after {result.ready_wait:.1f}s", file=sys.stderr)
            users = [
                server.user(FIRST_USER_ID + i, first_name=f"U{i}", language_code=LANGUAGE)
                for i in range(args.users)
            ]
            await run_phase(
                server,
                bot,
                result,
                users,
                lambda u, go, ready: interview_user(
                    interview, u, args.questions, go, ready, result, args.reply_timeout
                ),
                args.phase_timeout,
                profile=Path(args.profile, "patentbot.prof") if args.profile else None,
            )
            results.append(result)
            await bot.stop()
            if args.webhook:  # it stays set when the bot stops; the echo bot polls
                async with aiohttp.ClientSession() as http:
                    await http.post(f"{server.base_url}/bot{TOKEN}/deleteWebhook")
            if timings_path.exists():
                result.timings = json.loads(timings_path.read_text())
            if drop_db is not None:
                await drop_db()
                drop_db = None
            print(f"patentbot: {result.replies} replies in {result.wall:.1f}s", file=sys.stderr)

            # ---- echo baseline
            argv = [sys.executable, str(ECHO_BOTS[args.framework])]
            echo_env = child_env(
                server,
                BENCH_VARIANTS=variant,
                BENCH_PROFILE=str(Path(args.profile or workdir, "echo.prof").resolve()),
            )
            echo = await spawn("echo", argv, echo_env, workdir)
            bots.append(echo)
            probe = server.user(2, first_name="Probe", language_code=LANGUAGE)
            baseline = PhaseResult(f"{args.framework} echo", args.users, args.questions)
            baseline.ready_wait = await wait_ready(
                echo, probe, "ping", lambda m: m.text == "ping", args.start_timeout
            )
            users = [
                server.user(ECHO_FIRST_USER_ID + i, first_name=f"E{i}", language_code=LANGUAGE)
                for i in range(args.users)
            ]
            await run_phase(
                server,
                echo,
                baseline,
                users,
                lambda u, go, ready: echo_user(
                    u, args.questions, go, ready, baseline, args.reply_timeout
                ),
                args.phase_timeout,
                profile=Path(args.profile, "echo.prof") if args.profile else None,
            )
            results.append(baseline)
            await echo.stop()
        finally:
            for bot in bots:
                await bot.stop()
            if drop_db is not None:
                await drop_db()
            await server.stop()
        if args.keep_logs:
            for bot in bots:
                target = Path(args.keep_logs) / bot.log_path.name
                target.write_bytes(bot.log_path.read_bytes())

    text = report(results, args, meta)
    print(text)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "meta": meta,
                    "args": vars(args),
                    "phases": [
                        {
                            "name": r.name,
                            "replies": r.replies,
                            "questions": r.questions,
                            "wall_s": r.wall,
                            "replies_per_s": r.replies_per_s,
                            "p50_ms": r.pct(50) * 1000,
                            "p90_ms": r.pct(90) * 1000,
                            "p99_ms": r.pct(99) * 1000,
                            "max_ms": max(r.latencies, default=0) * 1000,
                            "peak_rss_mb": r.peak_rss_mb,
                            "bot_cpu_s": r.bot_cpu,
                            "bot_main_thread_cpu_s": r.bot_main_thread_cpu,
                            "generator_cpu_s": r.own_cpu,
                            "machine_busy": r.machine_busy,
                            "latency_by_kind_ms": {
                                k: {
                                    "n": len(v),
                                    "p50": r.pct(50, v) * 1000,
                                    "p99": r.pct(99, v) * 1000,
                                }
                                for k, v in r.by_kind.items()
                            },
                            "timings": r.timings,
                            "api_calls": dict(r.api_calls),
                            "failures": len(r.failures),
                        }
                        for r in results
                    ],
                },
                indent=2,
            )
        )
    return 1 if any(r.failures for r in results) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.interview_load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument(
        "--questions",
        type=int,
        default=20,
        help="questions each user answers (echo: messages each user sends)",
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--webhook",
        action="store_true",
        help="patentbot takes updates by webhook (WEBHOOK_URL) instead of long polling; "
        "the echo baseline still polls",
    )
    parser.add_argument(
        "--framework",
        choices=tuple(ECHO_BOTS),
        default="aiogram",
        help="patentbot's BOT_FRAMEWORK, and the echo bot of the same library",
    )
    parser.add_argument(
        "--pg-url",
        default=DEFAULT_PG,
        help="a PostgreSQL server to create (and drop) a fresh database on",
    )
    parser.add_argument("--reply-timeout", type=float, default=30.0)
    parser.add_argument("--phase-timeout", type=float, default=120.0)
    parser.add_argument("--start-timeout", type=float, default=30.0)
    parser.add_argument(
        "--variant",
        default="",
        help="bench-only what-ifs, comma-separated: pin-generics, quiet-log, "
        "timings (see bench/variants.py); default: the bot as it is",
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="cProfile each bot's main thread during the timed part only, writing "
        "DIR/patentbot.prof and DIR/echo.prof (read them with python -m bench.profile_summary)",
    )
    parser.add_argument("--keep-logs", metavar="DIR", help="copy the bots' logs to DIR")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if args.users < 1 or args.questions < 1:
        parser.error("--users and --questions must be positive")
    for directory in (args.profile, args.keep_logs):
        if directory:
            Path(directory).mkdir(parents=True, exist_ok=True)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
