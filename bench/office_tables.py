"""The office pages' application table at a district's size: 10,000 submitted applications
(25 answers each, a third flagged), then the time of the pages an officer opens, over HTTP.

    .venv/bin/python -m bench.office_tables                  # SQLite in a temporary file
    .venv/bin/python -m bench.office_tables --db postgresql  # a fresh database on 127.0.0.1
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from aiohttp.test_utils import TestServer
from sqlalchemy import insert

from bot.pages.identity import Buckets, Signer
from bot.transports.web.chat import WebChat
from forms.definition import programme
from handlers.kernel.context import Context
from handlers.kernel.router import Router
from models.db import connect
from models.tables import Answer, Application, Flag, User, utcnow
from testkit.office import Officer, add_officer_link

PAGES = (
    "/office/",
    "/office/applications",
    "/office/applications?page=100",
    "/office/applications?page=200",
    "/office/applications?verdict=not_eligible&sort=submitted",
    "/office/applications?flag=rd_not_leading&sort=verdict&page=50",
    "/office/applications/{middle}",
)


async def fill(router: Router, n: int) -> None:
    form = router.context.form
    clusters = [o.id for o in form.question("cluster").options]
    now = utcnow()
    async with router.context.sessions() as session:
        connection = await session.connection()  # Core inserts of many rows at once
        await connection.execute(
            insert(User),
            [{"id": 10_000 + i, "chat_id": 10_000 + i, "locale": "zh_CN", "created_at": now}
             for i in range(n)],
        )  # fmt: skip
        await connection.execute(
            insert(Application),
            [{"id": i + 1, "user_id": 10_000 + i, "programme_id": form.id,
              "programme_version": form.version, "version": 1, "status": "submitted",
              "verdict": "not_eligible" if i % 3 == 0 else "eligible", "created_at": now,
              "submitted_at": now} for i in range(n)],
        )  # fmt: skip
        answers = []
        for i in range(n):
            answers.append({"application_id": i + 1, "question_id": "enterprise_name",
                            "value": f"企业{i:05d}", "answered_at": now})  # fmt: skip
            answers.append({"application_id": i + 1, "question_id": "cluster",
                            "value": clusters[i % len(clusters)], "answered_at": now})  # fmt: skip
            answers += [
                {"application_id": i + 1, "question_id": f"q{k}", "value": k, "answered_at": now}
                for k in range(23)
            ]
        for start in range(0, len(answers), 20_000):
            await connection.execute(insert(Answer), answers[start : start + 20_000])
        await connection.execute(
            insert(Flag),
            [{"application_id": i + 1, "rule_id": "rd_not_leading", "severity": "disqualify",
              "clause": "E1b", "message_key": "flag.rd_not_leading", "created_at": now}
             for i in range(0, n, 3)],
        )  # fmt: skip
        await session.commit()


async def run(url: str, n: int, repeat: int) -> None:
    engine, sessions = await connect(url)
    router = Router(Context(sessions=sessions, form=programme("nansha-2024")))
    try:
        await fill(router, n)
        fast = Buckets(rate=1e6, burst=1e6)  # one officer, as fast as the pages answer
        app = WebChat(router, Signer(b"bench"), secure_cookie=False, per_address=fast).app()
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            officer = Officer(server.make_url("/"))
            await officer.sign_in(await add_officer_link(router, "bench"))
            print(f"{n:,} applications, {url.split(':')[0]}; ms per page (median of {repeat})")
            for page in PAGES:
                path = page.format(middle=n // 2)
                times = []
                for _ in range(repeat):
                    start = time.perf_counter()
                    await officer.get(path)
                    times.append((time.perf_counter() - start) * 1000)
                    assert officer.status == 200, (path, officer.html[:500])
                print(f"{statistics.median(times):8.1f}  {path}")
            await officer.close()
        finally:
            await server.close()
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.db == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            await run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.applications, args.repeat)
        return
    import asyncpg  # type: ignore[import-untyped]

    name = f"patentbot_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        await run(f"postgresql://postgres@127.0.0.1:5432/{name}", args.applications, args.repeat)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
