"""The bot as the operator runs it (``python -m bot.cli``), a child process serving the
fake Bot API server: for the tests that kill it and the benchmarks that measure it."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from testkit.fake_bot_api import FakeBotAPI
from testkit.telegram import TOKEN


async def start_bot(
    server: FakeBotAPI,
    database_url: str,
    cwd: Path,
    transport: str,
    port: int = 0,
    *,
    start_timeout: float = 90.0,
) -> asyncio.subprocess.Process:
    """The bot as a process; ``framework+webhook`` listens on ``port`` for the server's posts."""
    framework, _, mode = transport.partition("+")
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "BOT_API_SERVER": server.base_url,
        "BOT_FRAMEWORK": framework,
        "DATABASE_URL": database_url,
        "WEB_LISTEN": "off",  # Telegram only: several bots on one machine, no port 8080
    }
    if mode == "webhook":
        env["WEBHOOK_URL"] = f"http://127.0.0.1:{port}/telegram"
        env["WEBHOOK_LISTEN"] = f"127.0.0.1:{port}"

    def starts() -> int:  # a poll, or the webhook set: the bot takes updates
        return len(server.calls_to("getUpdates")) + len(server.calls_to("setWebhook"))

    before = starts()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", env=env, cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    # Importing aiogram takes a few seconds, and far longer on a machine busy with other
    # work: this waits for the start, it does not time it.
    for _ in range(int(start_timeout / 0.05)):
        if starts() > before:
            return process
        assert process.returncode is None, "the bot exited at start"
        await asyncio.sleep(0.05)
    process.kill()
    await process.wait()
    raise AssertionError("the bot did not start taking updates")
