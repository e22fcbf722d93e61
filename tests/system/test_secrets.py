"""The bot token never shows: not in the log, not in a reply, not in a /mydata file —
also when a Bot API failure makes a library raise with the token or its URL in the
message. The real `patentbot` process, on both frameworks, against the fake Bot API
server on 127.0.0.1; every line it writes and every reply is searched."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from aiohttp import web

from bot.logs import MASK, Redact, secrets_of
from bot.settings import Settings
from testkit.fake_bot_api import FakeBotAPI, FakeUser
from testkit.telegram import ADMIN, FRAMEWORKS

SECRET = "AAHpatentbotSECRET_0123456789-abcdefXYZ"
TOKEN = f"987654:{SECRET}"


class Bot:
    """A `patentbot` process; what it wrote is in ``output`` once it has ended."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process, self.log = process, log

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")


@asynccontextmanager
async def patentbot(
    tmp_path: Path, framework: str, api_server: str, name: str
) -> AsyncIterator[Bot]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    env = {
        **clean,
        "BOT_TOKEN": TOKEN,
        "BOT_API_SERVER": api_server,
        "BOT_FRAMEWORK": framework,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "ADMIN_IDS": str(ADMIN),
        "WEB_LISTEN": "off",  # Telegram only: no web chat taking port 8080
    }
    log = tmp_path / f"{name}.log"
    with log.open("wb") as out:  # a file, not a pipe: a full pipe would stop the bot
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", env=env, cwd=tmp_path, stdout=out, stderr=out
        )
    bot = Bot(process, log)
    try:
        yield bot
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)  # a clean stop, as an operator's
        await asyncio.wait_for(process.wait(), 60)


async def started(server: FakeBotAPI, bot: Bot) -> None:
    for _ in range(2400):  # the first poll (importing a library takes long on a busy machine)
        if server.calls_to("getUpdates"):
            return
        assert bot.process.returncode is None, bot.output
        await asyncio.sleep(0.05)
    raise AssertionError("the bot did not start polling\n" + bot.output)


async def conversation(server: FakeBotAPI) -> FakeUser:
    """A first contact, an interview begun, a reply Telegram refuses, /mydata, /export."""
    user, admin = server.user(1501, language_code="en"), server.user(ADMIN)
    wait = 30  # seconds at most for each answer: another process, on a busy machine
    await user.send("/start")
    await user.collect(count=1, timeout=wait)
    await user.send("/apply")
    await user.collect(count=1, timeout=wait)
    server.fail_next("sendMessage", error_code=500, description="Internal Server Error")
    await user.send("Acme Ltd")  # the question after it is lost: the library raises
    await server.wait_updates_consumed(timeout=wait)
    await user.send("/apply")  # asks again where they are
    await user.collect(count=1, timeout=wait)
    await user.send("/mydata")
    await user.collect(until=lambda m: m.document is not None, timeout=wait)
    await admin.send("/export")
    await admin.collect(until=lambda m: m.document is not None, timeout=wait)
    return user


@asynccontextmanager
async def redirect_loop() -> AsyncIterator[str]:
    """A Bot API server behind a misconfigured proxy: every URL redirects to itself, and
    the HTTP client gives up quoting the URL (token and all)."""

    async def again(request: web.Request) -> web.Response:
        raise web.HTTPFound(str(request.rel_url))

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", again)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def leaks(text: str | bytes) -> bool:
    data = text.encode() if isinstance(text, str) else text
    return any(form.encode() in data for form in (SECRET, quote(TOKEN), quote(TOKEN, safe="")))


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.timeout(300)  # three bot processes start, each importing its library
async def test_the_token_never_shows(framework: str, tmp_path: Path) -> None:
    async with FakeBotAPI(token=TOKEN, bot_username="patentbot_test") as server:
        async with patentbot(tmp_path, framework, server.base_url, "conversation") as running:
            await started(server, running)
            await conversation(server)
        server.token = "987654:REVOKED"  # the office moved to a new token: ours is refused
        async with (
            redirect_loop() as url,
            patentbot(tmp_path, framework, server.base_url, "revoked") as refused,
            patentbot(tmp_path, framework, url, "loop") as lost,
        ):
            failures = [refused, lost]
            ended = await asyncio.gather(*(bot.process.wait() for bot in failures))
            assert ended == [1, 1]
        outputs = [running.output, *(bot.output for bot in failures)]
        replies = [m for user in server.users for m in user.transcript]

    assert "the bot stopped" in failures[0].output and "the bot stopped" in failures[1].output
    # One of the failures put the token in what the library raised: it was masked.
    assert any(MASK in bot.output for bot in failures), "\n".join(outputs)
    for output in outputs:
        assert not leaks(output), output
    for message in replies:
        assert not leaks(message.text or "") and not leaks(message.caption or "")
        for file in (message.document, message.photo):
            assert file is None or not leaks(file.data)
    assert any(m.document and m.document.filename.startswith("patentbot-mydata") for m in replies)


def test_every_secret_of_the_settings_is_masked_in_messages_and_tracebacks() -> None:
    settings = Settings(
        bot_token=TOKEN,
        webhook_secret="hook-SECRET-42",
        web_secret="web-SECRET-43-and-long-enough-to-sign-cookies",
        database_url="postgresql://bot:db-SECRET-44@db/patentbot",
    )
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(Redact(secrets_of(settings)))
    log = logging.getLogger("tests.secrets")
    log.addHandler(handler)
    try:
        log.warning("calling %s/bot%s/getMe", "http://api", quote(TOKEN, safe=""))
        try:
            web = "web-SECRET-43-and-long-enough-to-sign-cookies"
            raise RuntimeError(f"hook-SECRET-42 {web} db-SECRET-44 {TOKEN}")
        except RuntimeError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    written = out.getvalue()
    assert "RuntimeError: " + " ".join([MASK] * 3) + f" 987654:{MASK}" in written
    assert "SECRET" not in written and not leaks(written)


def test_a_newline_an_outsider_sends_never_starts_a_log_line() -> None:
    """A path with %0a in it, logged by the web chat's guard: the record stays one line."""
    record = logging.LogRecord(
        "bot.web", logging.ERROR, __file__, 1, "web request %s %s failed",
        ("GET", "/s/x\n2026-12-08 02:00:00,000 ERROR patentbot: forged"), None,
    )  # fmt: skip
    Redact([]).filter(record)
    assert "\n" not in record.getMessage() and "\\x0a" in record.getMessage()
