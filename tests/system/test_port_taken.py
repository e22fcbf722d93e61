"""A taken port is one clear line: when WEB_LISTEN's or WEBHOOK_LISTEN's address is held
by another program, ``patentbot`` names the variable and the address, shows no
traceback and ends with status 1. The real command, a real socket held open."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from handlers.kernel.render import plain
from locales import translator
from testkit.fake_bot_api import FakeBotAPI
from testkit.telegram import TOKEN, free_port
from tests.system.test_cli_serve import START_SECONDS, environment

t = translator("zh_CN")


@contextmanager
def held() -> Iterator[str]:
    """A free port on loopback, bound and listening: another program's."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", free_port()))
        other.listen()
        host, port = other.getsockname()
        yield f"{host}:{port}"


async def run(tmp_path: Path, env: dict[str, str], *argv: str) -> tuple[int, list[str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *argv, env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, errors = await asyncio.wait_for(process.communicate(), START_SECONDS)
    assert process.returncode is not None
    return process.returncode, errors.decode().splitlines()


def the_line(lines: list[str], variable: str, address: str) -> None:
    said = plain(t("cli.address_taken", variable=variable, address=address))
    assert [line for line in lines if variable in line] == [f"patentbot: {said}"], lines
    assert not [line for line in lines if "Traceback" in line or "the bot stopped" in line]


async def test_a_taken_web_listen_is_one_line(tmp_path: Path, database_url: str) -> None:
    with held() as address:
        status, lines = await run(tmp_path, environment(database_url, WEB_LISTEN=address))
    assert status == 1
    the_line(lines, "WEB_LISTEN", address)
    assert len(lines) == 1, lines


@pytest.mark.parametrize("framework", ["ptb", "aiogram"])
async def test_a_taken_webhook_listen_is_one_line_and_the_web_port_untouched(
    tmp_path: Path, database_url: str, framework: str
) -> None:
    async with FakeBotAPI(token=TOKEN) as server:
        with held() as address:
            env = environment(
                database_url,
                BOT_TOKEN=TOKEN,
                BOT_API_SERVER=server.base_url,
                BOT_FRAMEWORK=framework,
                WEB_LISTEN="off",
                WEBHOOK_URL=f"http://{address}/telegram",
                WEBHOOK_LISTEN=address,
            )
            status, lines = await run(tmp_path, env)
    assert status == 1
    the_line(lines, "WEBHOOK_LISTEN", address)
    assert "WEB_LISTEN" not in "\n".join(lines).replace("WEBHOOK_LISTEN", "")
