"""/stats and /export, in the chat and from the terminal."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli.broadcasts import run_broadcast_command, run_stats_command
from bot.settings import Settings, SettingsError
from handlers.kernel.render import plain
from handlers.kernel.router import Router
from locales import translator
from models import broadcast_jobs
from testkit.chat import Chat
from tests.broadcast_helpers import Population, populate
from tests.xlsx import column_width

ZH = translator("zh_CN")
ADMIN = 999


@pytest.fixture
async def population(router: Router) -> Population:
    return await populate(router.context.sessions)


async def test_stats(router: Router, population: Population) -> None:
    admin = Chat(router, ADMIN)
    await admin.send("/stats")
    text = admin.text
    users = len(population.everyone) + 2  # the unreachable one, and the admin
    assert f"👥 用户 {users} 人" in text and "无法送达 1 人" in text
    started = len(population.eligible + population.points + population.not_eligible)
    started += len(population.unfinished)
    assert plain(ZH("stats.interviews", started=started, finished=6)) in text
    assert plain(ZH("stats.verdicts", eligible=2, points=2, not_eligible=2)) in text
    # The flags, each by its clause and its rule's short title.
    assert f"❌ X1 {ZH('flag.prior_project.title')} — " in text
    assert f"⚠️ E2a {ZH('flag.rd_ratio_low.title')} — " in text
    assert (
        plain(ZH("stats.cluster_line", cluster=ZH("cluster.robotics"), total=2, eligible=2)) in text
    )
    assert "知识产权培训：有效问卷" in text and "满意度 —" in text  # no ratings given


async def test_stats_from_the_terminal(
    router: Router, population: Population, database_url: str
) -> None:
    printed = await run_stats_command(Settings(database_url=database_url))
    assert plain(ZH("stats.verdicts", eligible=2, points=2, not_eligible=2)) in printed
    assert "<b>" not in printed


async def test_export_is_a_workbook_of_applications_and_users(
    router: Router, population: Population
) -> None:
    admin = Chat(router, ADMIN)
    await admin.send("/export")
    (reply,) = admin.last
    assert reply.document is not None and reply.document.filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(reply.document.content))
    applications, users = book.worksheets
    assert applications.title == ZH("export.sheet.applications")
    header = [c.value for c in applications[1]]
    assert header[:3] == [ZH("export.col.id"), ZH("export.col.user"), ZH("export.col.version")]
    assert ZH("label.cluster") in header and ZH("label.rd_ratio_3y") in header
    rows = list(applications.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 10  # programme applications, every version; survey responses are not
    eligible = next(r for r in rows if r[1] == population.eligible[0])
    assert eligible[header.index(ZH("label.cluster"))] == ZH("cluster.robotics")
    assert eligible[header.index(ZH("export.col.verdict"))] == ZH("result.eligible")
    assert eligible[header.index(ZH("label.rd_ratio_3y"))] == pytest.approx(0.0513)
    # What a user typed is never a formula.
    name_column = header.index(ZH("label.enterprise_name")) + 1
    typed = next(
        applications.cell(row=i, column=name_column)
        for i in range(2, len(rows) + 2)
        if applications.cell(row=i, column=name_column).value
    )
    assert (typed.value, typed.data_type) == ("=1+1 公司", "s")
    flagged = next(r for r in rows if r[1] == population.not_eligible[0] and r[2] == 2)
    reasons = flagged[header.index(plain(ZH("result.heading.disqualify")))]
    assert "X1" in reasons
    assert users.max_row == len(population.everyone) + 3  # header, unreachable, admin
    user_header = [c.value for c in users[1]]
    admin_row = next(r for r in users.iter_rows(min_row=2, values_only=True) if r[0] == ADMIN)
    assert admin_row[user_header.index(ZH("export.col.admin"))] == ZH("button.yes")
    assert admin_row[user_header.index(ZH("export.col.channel"))] == ZH("office.channel.telegram")


async def test_broadcast_from_the_terminal(
    router: Router, population: Population, database_url: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=database_url, bot_token="123:telegram-deployment")

    def args(**values: object) -> argparse.Namespace:
        base = {"text": None, "text_file": None, "photo": None, "document": None}
        return argparse.Namespace(**{**base, **values})

    poster = tmp_path / "通知.pdf"
    poster.write_bytes(b"%PDF-1.4 notice")
    said = await run_broadcast_command(
        settings,
        args(
            action="send",
            audience="flag:rd_ratio_low",
            text="<b>请补充</b>研发说明",
            document=poster,
            yes=True,
            wait=False,
        ),
    )
    assert said == plain(ZH("broadcast.queued_offline", id=1, count=2))
    async with router.context.sessions() as session:
        job = await broadcast_jobs.get_broadcast(session, 1)
    assert job is not None
    assert (job.media_kind, job.media_filename, job.media_content) == (
        "document",
        "通知.pdf",
        b"%PDF-1.4 notice",
    )
    assert job.status_chat_id is None and job.total == 2
    listed = await run_broadcast_command(settings, args(action="list"))
    assert "#1 · " + ZH("broadcast.state.running") in listed
    paused = await run_broadcast_command(settings, args(action="pause", id=1))
    assert paused == plain(ZH("broadcast.paused", id=1, count=2))
    with pytest.raises(SettingsError, match="#1"):
        await run_broadcast_command(settings, args(action="pause", id=1))
    cancelled = await run_broadcast_command(settings, args(action="cancel", id=1))
    assert cancelled == plain(ZH("broadcast.cancelled", id=1, count=2))
    for wrong, problem in [
        ({"audience": "eligble", "text": "x"}, "eligble"),
        ({"audience": "all", "text": "<div>x</div>"}, "<div>"),
        ({"audience": "all", "text": "x", "photo": tmp_path / "missing.png"}, "missing.png"),
        ({"audience": "language:fr", "text": "x"}, "language:fr"),
    ]:
        with pytest.raises(SettingsError, match=problem):
            await run_broadcast_command(
                settings, args(action="send", yes=True, wait=False, **wrong)
            )


async def test_export_opens_ready_to_read(router: Router, population: Population) -> None:
    admin = Chat(router, ADMIN)
    await admin.send("/export")
    document = admin.last[0].document
    assert document is not None
    applications, users = load_workbook(io.BytesIO(document.content)).worksheets
    for sheet in (applications, users):
        assert sheet.freeze_panes == "B2"  # the header row and the first column stay
        assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}" \
            f"{sheet.max_row}"  # fmt: skip
    header = [c.value for c in applications[1]]

    def column(title: str) -> str:
        return applications.cell(1, header.index(title) + 1).column_letter

    assert column_width(applications, column(ZH("export.col.submitted"))) >= 16
    name = column(ZH("label.enterprise_name"))
    # As wide as the longest name, each Chinese character taking two columns.
    names = [str(c.value or "") for c in applications[name]]
    longest = max(sum(1 + (ord(ch) > 0x2E80) for ch in text) for text in names)
    assert column_width(applications, name) >= longest
    ratio = applications[f"{column(ZH('label.rd_ratio_3y'))}2"]
    assert ratio.number_format == "0.00%" and isinstance(ratio.value, float)
