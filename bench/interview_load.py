"""Load benchmark: many users through the interview at once, next to a bare echo bot.

    .venv/bin/python -m bench.interview_load [--users 200 --questions 20 --db sqlite|postgresql]
    .venv/bin/python -m bench.interview_load --webhook --db postgresql --processes 2

One fake Telegram Bot API server (testkit/fake_bot_api, on 127.0.0.1) runs in this process
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

With ``--webhook``, the fake server posts each update to the bot (WEBHOOK_URL and
WEBHOOK_LISTEN on loopback) instead of being polled. With ``--processes N`` as well (and
``--db postgresql``), patentbot runs as N such processes on the same fresh database, each
listening on its own port, and the one WEBHOOK_URL is a round-robin balancer in this
process (``testkit/balancer.py``) that passes each post to the next of them: a user's
updates go to whichever process is next, as when a deployment is scaled out. Every
process listens before the probe, and the phase's figures cover all of them: CPU seconds
summed, peak RSS the largest process's.

With ``--one-call``, patentbot's users instead type free text outside any questionnaire
(each answered with one message, how to start: one sendMessage, as the echo bot's), after
an untimed /start; no peer runs.

Then, with ``--peer`` (the default), the same interview by ``bench/peer_aiogram.py``
(``bench/peer_ptb.py`` with ``--framework ptb``), the bot written the way the library's
docs teach (conversation state in memory, one ORM session and commit per answer), on a
fresh database of the same kind, and measured the same way: what patentbot's own work per
reply is compared against.

Phase 2, baseline, same server, same run: ``bench/echo_bot.py`` (aiogram, one handler,
one sendMessage per message) in a child process; the same number of users each send
``--questions`` messages one after another and wait for each echo.

Reported per phase: replies/s (replies awaited ÷ wall time of the timed part), latency
p50/p90/p99/max, the bot process's peak RSS (VmHWM) and CPU seconds (all threads, and the
main thread alone; with --processes the sum over the processes and the largest one's
RSS), Bot API calls by method, and this process's CPU (to show whether the load generator
+ fake server, and the balancer if any, which share a core, were the bottleneck).

Every wait is bounded: a reply within --reply-timeout, a phase within --phase-timeout, a
child process start within --start-timeout and its exit within a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

from bench.harness import (
    BENCH_DIR,
    DEFAULT_PG,
    TOKEN,
    BotProcess,
    child_env,
    compile_tree,
    fresh_database,
    run_meta,
    spawn,
    wait_listening,
    wait_ready,
)
from bench.interview_report import phases_json, report
from bench.interview_users import (
    LANGUAGE,
    Interview,
    echo_user,
    free_text_user,
    interview_user,
)
from bench.phase import CountingBotAPI, PhaseResult, UserTask, run_phase
from models.db import to_async_url
from testkit.balancer import balancing
from testkit.telegram import free_port

ECHO_BOTS = {"aiogram": BENCH_DIR / "echo_bot.py", "ptb": BENCH_DIR / "echo_bot_ptb.py"}
PEER_BOTS = {"aiogram": BENCH_DIR / "peer_aiogram.py", "ptb": BENCH_DIR / "peer_ptb.py"}

# Load users get ids from here on; the warm-up probe uses smaller ones.
FIRST_USER_ID = 10_000
PEER_FIRST_USER_ID = 250_000
ECHO_FIRST_USER_ID = 500_000


async def release_users(
    server: CountingBotAPI,
    bots: list[BotProcess],
    result: PhaseResult,
    first: tuple[int, str],
    user_task: UserTask,
    args: argparse.Namespace,
) -> None:
    """``args.users`` new users (ids and names from ``first``) in one timed phase against
    the processes of one bot."""
    first_id, prefix = first
    users = [
        server.user(first_id + i, first_name=f"{prefix}{i}", language_code=LANGUAGE)
        for i in range(args.users)
    ]
    profile = Path(args.profile, f"{bots[0].name}.prof") if args.profile else None
    await run_phase(server, bots, result, users, user_task, args.phase_timeout, profile=profile)


async def release_applicants(
    server: CountingBotAPI,
    bots: list[BotProcess],
    result: PhaseResult,
    first: tuple[int, str],
    interview: Interview,
    args: argparse.Namespace,
) -> None:
    """``release_users`` for users who each answer ``args.questions`` of the interview."""
    await release_users(
        server,
        bots,
        result,
        first,
        lambda u, go, ready: interview_user(
            interview, u, args.questions, go, ready, result, args.reply_timeout
        ),
        args,
    )


async def patentbot_phase(
    args: argparse.Namespace,
    server: CountingBotAPI,
    interview: Interview,
    workdir: Path,
    variant: str,
    bots: list[BotProcess],
) -> PhaseResult:
    """patentbot in ``args.processes`` processes on one fresh database; several take their
    updates by webhook through a round-robin balancer, as a deployment scaled out does."""
    several = args.processes > 1
    names = [f"patentbot-{i}" for i in range(1, args.processes + 1)] if several else ["patentbot"]
    timings = [workdir / f"{name}.timings.json" for name in names]
    argv = [sys.executable, "-m", "bench.variants" if variant else "bot.cli"]
    phase = "patentbot (webhook)" if args.webhook else "patentbot"
    if several:
        phase = f"patentbot (webhook ×{args.processes})"
    result = PhaseResult(phase, args.users, args.questions)
    result.processes = args.processes
    own: list[BotProcess] = []
    async with contextlib.AsyncExitStack() as stack:
        fresh = fresh_database(args.db, workdir, "bench.db", args.pg_url)
        env = child_env(
            server,
            DATABASE_URL=await stack.enter_async_context(fresh),
            BOT_FRAMEWORK=args.framework,
            BENCH_VARIANTS=variant,
            BENCH_PROFILE=str(Path(args.profile or workdir, "patentbot.prof").resolve()),
        )
        # Unwound before the database: the bots stop before it goes.
        stack.push_async_callback(lambda: asyncio.gather(*(bot.stop() for bot in own)))
        ports = [free_port() for _ in names]
        answered: Counter[int] = Counter()
        if several:
            base, answered = await stack.enter_async_context(balancing(ports))
            public_url = f"{base}/telegram"
        else:  # the fake server posts straight to the one process
            public_url = f"http://127.0.0.1:{ports[0]}/telegram"
        for name, port, timings_path in zip(names, ports, timings, strict=True):
            env_of = {**env, "BENCH_TIMINGS": str(timings_path)}
            if args.webhook:  # the fake server posts updates; the bot listens on loopback
                env_of |= {"WEBHOOK_URL": public_url, "WEBHOOK_LISTEN": f"127.0.0.1:{port}"}
            own.append(await spawn(name, argv, env_of, workdir))
        bots += own
        started = time.perf_counter()
        if several:
            # The probe's answer comes from one of them; each must take its turn.
            for bot, port in zip(own, ports, strict=True):
                await wait_listening(bot, port, args.start_timeout)
        probe = server.user(1, first_name="Probe", language_code=LANGUAGE)
        await wait_ready(own[0], probe, "/start", lambda m: not m.edited, args.start_timeout)
        result.ready_wait = time.perf_counter() - started
        print(f"patentbot answering after {result.ready_wait:.1f}s", file=sys.stderr)
        answered_before = Counter(answered)
        if args.one_call:
            await release_users(
                server,
                own,
                result,
                (FIRST_USER_ID, "U"),
                lambda u, go, ready: free_text_user(
                    u, args.questions, go, ready, result, args.reply_timeout
                ),
                args,
            )
        else:
            await release_applicants(server, own, result, (FIRST_USER_ID, "U"), interview, args)
        if several:
            result.posts_answered = [answered[p] - answered_before[p] for p in ports]
        await asyncio.gather(*(bot.stop() for bot in own))
        if args.webhook:  # it stays set when the bot stops; the echo bot polls
            async with aiohttp.ClientSession() as http:
                await http.post(f"{server.base_url}/bot{TOKEN}/deleteWebhook")
    result.timings = summed_timings(timings)
    print(f"patentbot: {result.replies} replies in {result.wall:.1f}s", file=sys.stderr)
    return result


def summed_timings(paths: list[Path]) -> dict[str, dict[str, float]]:
    """bench/variants.py's timings of each process (those that wrote any), added up."""
    total: dict[str, dict[str, float]] = {}
    for path in paths:
        if path.exists():
            for name, tally in json.loads(path.read_text()).items():
                into = total.setdefault(name, {})
                for key, value in tally.items():
                    into[key] = into.get(key, 0) + value  # n stays a whole number
    return total


