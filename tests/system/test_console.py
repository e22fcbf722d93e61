"""The console transport: the same conversation in a terminal, input piped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from handlers.kernel.render import plain
from locales import translator
from testkit.answers import ELIGIBLE_ZH

t = translator("zh_CN")


def console(lines: list[str], tmp_path: Path, database_url: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    env |= {"DATABASE_URL": database_url, "DEFAULT_LOCALE": "zh_CN"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "console"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_a_whole_interview_typed_into_the_terminal(tmp_path: Path, database_url: str) -> None:
    typed = [
        "1",  # the menu's first button: start the assessment
        ELIGIBLE_ZH["enterprise_name"],
        ELIGIBLE_ZH["uscc"],
        ELIGIBLE_ZH["contact_name"],
        ELIGIBLE_ZH["contact_phone"],
        "1",  # in Nansha: 是
        "2",  # the emerging clusters
        "3",  # 智能机器人
        "协作机器人关节",
        "1",  # R&D leading: 是
        "行业标准",
        "10000",
        "12000",
        "15000",
        "500",
        "600",
        "800",
        "40",
        "1",  # operating normally
        "1",  # independent legal person
        "1",
        "1",  # independent accounting, credit
        "1",  # GB/T 29490
        "2",
        "2",
        "2",  # dishonesty, abnormal patents, prior project: 否
        "0",  # joint applicants
        "#",  # not a button: the review explains, and shows again
    ]
    out = console(typed, tmp_path, database_url)
    assert "[1] 是  [2] 否" in out
    assert t("review.title") in out
    submit = out.rsplit("] " + t("button.submit"), 1)[0].rsplit("[", 1)[1]
    # A second run continues where the first stopped.
    out = console([submit], tmp_path, database_url)
    assert t("result.eligible") in out
    assert "5.13%" in out


def test_typed_numbers_answer_amounts_and_hash_presses_buttons(
    tmp_path: Path, database_url: str
) -> None:
    # "#1" on the USCC question: back
    out = console(["/apply", "甲公司", "#1"], tmp_path, database_url)
    assert out.count(t("q.enterprise_name")) == 2
    assert "甲公司" in out.split(t("q.enterprise_name"))[-1]  # the current answer is shown


def test_mydata_is_written_to_a_file(tmp_path: Path, database_url: str) -> None:
    out = console(["/apply", "甲公司", "/mydata"], tmp_path, database_url)
    files = list((tmp_path / "patentbot-files").glob("patentbot-mydata-*.json"))
    assert len(files) == 1 and str(files[0]) in out
    assert "甲公司" in files[0].read_text(encoding="utf-8")


def test_the_terminal_shows_a_prompt_while_it_waits(tmp_path: Path, database_url: str) -> None:
    """At a real terminal (a pseudo-tty): the prompt is on screen before anything is typed."""
    import pty
    import select
    import time

    from bot.transports.console import PROMPT

    env = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    env |= {"DATABASE_URL": database_url, "DEFAULT_LOCALE": "zh_CN"}
    main, secondary = pty.openpty()
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "console"],
        stdin=secondary, stdout=secondary, stderr=secondary, env=env, cwd=tmp_path,
    )  # fmt: skip
    os.close(secondary)
    seen = b""
    try:
        deadline = time.monotonic() + 30
        while not seen.endswith(PROMPT.encode()):
            assert time.monotonic() < deadline, seen.decode(errors="replace")
            if select.select([main], [], [], 1)[0]:
                seen += os.read(main, 4096)
        welcome = t("start.welcome", programme=t("programme.nansha-2024.title"))
        assert plain(welcome).split("\n")[0] in seen.decode()
        os.write(main, b"\x04")  # Ctrl-D: the end of input
        assert bot.wait(timeout=30) == 0
    finally:
        bot.kill()
        os.close(main)


def test_the_person_at_the_terminal_is_its_admin(tmp_path: Path, database_url: str) -> None:
    out = console(["/event", "/help"], tmp_path, database_url)
    assert plain(t("event.list_title")) in out  # not "unknown command"
    assert "/broadcast" in out.split(plain(t("help.title")))[-1]


def test_the_terminal_privacy_notice_speaks_of_this_computer(
    tmp_path: Path, database_url: str
) -> None:
    # The person at the terminal has no Telegram account here: the notice says what is
    # really kept, and where.
    greeting = console([], tmp_path, database_url)
    assert plain(t("privacy.notice_console")) in greeting
    assert "Telegram" not in greeting
