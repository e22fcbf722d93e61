"""Audiences, a whole delivery, statistics and the export on PostgreSQL, where a server
answers (the SQL differs: FILTER, JSON columns, compare-and-set updates)."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from bot.delivery.outbox import Delivery
from forms.definition import Form
from handlers.admin import export
from handlers.admin.stats import stats_text
from handlers.kernel.context import Context
from locales import translator
from models import audiences, broadcast_jobs
from models.db import connect
from models.tables import Broadcast, Channel
from tests.broadcast_helpers import PROGRAMME, ROUTES, MemorySender, populate, wait_for_status
from tests.chat.test_postgres import postgres_url  # noqa: F401  (the fixture)


async def test_broadcasts_stats_and_export_on_postgresql(
    postgres_url: str,  # noqa: F811
    form: Form,
) -> None:
    engine, sessions = await connect(postgres_url)
    try:
        population = await populate(sessions, start=7_000_000_001)  # ids beyond 32 bits
        sender = MemorySender()
        context = Context(sessions=sessions, form=form, sender=sender, broadcast_rate=200)
        async with sessions() as session:
            for audience, users in [
                ("eligible", population.eligible + population.points),
                ("flag:prior_project", population.not_eligible),
                (f"event:{population.event_id}", population.attendees),
                ("unfinished", population.unfinished),
            ]:
                parsed = audiences.Audience.parse(audience)
                reach = await audiences.reach(session, parsed, PROGRAMME, ROUTES)
                assert reach.routes[Channel.TELEGRAM] == len(users), audience
            job = await broadcast_jobs.create_broadcast(
                session,
                Broadcast(text="通知", locale="zh_CN"),
                audiences.Audience("all"),
                PROGRAMME,
                ROUTES,
            )
            await session.commit()
        runner = Delivery(context, poll_seconds=0.1)
        runner.start()
        try:
            await wait_for_status(sessions, job.id or 0)
        finally:
            await runner.stop()
        assert all(sender.received(u) == 1 for u in population.everyone)
        t = translator("zh_CN")
        async with sessions() as session:
            text = await stats_text(session, form, t)
            content, applications, _ = await export.workbook(session, form, t, frozenset())
        assert t("stats.verdicts", eligible=2, points=2, not_eligible=2) in text
        assert "智能机器人：2 / 2" in text
        assert applications == 10
        assert load_workbook(io.BytesIO(content)).worksheets[0].max_row == 11
    finally:
        await engine.dispose()
