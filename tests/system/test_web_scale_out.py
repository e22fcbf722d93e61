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
from sqlmodel import select
from yarl import URL

from forms.definition import Form
from handlers.kernel.render import plain
from handlers.training.survey import survey_form
from locales import translator
from models.db import connect
from models.tables import TrainingEvent
from testkit.answers import ELIGIBLE_ZH
from testkit.chat import run_interview
from testkit.office import Officer
from testkit.telegram import free_port
from testkit.web import WebVisitor, answer_survey_in_pages
from tests.chat.test_office import add_officer
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


async def test_a_survey_answered_across_both_and_its_report_on_the_officers_page(
    two_processes: list[URL],
    form: Form,
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """An attendee skips the optional questions (stored as JSON null): the report of the
    event once failed on PostgreSQL alone, which is what a deployment like this runs on."""
    officer = Officer(two_processes[1])
    await officer.sign_in(await add_officer("王芳", postgres_url, tmp_path))
    fields = {"title": "专利培训会", "event_date": "2024-10-08", "place": "南沙"}
    await officer.post("/office/events", fields)
    assert officer.status == 200, officer.html
    engine, sessions = await connect(postgres_url)
    async with sessions() as session:
        event = (await session.exec(select(TrainingEvent))).one()
    await engine.dispose()

    attendee = Alternating(two_processes)
    await attendee.get(f"/s/{event.code}")
    await answer_survey_in_pages(attendee, survey_form(form), "非常满意")
    await attendee.close()
    await officer.get(f"/office/events/{event.id}")
    assert officer.status == 200, officer.html
    assert t("report.valid", count=1) in officer.html
    await officer.close()
