"""Wrong settings stop the bot at start with a message naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.pages.identity import cookie_key
from handlers.kernel.render import plain
from locales import translator
from models.db import connect
from testkit.telegram import free_port


def run_bot(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "DATABASE_URL")}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli"],
        env={**clean, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", **env},
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("BOT_FRAMEWORK", "telethon", "'aiogram' or 'ptb'"),
        ("DATABASE_URL", "mysql://x", "sqlite:/// or postgresql://"),
        ("ADMIN_IDS", "alice,bob", "comma-separated Telegram user ids"),
        ("DEFAULT_LOCALE", "fr", "'zh_CN', 'zh_HK' or 'en'"),
        ("PROGRAMME", "nansha-1999", "available: nansha-2024"),
        ("BOT_API_SERVER", "not a url", "URL"),
        ("WEBHOOK_URL", "bot.example.org/telegram", "URL"),
        ("WEBHOOK_LISTEN", "8080", "host:port"),
        ("WEBHOOK_SECRET", "my secret!", "A-Z, a-z, 0-9, _ and -"),
        ("WEB_LISTEN", "8080", "host:port, e.g. 0.0.0.0:8080 or 127.0.0.1:8443, or off"),
        ("WEB_SECRET", "a", "at least 32 characters"),
        ("TRUSTED_PROXIES", "nginx", "addresses or networks"),
        ("SMTP_URL", "mail.example.cn", "smtps://user:password@host:465"),
    ],
)
def test_bad_setting_is_named(tmp_path: Path, variable: str, value: str, expected: str) -> None:
    result = run_bot({variable: value}, tmp_path)
    assert result.returncode == 2
    assert variable in result.stderr and expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_secret_is_not_repeated_in_the_error(tmp_path: Path) -> None:
    result = run_bot({"WEBHOOK_SECRET": "almost right!"}, tmp_path)
    assert result.returncode == 2 and "WEBHOOK_SECRET" in result.stderr
    assert "almost right" not in result.stderr


def test_webhook_listen_takes_host_and_port() -> None:
    from bot.settings import Settings

    assert Settings(webhook_listen="[::1]:8443").webhook_listen == ("::1", 8443)  # type: ignore[arg-type]
    assert Settings().webhook_listen == ("0.0.0.0", 8080)


def test_web_listen_off_means_no_web_chat() -> None:
    from bot.settings import Settings

    assert Settings(web_listen="off").web_listen is None
    assert Settings(web_listen=" OFF ").web_listen is None
    assert Settings().web_listen == ("127.0.0.1", 8080)


def test_the_web_chat_and_the_webhook_on_one_port_is_refused_at_start(tmp_path: Path) -> None:
    """In webhook mode both listen; by default on port 8080 both: the second would fail."""
    from handlers.kernel.render import plain
    from locales import translator

    webhook = {"BOT_TOKEN": "123456:ABC", "WEBHOOK_URL": "https://bot.example.org/telegram"}
    result = run_bot({**webhook, "DEFAULT_LOCALE": "en"}, tmp_path)
    assert result.returncode == 2
    said = translator("en")("cli.listen_clash", web="127.0.0.1:8080", webhook="0.0.0.0:8080")
    assert plain(said) in result.stderr and "Traceback" not in result.stderr
    elsewhere = run_bot({**webhook, "WEBHOOK_LISTEN": "127.0.0.1:8443", "WEB_LISTEN": "off",
                         "BOT_API_SERVER": "http://127.0.0.1:9"}, tmp_path)  # fmt: skip
    assert "WEB_LISTEN" not in elsewhere.stderr  # past the check, on to Telegram (unreachable)
    assert elsewhere.returncode == 1, elsewhere.stderr


def test_with_nothing_to_serve_it_says_what_to_set(tmp_path: Path) -> None:
    from handlers.kernel.render import plain
    from locales import translator

    result = run_bot({"WEB_LISTEN": "off", "DEFAULT_LOCALE": "zh_HK"}, tmp_path)
    assert result.returncode == 2
    assert plain(translator("zh_HK")("cli.nothing_to_serve")) in result.stderr
    assert "patentbot console" in result.stderr


def test_admin_ids_are_read_comma_separated() -> None:
    from bot.settings import Settings

    assert Settings(admin_ids="1, 2,3").admin_ids == frozenset({1, 2, 3})  # type: ignore[arg-type]
    assert Settings(database_url="postgres://u@h/db").database_url == "postgres://u@h/db"


async def test_a_second_web_secret_on_one_database_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    """Two processes on one database must sign alike: one with another WEB_SECRET would
    take every visitor for a stranger. The second refuses to start, and says why."""
    first, second = "a" * 32 + "-first-secret", "b" * 32 + "-second-secret"
    engine, sessions = await connect(f"sqlite:///{tmp_path / 'x.db'}")  # run_bot's database
    await cookie_key(sessions, first)  # a first process started with it: its fingerprint
    await engine.dispose()
    refused = run_bot({"WEB_SECRET": second, "WEB_LISTEN": f"127.0.0.1:{free_port()}"}, tmp_path)
    said = plain(translator("zh_CN")("cli.secret_mismatch"))
    assert refused.returncode == 1 and f"patentbot: {said}" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr
