"""The e-mail sender's rate against SMTP_RATE: one broadcast to N applicants who gave an
address, sent by ``patentbot web`` (a web-only deployment, as on the mainland) to a real
SMTP server on loopback (aiosmtpd, in this process).

    .venv/bin/python -m bench.email_rate                   # 100 recipients at SMTP_RATE=10
    .venv/bin/python -m bench.email_rate --rate 1000 --recipients 500   # the sender's ceiling

achieved/s = (mails − 1) ÷ (last − first arrival at the server); max in 1 s: the most
arrivals in any one-second window; once / twice / never: per address. Bounded: the bot's
start 60 s, the mailing twice its nominal time + 30 s."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.harness import code_version, fresh_database
from testkit.mailbox import SENDER, smtp_server
from testkit.telegram import free_port


async def queue(database_url: str, recipients: int) -> int:
    from handlers.admin.broadcast_queue import Author, Message, queue_broadcast
    from models.db import connect
    from models.tables import Channel, User

    engine, sessions = await connect(database_url)
    async with sessions() as session:
        for i in range(recipients):
            user = User(
                id=-(10_000 + i), chat_id=-(10_000 + i), channel=Channel.WEB, locale="zh_CN"
            )
            user.email = f"applicant{i}@example.cn"
            session.add(user)
        await session.flush()
        routes = frozenset({Channel.WEB, Channel.EMAIL})
        job = await queue_broadcast(
            session, "nansha-2024", Author(None, "zh_CN"), "all", Message("通知"), routes
        )
        await session.commit()
    await engine.dispose()
    assert not isinstance(job, Exception)
    return recipients


async def run(rate: float, recipients: int, db: str) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="bench-email-"))
    with smtp_server() as box:
        async with fresh_database(db, folder, "bench.db") as url:
            await queue(url, recipients)
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "WEB_LISTEN": f"127.0.0.1:{free_port()}",
                "SMTP_URL": box.url,
                "SMTP_FROM": SENDER,
                "SMTP_RATE": str(rate),
                "PUBLIC_URL": "https://bot.example.cn",
            }
            bot = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "web", env=env, cwd=folder,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            try:
                deadline = time.monotonic() + 60 + 2 * recipients / rate + 30
                while len(box.messages) < recipients and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
            finally:
                bot.terminate()
                await bot.wait()
    times = sorted(box.arrived)
    per_address = Counter(str(m["To"]) for m in box.messages)
    window = max((sum(1 for t in times if start <= t < start + 1) for start in times), default=0)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    return {
        "rate": rate,
        "recipients": recipients,
        "db": db,
        "achieved": (len(times) - 1) / span if span else 0.0,
        "max_in_1s": window,
        "once": sum(1 for n in per_address.values() if n == 1),
        "twice": sum(1 for n in per_address.values() if n > 1),
        "never": recipients - len(per_address),
        "commit": code_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=10.0, help="SMTP_RATE")
    parser.add_argument("--recipients", type=int, default=100)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    result = asyncio.run(run(args.rate, args.recipients, args.db))
    print(
        "| {rate:g} | {recipients} | {db} | **{achieved:.2f}** | {ratio:.3f} | {max_in_1s} "
        "| {once} / {twice} / {never} | `{commit}` |".format(
            **result, ratio=result["achieved"] / result["rate"]
        )
    )


if __name__ == "__main__":
    main()
