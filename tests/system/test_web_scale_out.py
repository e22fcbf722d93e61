"""The web chat scaled out: two processes on one PostgreSQL database behind a balancer.
All state is in the database (the screen, its step, the cookie key), so a visitor's
conversation goes on in whichever process gets the next request."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from yarl import URL

from forms.definition import Form
from handlers.render import plain
from locales import translator
from testkit.answers import ELIGIBLE_ZH
from testkit.chat import run_interview
from testkit.telegram import free_port
from testkit.web import WebVisitor
from tests.chat.test_postgres import postgres_url  # noqa: F401 (a fixture)

t = translator("zh_CN")


@pytest.fixture
def two_processes(postgres_url: str, tmp_path: Path) -> Iterator[list[URL]]:  # noqa: F811
    """Two ``patentbot web`` started at once on one database (both make the cookie key on
    their first start: one of them must take the other's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "WEB_"))}
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "web"],
            env={**env, "DATABASE_URL": postgres_url, "WEB_LISTEN": f"127.0.0.1:{port}"},
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for port in ports
    ]
    try:
        for server, port in zip(servers, ports, strict=True):
            assert server.stdout is not None
            line = server.stdout.readline()
            assert f":{port}/" in line, line + server.stdout.read()
        yield [URL(f"http://127.0.0.1:{port}/") for port in ports]
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)


class Alternating(WebVisitor):
    """One browser whose every request goes to the next process (a round-robin balancer;
    cookies belong to the host, not the port, as behind one address)."""

    def __init__(self, bases: list[URL]) -> None:
        super().__init__(bases[0])
        self.bases = bases
        self.served = 0

    async def post(self, path: str, form: dict[str, str]):  # type: ignore[no-untyped-def]
        self.served += 1
        self.base = self.bases[self.served % len(self.bases)]
        return await super().post(path, form)


async def test_an_interview_alternates_between_two_processes(
    two_processes: list[URL], form: Form
) -> None:
    browser = Alternating(two_processes)
    await browser.get("/")
    await browser.press(t("button.apply"))
    result = await run_interview(browser, form, ELIGIBLE_ZH)
    assert plain(t("result.eligible")) in result
    assert browser.served > 20  # each process answered about half of them
    await browser.close()
