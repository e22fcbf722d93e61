"""How long an event's report takes for 10,000 responses (issue: ≤ 1 s).

    .venv/bin/python -m bench.report_speed [--responses 10000] [--runs 5]

The responses are written straight into a fresh SQLite database (7 answers each), then
timed: reading them (one query), computing the figures, drawing the chart (PNG), and
writing the spreadsheet (summary + one row per response). No timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert

from forms.definition import programme
from handlers.training.events import create_event, load_report
from handlers.training.report import chart_png, report_text, report_xlsx
from handlers.training.survey import survey_form
from locales import translator
from models.db import connect
from models.tables import Answer, Application


async def main(responses: int, runs: int) -> None:
    t = translator("zh_CN")
    form = programme("nansha-2024")
    survey = survey_form(form)
    rng = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        engine, sessions = await connect(f"sqlite:///{Path(tmp) / 'bench.db'}")
        async with sessions() as session:
            event = await create_event(
                session, form, title="培训会", event_date=date(2024, 10, 8), place="南沙",
                closes_at=None, created_by=0,
            )  # fmt: skip
            now = datetime.now(UTC)
            apps = [
                {"user_id": 10_000 + n, "event_id": event.id, "programme_id": survey.id,
                 "programme_version": 1, "version": 1, "status": "submitted",
                 "created_at": now, "submitted_at": now}
                for n in range(responses)
            ]  # fmt: skip
            await session.exec(insert(Application), params=apps)  # type: ignore[call-overload]
            await session.flush()
            answers = []
            for app_id in range(1, responses + 1):
                for q in survey.questions:
                    value = (
                        rng.choice("5554432")
                        if q.options
                        else ("很好" if q.id == "comment" else None)
                    )
                    answers.append({"application_id": app_id, "question_id": q.id, "value": value,
                                    "answered_at": now})  # fmt: skip
            await session.exec(insert(Answer), params=answers)  # type: ignore[call-overload]
            await session.commit()

        timings: dict[str, list[float]] = {"read": [], "chart": [], "xlsx": [], "total": []}
        for _ in range(runs):
            start = time.perf_counter()
            async with sessions() as session:
                report = await load_report(session, form, event)
            read = time.perf_counter()
            report_text(t, report)
            chart_png(t, report)
            chart = time.perf_counter()
            report_xlsx(t, report)
            done = time.perf_counter()
            timings["read"].append(read - start)
            timings["chart"].append(chart - read)
            timings["xlsx"].append(done - chart)
            timings["total"].append(done - start)
        await engine.dispose()
    assert report.valid == responses
    print(
        f"{responses} responses, {runs} runs (the first includes loading matplotlib and the font)"
    )
    for name, samples in timings.items():
        print(f"{name:6} median {statistics.median(samples) * 1000:7.0f} ms   "
              f"first {samples[0] * 1000:7.0f} ms   max {max(samples) * 1000:7.0f} ms")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--responses", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.responses, args.runs))
