"""``patentbot`` serves the web chat, and Telegram as well when BOT_TOKEN is set: one
process, one event loop, one database. The real command, as a user starts it."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from yarl import URL

from forms.definition import Form
from handlers.kernel.render import plain
from locales import translator
from testkit.chat import current_question
from testkit.fake_bot_api import FakeBotAPI
from testkit.telegram import TOKEN, free_port, next_step
from testkit.web import WebVisitor

t = translator("zh_CN")
# Waits, not timings: importing aiogram alone takes 20 s on a machine busy with other work.
START_SECONDS = 120
STOP_SECONDS = 60


def environment(database_url: str, **settings: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "WEB", "DATABASE"))}
    return {
        **clean,
        "DATABASE_URL": database_url,
        "DEFAULT_LOCALE": "zh_CN",
        **settings,
    }


@asynccontextmanager
async def patentbot(tmp_path: Path, env: dict[str, str]) -> AsyncIterator[URL]:
    """``patentbot`` with no command, until the block ends; yields the address it printed.
    Stopped by SIGTERM, as an operator stops it: it must end cleanly (status 0)."""
    log = tmp_path / "patentbot.log"
    with log.open("wb") as errors:  # a file, not a pipe: a full pipe would stop the bot
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=errors,
        )  # fmt: skip
    assert process.stdout is not None
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), START_SECONDS)).decode()
        assert plain(t("web.listening", url="")) in line, line + log.read_text()
        found = re.search(r"http://\S+", line)
        assert found is not None, line
        if "PUBLIC_URL" in env:  # and the address people reach it by
            line = (await asyncio.wait_for(process.stdout.readline(), START_SECONDS)).decode()
            assert plain(t("web.public", url=env["PUBLIC_URL"])) in line, line
        yield URL(found.group(0))
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        status = await asyncio.wait_for(process.wait(), STOP_SECONDS)
    assert status == 0, log.read_text()
    assert "Traceback" not in log.read_text()


async def first_question_on_the_web(address: URL, form: Form) -> str | None:
    visitor = WebVisitor(address)
    try:
        page = await visitor.get("/")
        assert page.status == 200 and plain(t("privacy.notice_web")) in visitor.text
        await visitor.press(t("button.apply"))
        return current_question(form, "zh_CN", visitor.text)
    finally:
        await visitor.close()


async def test_with_no_token_it_serves_the_web_chat(
    tmp_path: Path, database_url: str, form: Form
) -> None:
    port = free_port()
    env = environment(
        database_url, WEB_LISTEN=f"127.0.0.1:{port}", PUBLIC_URL="http://patentbot.example.cn/"
    )
    async with patentbot(tmp_path, env) as address:
        assert address == URL(f"http://127.0.0.1:{port}/")  # the address to open
        assert await first_question_on_the_web(address, form) == "enterprise_name"


async def test_with_a_token_telegram_and_the_web_chat_in_one_process(
    tmp_path: Path, database_url: str, form: Form
) -> None:
    async with FakeBotAPI(token=TOKEN, bot_username="patentbot_test") as server:
        env = environment(
            database_url,
            BOT_TOKEN=TOKEN,
            BOT_API_SERVER=server.base_url,
            WEB_LISTEN=f"127.0.0.1:{free_port()}",
        )
        async with patentbot(tmp_path, env) as address:
            user = server.user(1001, language_code="zh-hans")
            await user.send("/apply")
            asked = await next_step(user, form, "zh_CN", timeout=START_SECONDS)
            assert current_question(form, "zh_CN", asked) == "enterprise_name"
            assert await first_question_on_the_web(address, form) == "enterprise_name"
            await user.send("甲公司")  # Telegram still answered while the web was
            asked = await next_step(user, form, "zh_CN")
            assert current_question(form, "zh_CN", asked) == "uscc"
        # A clean stop: the last update was confirmed to Telegram before going.
        assert not server.pending_updates


async def test_a_telegram_failure_at_start_ends_the_process_with_status_1(
    tmp_path: Path, database_url: str
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"  # no Bot API server answers there
    env = environment(
        database_url, BOT_TOKEN=TOKEN, BOT_API_SERVER=nobody, WEB_LISTEN=f"127.0.0.1:{free_port()}"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, errors = await asyncio.wait_for(process.communicate(), START_SECONDS)
    assert process.returncode == 1, errors.decode()
    assert "the bot stopped" in errors.decode()
    assert TOKEN.split(":")[1] not in errors.decode()


async def test_the_terminal_chat_is_patentbot_console(tmp_path: Path, database_url: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "console", env=environment(database_url), cwd=tmp_path,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, errors = await asyncio.wait_for(process.communicate(b"/help\n"), START_SECONDS)
    assert process.returncode == 0, errors.decode()
    assert "/apply" in out.decode() and "http://" not in out.decode()  # no web chat started
