"""``patentbot backup FILE``: a copy taken while the bot runs restores a user at the same
question; PostgreSQL is refused with the tool that backs it up."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from bot.cli import main
from forms.definition import Form
from locales import translator
from testkit.answers import ELIGIBLE_ZH
from testkit.bot_process import start_bot
from testkit.chat import current_question
from testkit.fake_bot_api import FakeBotAPI
from testkit.telegram import TOKEN, next_step
from tests.system.test_restart import answer_up_to_contact_phone

t = translator("zh_CN")


async def backup(database_url: str, out: Path, cwd: Path) -> tuple[int, str]:
    """The terminal command, as its own process beside the running bot."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "backup", str(out),
        env={**os.environ, "DATABASE_URL": database_url, "DEFAULT_LOCALE": "en"}, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await process.communicate()
    return await process.wait(), output.decode()


async def test_a_backup_taken_mid_interview_restores_at_the_same_question(
    tmp_path: Path, form: Form
) -> None:
    live = tmp_path / "live" / "bot.db"
    live.parent.mkdir()
    async with FakeBotAPI(token=TOKEN) as server:
        user = server.user(5151, language_code="zh-hans")
        bot = await start_bot(server, f"sqlite:///{live}", tmp_path, "ptb")  # the quicker start
        try:
            await answer_up_to_contact_phone(user, form)
            # The answers are in the write-ahead log still: a plain file copy misses them.
            code, output = await backup(f"sqlite:///{live}", tmp_path / "backup.db", tmp_path)
            assert code == 0, output
            assert "Backed up to" in output and "backup.db" in output
            assert bot.returncode is None  # the bot ran all along
        finally:
            bot.send_signal(signal.SIGKILL)
            await bot.wait()
        shutil.rmtree(live.parent)  # the machine is lost

        # The copy stands alone (no -wal beside it) and is whole.
        with sqlite3.connect(tmp_path / "backup.db") as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        restored = tmp_path / "restored" / "bot.db"
        restored.parent.mkdir()
        shutil.copy(tmp_path / "backup.db", restored)  # the restore the README describes
        bot = await start_bot(server, f"sqlite:///{restored}", tmp_path, "ptb")
        try:
            await user.send(ELIGIBLE_ZH["contact_phone"])
            text = await next_step(user, form, "zh_CN", timeout=20)
            assert current_question(form, "zh_CN", text) == "in_nansha"
            await user.press(t("button.back"))
            await next_step(user, form, "zh_CN")
            await user.press(t("button.back"))
            text = await next_step(user, form, "zh_CN")
            assert current_question(form, "zh_CN", text) == "contact_name"
            assert ELIGIBLE_ZH["contact_name"] in text  # the answer given before the backup
        finally:
            bot.send_signal(signal.SIGKILL)
            await bot.wait()


def test_postgresql_is_refused_with_pg_dump_advice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEFAULT_LOCALE", "en")
    monkeypatch.setenv("DATABASE_URL", "postgresql://patentbot@127.0.0.1:1/patentbot")
    assert main(["backup", str(tmp_path / "copy.db")]) == 2
    said = capsys.readouterr().err
    assert "pg_dump" in said and "pg_restore" in said
    assert not (tmp_path / "copy.db").exists()


def test_no_database_nothing_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEFAULT_LOCALE", "en")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'missing.db'}")
    assert main(["backup", str(tmp_path / "copy.db")]) == 2
    assert "missing.db" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # neither file made
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    sqlite3.connect(tmp_path / "bot.db").close()
    assert main(["backup", str(tmp_path / "bot.db")]) == 2  # never over the database itself
    assert "another file" in capsys.readouterr().err