async def peer_phase(
    args: argparse.Namespace,
    server: CountingBotAPI,
    interview: Interview,
    workdir: Path,
    variant: str,
    bots: list[BotProcess],
) -> PhaseResult:
    """The same interview by the peer of the framework (bench/peer_aiogram.py or
    bench/peer_ptb.py: written the way the library's docs teach), on a fresh database of
    the same kind as patentbot's."""
    async with fresh_database(args.db, workdir, "peer.db", args.pg_url) as url:
        env = child_env(
            server,
            DATABASE_URL=to_async_url(url),  # the peer's SQLAlchemy takes the driver's name
            BENCH_VARIANTS=variant,
            BENCH_PROFILE=str(Path(args.profile or workdir, "peer.prof").resolve()),
        )
        argv = [sys.executable, str(PEER_BOTS[args.framework])]
        peer = await spawn("peer", argv, env, workdir)
        bots.append(peer)
        probe = server.user(3, first_name="Probe", language_code=LANGUAGE)
        result = PhaseResult(f"{args.framework} peer", args.users, args.questions)
        result.ready_wait = await wait_ready(
            peer,
            probe,
            "/apply",
            lambda m: not m.edited and interview.question_in(m) is not None,
            args.start_timeout,
        )
        await release_applicants(server, [peer], result, (PEER_FIRST_USER_ID, "P"), interview, args)
        await peer.stop()
    print(f"peer: {result.replies} replies in {result.wall:.1f}s", file=sys.stderr)
    return result


