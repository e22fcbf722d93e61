"""The bot's own work per update, without HTTP: SQL statements and CPU of Router.handle.

    .venv/bin/python -m bench.hot_path [--users 50] [--db sqlite|postgresql] [--profile out.pstats]

Users go through the interview one after another, in this process, through
``bot/telegram_messages.answer`` as the Telegram transports call it (each event with an
update id; each reply struck off once "sent"). No Bot API, no framework, no event-loop
contention: what is left is the router, the form engine, the rendering and the database
— the part of a reply's cost patentbot's design decides (issue 15.3). It prints the SQL
statements per update by kind, and the CPU per update (``time.process_time`` around the
router's calls, so the simulated users' own work is left out; the database's own work is
included for SQLite, not for PostgreSQL's server). One user at a time, the background
mark after each update's last reply is one commit per update here, where many users
share one (``commits_per_update`` counts it). The CPU figure moves by ±25 % from run to
run on this machine: run it a few times.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import event as sa_event

from bench.harness import fresh_database
from bot.transports.telegram.incoming import answer
from forms.definition import programme
from handlers.kernel.context import Context
from handlers.kernel.router import Router
from handlers.kernel.types import Event, Reply
from models.db import connect
from testkit.answers import ELIGIBLE_ZH
from testkit.chat import Chat, run_interview


class TelegramChat(Chat):
    """A chat whose events carry update ids and go through the Telegram transports' own
    ``answer`` (bot/transports/telegram/incoming.py): replies struck off as sent, in the
    user's turn."""

    next_update = 1
    cpu = 0.0  # seconds of CPU in the router (the driver's own work left out)

    async def _replies(self, event: Event) -> list[Reply]:
        event = replace(event, update_id=TelegramChat.next_update)
        TelegramChat.next_update += 1
        replies: list[Reply] = []

        async def send(sent: list[Reply]) -> None:
            replies.extend(sent)

        started = time.process_time()
        await answer(self.router, event, send)
        # The mark after the last reply, batched in production (one for all the updates
        # finished meanwhile), is waited for here: one user at a time has no "meanwhile".
        await self.router.settle()
        TelegramChat.cpu += time.process_time() - started
        return replies


class Statements:
    """Counts the SQL statements an engine runs, by their first word."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.counts[statement.split(None, 1)[0].upper()] += 1


async def run(args: argparse.Namespace, url: str) -> dict[str, object]:
    form = programme("nansha-2024")
    engine, sessions = await connect(url)
    statements = Statements()
    sa_event.listen(engine.sync_engine, "before_cursor_execute", statements)
    commits: Counter[str] = Counter()
    sa_event.listen(engine.sync_engine, "commit", lambda _c: commits.update(["COMMIT"]))
    router = Router(Context(sessions=sessions, form=form, admin_ids=frozenset()))
    profile = cProfile.Profile() if args.profile else None
    start_update, start_cpu = TelegramChat.next_update, TelegramChat.cpu
    wall = time.perf_counter()
    try:
        for n in range(args.users):
            chat = TelegramChat(router, 100_000 + n)
            if profile is not None and n == args.warmup:
                profile.enable()
            await chat.send("/apply")
            await run_interview(chat, form, ELIGIBLE_ZH)
    finally:
        if profile is not None:
            profile.disable()
            profile.dump_stats(args.profile)
        await engine.dispose()
    cpu = TelegramChat.cpu - start_cpu
    wall = time.perf_counter() - wall
    updates = TelegramChat.next_update - start_update
    per_update = {k: round(v / updates, 2) for k, v in sorted(statements.counts.items())}
    return {
        "updates": updates,
        "statements_per_update": per_update,
        "all_statements_per_update": round(sum(statements.counts.values()) / updates, 2),
        "commits_per_update": round(commits["COMMIT"] / updates, 2),
        "cpu_ms_per_update": round(cpu * 1000 / updates, 3),
        "driver_and_router_wall_ms_per_update": round(wall * 1000 / updates, 3),
    }


async def main_async(args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        async with fresh_database(args.db, Path(folder), "bot.db") as url:
            return await run(args, url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--profile", type=Path, help="write cProfile stats here")
    parser.add_argument("--warmup", type=int, default=2, help="users before profiling")
    args = parser.parse_args()
    for key, value in asyncio.run(main_async(args)).items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
