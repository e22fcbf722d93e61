"""``patentbot event new|list`` and ``patentbot report CODE``: an admin in the terminal."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from openpyxl import load_workbook

from forms.definition import Form
from handlers.kernel.render import plain
from handlers.kernel.router import Router
from locales import LOCAL_TIME, translator
from testkit.chat import Chat
from tests.chat.test_survey import answer_survey

t = translator("zh_CN")


def patentbot(
    database_url: str,
    cwd: Path,
    *argv: str,
    username: str | None = "patentbot_test",
    public_url: str | None = None,
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    env = {**clean, "DATABASE_URL": database_url, "DEFAULT_LOCALE": "zh_CN"}
    env |= {"BOT_USERNAME": username} if username else {}
    env |= {"PUBLIC_URL": public_url} if public_url else {}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *argv],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


async def test_an_event_from_the_terminal_to_its_report(
    router: Router, form: Form, database_url: str, tmp_path: Path
) -> None:
    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return patentbot(database_url, tmp_path, *argv)

    title = "专利布局 &amp; 培训"
    new = ["event", "new", "--title", title, "--date", "2024-10-08", "--place", "南沙"]
    refused = await asyncio.to_thread(run, *new, "--closes", "2024-10-08 17:00")
    assert refused.returncode == 2 and t("error.datetime_past") in refused.stderr
    too_long = ["event", "new", "--title", "讲" * 101, "--date", "2024-10-08", "--place", "南沙"]
    refused = await asyncio.to_thread(run, *too_long)  # the chat's rules for each field
    assert refused.returncode == 2 and t("error.too_long", length=101, max=100) in refused.stderr

    closes = f"{datetime.now(LOCAL_TIME).year + 1}-10-08 17:00"
    created = await asyncio.to_thread(run, *new, "--closes", closes, "--out-dir", "files")
    assert created.returncode == 0, created.stderr
    code, link, qr = created.stdout.split("\n")[:3]
    assert link == f"https://t.me/patentbot_test?start=survey-{code}"
    assert (tmp_path / "files" / f"survey-{code}.png").read_bytes().startswith(b"\x89PNG")
    assert qr == f"📄 {Path('files', f'survey-{code}.png')}"  # where it wrote the QR code

    for attendee, overall in ((801, "非常满意"), (802, "一般")):  # they scan the code
        chat = Chat(router, attendee)
        await chat.send(f"/start survey-{code}")
        await answer_survey(chat, form, overall)

    listed = await asyncio.to_thread(run, "event", "list")
    assert title in listed.stdout  # shown as typed, never read as HTML
    assert code in listed.stdout and "2 份问卷" in listed.stdout

    report = await asyncio.to_thread(run, "report", code, "--out-dir", "files")
    assert report.returncode == 0, report.stderr
    assert plain(t("report.not_met", rate="50.0%", target="85%")) in report.stdout
    chart = tmp_path / "files" / f"survey-{code}-chart.png"
    assert chart.read_bytes().startswith(b"\x89PNG")
    summary = load_workbook(tmp_path / "files" / f"survey-{code}.xlsx").worksheets[0]
    assert 2 in [cell.value for row in summary.iter_rows() for cell in row]  # valid responses
    responses = load_workbook(tmp_path / "files" / f"survey-{code}.xlsx").worksheets[1]
    ids = {cell.value for row in responses.iter_rows() for cell in row}
    assert not {801, 802, "801", "802"} & ids  # numbered, never identified

    unknown = await asyncio.to_thread(run, "report", "nosuch")
    assert unknown.returncode == 2 and t("cli.event_not_found", code="nosuch") in unknown.stderr
    assert "/event" not in unknown.stderr  # a shell's advice, not the chat's
    english = await asyncio.to_thread(run, "report", "nosuch", "--locale", "en")
    assert translator("en")("cli.event_not_found", code="nosuch") in english.stderr


def test_no_qr_code_is_written_that_no_phone_can_open(database_url: str, tmp_path: Path) -> None:
    new = ["event", "new", "--title", "培训会", "--date", "2024-10-08", "--place", "南沙"]
    without = patentbot(database_url, tmp_path, *new, "--out-dir", "files", username=None)
    assert without.returncode == 0, without.stderr
    code = without.stdout.split("\n")[0]
    assert without.stdout.split("\n")[1] == plain(t("cli.event_no_link", code=code))
    assert not (tmp_path / "files").exists()  # no unscannable code
    again = patentbot(database_url, tmp_path, "event", "qr", code, "--out-dir", "files")
    assert again.returncode == 0, again.stderr
    assert again.stdout.split("\n")[1] == f"https://t.me/patentbot_test?start=survey-{code}"
    assert (tmp_path / "files" / f"survey-{code}.png").read_bytes().startswith(b"\x89PNG")


def test_terminal_commands_say_how_to_go_on_in_the_terminal(
    database_url: str, tmp_path: Path
) -> None:
    events = patentbot(database_url, tmp_path, "event", "list")
    assert events.stdout.strip() == plain(t("cli.event_none"))
    jobs = patentbot(database_url, tmp_path, "broadcast", "list")
    assert jobs.stdout.strip() == plain(t("cli.broadcast_none"))
    empty = patentbot(database_url, tmp_path, "broadcast", "send", "--audience", "all",
                      "--text", "", "--yes")  # fmt: skip
    assert empty.returncode == 2 and plain(t("cli.broadcast_empty")) in empty.stderr


def test_with_a_public_url_the_code_opens_the_web_survey(database_url: str, tmp_path: Path) -> None:
    """Mainland phones reach the web chat, not Telegram: the QR code holds its address."""
    from handlers.training.events import qr_png

    new = ["event", "new", "--title", "培训会", "--date", "2024-10-08", "--place", "南沙"]
    made = patentbot(database_url, tmp_path, *new, public_url="https://bot.example.cn/")
    assert made.returncode == 0, made.stderr
    code, web, telegram = made.stdout.split("\n")[:3]
    assert web == f"https://bot.example.cn/s/{code}"
    assert telegram == f"https://t.me/patentbot_test?start=survey-{code}"
    assert (tmp_path / f"survey-{code}.png").read_bytes() == qr_png(web)


def test_check_in_cards_from_the_office_list(database_url: str, tmp_path: Path) -> None:
    """``patentbot event cards``: the list saved from a spreadsheet (a BOM, a header, a
    second column) becomes a sheet of cards to print, each with its personal link."""
    public = "https://bot.example.cn"
    made = patentbot(database_url, tmp_path, "event", "new", "--title", "专利培训会",
                     "--date", "2024-10-08", "--place", "南沙", public_url=public)  # fmt: skip
    code = made.stdout.split()[0]
    names = tmp_path / "名单.csv"
    names.write_text("\ufeff姓名,单位\n李明,示例科技\n王芳,示例研究院\n", encoding="utf-8")
    done = patentbot(database_url, tmp_path, "event", "cards", code, "--names", str(names),
                     "--out-dir", str(tmp_path), public_url=public)  # fmt: skip
    assert done.returncode == 0, done.stderr
    sheet = tmp_path / f"checkin-cards-{code}.xlsx"
    assert done.stdout.strip() == plain(t("cli.cards_written", count=2, path=str(sheet)))
    rows = list(load_workbook(sheet).worksheets[0].iter_rows(min_row=3, values_only=True))
    assert [r[0] for r in rows] == ["李明", "王芳"]
    assert all(r[2] == f"{public}/s/{code}-{r[1]}" and len(r[1]) == 6 for r in rows)
    missing = patentbot(database_url, tmp_path, "event", "cards", code, "--names", "nope.csv")
    assert missing.returncode != 0 and "nope.csv" in missing.stderr
