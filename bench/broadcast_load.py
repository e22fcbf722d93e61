"""Broadcast benchmark: one broadcast to many recipients against a fake Bot API server that
enforces Telegram's flood limits with 429s.

    .venv/bin/python -m bench.broadcast_load                      # both scenarios, 1,000 recipients
    .venv/bin/python -m bench.broadcast_load --scenario ceiling --framework ptb --db postgresql

Scenarios (each on a fresh database, the bot in its own process as in production):

- ``telegram``: the server allows 30 messages/s overall and 1 per chat per second, and
  answers 429 with ``retry_after`` beyond that; the bot runs at its default rate (25/s).
  Expected: an achieved rate of 0.95–1.0 × 25/s and not one 429.
- ``ceiling``: the server allows 1,000/s and the bot is set to 1,000/s, to show how fast
  the sender itself can go (target: ≥ 500 messages/s).
- ``at-limit`` (only when asked for): the bot set to the server's 30/s, to see the 429s
  it then provokes handled (everyone still exactly once).

The job is queued in the database before the bot starts (as ``patentbot broadcast send``
does), with the status message in an admin's chat, so progress edits are part of the load;
the bot resumes it once polling. The achieved rate is (recipients − 1) ÷ (last − first
successful send to a recipient), measured at the server. Every wait is bounded (a start
within --start-timeout, a broadcast within twice its nominal time plus a minute); all
traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.harness import (
    DEFAULT_PG,
    TOKEN,
    CpuSample,
    child_env,
    fresh_database,
    peak_rss_mb,
    run_meta,
    spawn,
)
from testkit.fake_bot_api import FakeBotAPI

ADMIN = 999
FIRST_RECIPIENT = 100_000
SCENARIOS = {
    # name: (server's global limit per second, the bot's BROADCAST_RATE or None: default)
    "telegram": (30.0, None),
    "ceiling": (1000.0, 1000.0),
    # Not run by default: the bot set to the server's very limit, to see 429s handled.
    "at-limit": (30.0, 30.0),
}
DEFAULT_SCENARIOS = ("telegram", "ceiling")
DEFAULT_RATE = 25.0


class TimingBotAPI(FakeBotAPI):
    """The fake server, noting when each send/edit was answered and how."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log: list[tuple[float, str, int, Any]] = []  # (time, method, status, chat_id)

    async def _dispatch(self, name: str, raw: Any, *args: Any, **kwargs: Any) -> tuple[int, Any]:
        status, body = await super()._dispatch(name, raw, *args, **kwargs)
        if name.startswith(("send", "edit")):
            chat = raw.get("chat_id") if isinstance(raw, dict) else None
            with contextlib.suppress(TypeError, ValueError):
                chat = int(str(chat))  # a form field arrives as text
            self.log.append((time.monotonic(), name, status, chat))
        return status, body


@dataclass
class Result:
    scenario: str
    framework: str
    db: str
    recipients: int
    server_limit: float
    bot_rate: float
    delivered_once: int
    duplicates: int
    missing: int
    seconds: float
    achieved: float
    ratio: float
    max_in_1s: int
    rate_limited: int
    status_edits: int
    bot_cpu_s: float
    peak_rss_mb: float


def max_in_window(times: list[float], span: float = 1.0) -> int:
    window: deque[float] = deque()
    best = 0
    for at in times:
        window.append(at)
        while window[0] <= at - span:
            window.popleft()
        best = max(best, len(window))
    return best


async def prepare(url: str, recipients: int) -> None:
    """The schema, the users, and the queued job (status message in the admin's chat)."""
    from models import audiences, broadcast_jobs
    from models.db import connect
    from models.tables import Broadcast, Channel, User

    engine, sessions = await connect(url)
    try:
        async with sessions() as session:
            session.add(User(id=ADMIN, chat_id=ADMIN, locale="zh_CN"))
            session.add_all(
                User(id=i, chat_id=i, locale="zh_CN")
                for i in range(FIRST_RECIPIENT, FIRST_RECIPIENT + recipients)
            )
            await session.commit()
        async with sessions() as session:
            job = Broadcast(
                audience="all",
                text="<b>通知</b>：2024 年度申报截止日期为 <b>3 月 1 日</b>，请提前准备材料。",
                locale="zh_CN",
                status_chat_id=ADMIN,
                created_by=ADMIN,
            )
            # Everyone but the admin, whose chat carries the status message.
            job = await broadcast_jobs.create_broadcast(
                session, job, audiences.Audience("all"), "nansha-2024", {Channel.TELEGRAM}
            )
            await session.commit()
    finally:
        await engine.dispose()


