"""How long writing a draft application takes (issue: p95 ≤ 150 ms).

    .venv/bin/python -m bench.draft_speed [--runs 100]

Measures, for a complete application (every interview answer and every draft detail):
  render   — render_draft alone: load the template, fill it, save the .docx (in memory);
  chat     — the whole /draft turn through the router: read the answers and flags from
             SQLite, render, record the Draft row, commit;
and the wall time of 100 drafts in a row (the chat path). No timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from forms.definition import programme
from handlers.applicant.draft import details_form, draft_input
from handlers.applicant.draft_document import render_draft
from handlers.kernel.context import Context
from handlers.kernel.router import Router
from handlers.kernel.types import Event
from locales import translator
from models import queries
from models.db import connect
from testkit.answers import ELIGIBLE_ZH
from testkit.chat import Chat, run_interview


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def main(runs: int) -> None:
    t = translator("zh_CN")
    form = programme("nansha-2024")
    with tempfile.TemporaryDirectory() as tmp:
        engine, sessions = await connect(f"sqlite:///{Path(tmp) / 'bench.db'}")
        router = Router(Context(sessions=sessions, form=form))
        chat = Chat(router, 1)
        await chat.send("/apply")
        await run_interview(chat, form, ELIGIBLE_ZH)
        await chat.press(t("button.draft"))
        await chat.press(t("button.fill_details"))
        details = details_form(form)
        for question in details.questions:  # a complete application: every detail given
            answer = {"yes_no": "是", "integer": "20", "number": "8000"}.get(question.type, "示例")
            if question.type == "yes_no":
                await chat.press(answer)
            else:
                await chat.send(answer)
        async with sessions() as session:
            application = await queries.latest_submitted(session, 1, form.id)
            assert application is not None
            data = await draft_input(form, session, application)

        render_times = []
        for _ in range(runs):
            start = time.perf_counter()
            render_draft(data, t)
            render_times.append((time.perf_counter() - start) * 1000)

        chat_times = []
        wall = time.perf_counter()
        for _ in range(runs):
            start = time.perf_counter()
            replies = await router.handle(Event.message(1, 1, "/draft"))
            chat_times.append((time.perf_counter() - start) * 1000)
            assert any(r.document for r in replies)
        wall_ms = (time.perf_counter() - wall) * 1000
        await engine.dispose()

    print(f"runs: {runs}")
    for name, samples in (("render", render_times), ("chat /draft", chat_times)):
        print(
            f"{name:12} p50 {statistics.median(samples):6.1f} ms   "
            f"p95 {percentile(samples, 95):6.1f} ms   max {max(samples):6.1f} ms"
        )
    print(f"{runs} drafts in a row (chat path): {wall_ms / 1000:.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100)
    asyncio.run(main(parser.parse_args().runs))