async def run(args: argparse.Namespace) -> int:
    import aiogram
    import pydantic
    import sqlalchemy

    meta = {
        **run_meta(),
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
        variant = ",".join(filter(None, [args.variant, "profile" if args.profile else ""]))
        bots: list[BotProcess] = []
        try:
            # ---- patentbot
            results.append(await patentbot_phase(args, server, interview, workdir, variant, bots))

            # ---- the peer written the usual way, on the same framework
            if args.peer and not args.one_call:
                results.append(await peer_phase(args, server, interview, workdir, variant, bots))

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
            await release_users(
                server,
                [echo],
                baseline,
                (ECHO_FIRST_USER_ID, "E"),
                lambda u, go, ready: echo_user(
                    u, args.questions, go, ready, baseline, args.reply_timeout
                ),
                args,
            )
            results.append(baseline)
            await echo.stop()
        finally:
            for bot in bots:
                await bot.stop()
            await server.stop()
        if args.keep_logs:
            for bot in bots:
                target = Path(args.keep_logs) / bot.log_path.name
                target.write_bytes(bot.log_path.read_bytes())

    text = report(results, args, meta)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(phases_json(results, args, meta), indent=2))
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
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="patentbot in N processes on one database behind a round-robin load balancer "
        "(needs --webhook and --db postgresql); the peer and the echo bot stay one process",
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
    parser.add_argument(
        "--peer",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="between patentbot and the echo bot, run the same interview by the bot "
        "written the way the framework's docs teach (bench/peer_aiogram.py, bench/peer_ptb.py)",
    )
    parser.add_argument(
        "--one-call",
        action="store_true",
        help="patentbot's users type free text outside any questionnaire (one sendMessage "
        "a reply, as the echo bot), after an untimed /start; no peer",
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
        "DIR/patentbot.prof, DIR/peer.prof and DIR/echo.prof (read them with "
        "python -m bench.profile_summary)",
    )
    parser.add_argument("--keep-logs", metavar="DIR", help="copy the bots' logs to DIR")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if args.users < 1 or args.questions < 1:
        parser.error("--users and --questions must be positive")
    if args.processes < 1:
        parser.error("--processes must be positive")
    if args.processes > 1 and not (args.webhook and args.db == "postgresql"):
        # Polling processes would take each other's updates (409 Conflict), and SQLite
        # is one file that one process writes at a time.
        parser.error("--processes above 1 needs --webhook and --db postgresql")
    if args.processes > 1 and args.profile:
        parser.error("--profile takes one process: leave --processes at 1")
    for directory in (args.profile, args.keep_logs):
        if directory:
            Path(directory).mkdir(parents=True, exist_ok=True)
    compile_tree()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