async def run_scenario(args: argparse.Namespace, scenario: str, workdir: Path, url: str) -> Result:
    server_limit, bot_rate = SCENARIOS[scenario]
    rate = bot_rate or DEFAULT_RATE
    await prepare(url, args.recipients)
    server = TimingBotAPI(
        token=TOKEN,
        record_calls=False,
        rate_limit_per_second=server_limit,
        per_chat_limit_per_second=1,
    )
    await server.start()
    try:
        admin = server.user(ADMIN)
        ids = range(FIRST_RECIPIENT, FIRST_RECIPIENT + args.recipients)
        users = [server.user(i) for i in ids]
        extra = {"DATABASE_URL": url, "BOT_FRAMEWORK": args.framework, "ADMIN_IDS": str(ADMIN)}
        if bot_rate is not None:
            extra["BROADCAST_RATE"] = str(bot_rate)
        argv = [sys.executable, "-m", "bot.cli"]
        bot = await spawn(f"bot-{scenario}", argv, child_env(server, **extra), workdir)
        try:
            deadline = time.monotonic() + args.start_timeout + 2 * args.recipients / rate + 60
            cpu_start: CpuSample | None = None
            while True:
                sent = [e for e in server.log if e[1] == "sendMessage" and e[2] == 200]
                to_recipients = [e for e in sent if e[3] != ADMIN]
                if to_recipients and cpu_start is None:
                    cpu_start = CpuSample.of(bot.pid)
                if len(to_recipients) >= args.recipients:
                    break
                if bot.process.returncode is not None:
                    raise RuntimeError(f"the bot exited:\n{bot.log_tail()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{len(to_recipients)}/{args.recipients} sent in time:\n{bot.log_tail()}"
                    )
                await asyncio.sleep(0.05)
            cpu_end = CpuSample.of(bot.pid)
            final_by = time.monotonic() + 15
            while not any("✅" in (m.text or "") for m in admin.transcript if m.edited):
                if time.monotonic() > final_by:
                    break
                await asyncio.sleep(0.1)
            rss = peak_rss_mb(bot.pid)
        finally:
            await bot.stop()
        times = [at for at, method, status, chat in server.log
                 if method == "sendMessage" and status == 200 and chat != ADMIN]  # fmt: skip
        received = Counter(len([m for m in u.transcript if not m.edited]) for u in users)
        seconds = times[-1] - times[0]
        achieved = (len(times) - 1) / seconds if seconds > 0 else float("inf")
        edits = sum(1 for e in server.log if e[1] == "editMessageText" and e[2] == 200)
        return Result(
            scenario=scenario,
            framework=args.framework,
            db=args.db,
            recipients=args.recipients,
            server_limit=server_limit,
            bot_rate=rate,
            delivered_once=received[1],
            duplicates=sum(n for k, n in received.items() if k > 1),
            missing=received[0],
            seconds=round(seconds, 2),
            achieved=round(achieved, 1),
            ratio=round(achieved / rate, 3),
            max_in_1s=max_in_window(times),
            rate_limited=server.rate_limited_count,
            status_edits=edits,
            bot_cpu_s=round(cpu_end.total - (cpu_start or cpu_end).total, 2),
            peak_rss_mb=round(rss, 1),
        )
    finally:
        await server.stop()


def report(results: list[Result], meta: dict[str, str]) -> str:
    lines = [
        " · ".join(f"{k} {v}" for k, v in meta.items()),
        "",
        "| scenario | framework | db | server limit/s | bot rate/s | achieved/s | × rate "
        "| max in 1 s | 429s | once / twice / never | edits | bot CPU s | RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.scenario} | {r.framework} | {r.db} | {r.server_limit:g} | {r.bot_rate:g} "
            f"| **{r.achieved}** | {r.ratio} | {r.max_in_1s} | {r.rate_limited} "
            f"| {r.delivered_once} / {r.duplicates} / {r.missing} | {r.status_edits} "
            f"| {r.bot_cpu_s} | {r.peak_rss_mb} |"
        )
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> int:
    meta = run_meta()
    scenarios = list(DEFAULT_SCENARIOS) if args.scenario == "both" else [args.scenario]
    results = []
    for scenario in scenarios:
        with tempfile.TemporaryDirectory(prefix="patentbot-bench-") as tmp:
            workdir = Path(tmp)
            async with fresh_database(args.db, workdir, "bench.db", args.pg_url) as url:
                result = await run_scenario(args, scenario, workdir, url)
        results.append(result)
        print(f"{scenario}: {asdict(result)}", file=sys.stderr, flush=True)
    print(report(results, meta))
    if args.json:
        Path(args.json).write_text(
            json.dumps({"meta": meta, "results": [asdict(r) for r in results]}, indent=2)
        )
    ok = all(r.duplicates == 0 and r.missing == 0 for r in results)
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.broadcast_load", description=__doc__)
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--scenario", choices=[*SCENARIOS, "both"], default="both")
    parser.add_argument("--framework", choices=["aiogram", "ptb"], default="aiogram")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--start-timeout", type=float, default=30)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(run(args))
    return 130


if __name__ == "__main__":
    sys.exit(main())
