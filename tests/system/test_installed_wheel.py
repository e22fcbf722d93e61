"""The product as a newcomer installs it: a wheel built from the tree, installed with its
dependencies into a fresh virtualenv outside the checkout, ``patentbot`` started from an
empty folder. An editable install (the one the other tests use) reads templates, catalogs
and migrations from the checkout and would hide what the package data leaves out.

Through every page an officer and an applicant open: the chat and a whole interview, an
event's survey, the officer's sign-in link from ``patentbot admins add``, every office
page and file, the draft application downloaded from the office and opened back."""

from __future__ import annotations

import asyncio
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from docx import Document
from yarl import URL

from forms.definition import programme
from locales import translator
from testkit.answers import ELIGIBLE_ZH
from testkit.chat import run_interview
from testkit.office import Officer
from testkit.telegram import free_port
from testkit.web import Page, WebVisitor

pytestmark = [pytest.mark.system, pytest.mark.timeout(600)]

REPOSITORY = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "forms", "models", "locales", "templates")
ZH = translator("zh_CN")
ERROR = ZH("error.internal")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from a copy of the files git tracks, as a clone has them: a build in the
    checkout would reuse what an earlier build left in build/."""
    tree, dist = tmp_path_factory.mktemp("tree"), tmp_path_factory.mktemp("dist")
    for name in git_files():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPOSITORY / name, tree / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(tree)],
        check=True, capture_output=True,
    )  # fmt: skip
    return next(dist.glob("patentbot-*.whl"))


def git_files(*under: str) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *under],
        cwd=REPOSITORY, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [name for name in listed.stdout.splitlines() if (REPOSITORY / name).is_file()]


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``patentbot`` command of a fresh virtualenv that has the wheel and its
    dependencies, and nothing of the checkout."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)]
    subprocess.run(pip, check=True, capture_output=True)
    return venv / "bin" / "patentbot"


def test_the_wheel_carries_every_file_the_packages_hold(wheel: Path) -> None:
    carried = set(zipfile.ZipFile(wheel).namelist())
    left_out = [f for f in git_files(*PACKAGES) if f not in carried and not f.endswith(".md")]
    assert left_out == []


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty folder, as a newcomer's, where the bot keeps its database."""
    return tmp_path_factory.mktemp("newcomer")


@pytest.fixture(scope="module")
def environment() -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return keep | {"WEB_LISTEN": f"127.0.0.1:{free_port()}"}


def patentbot(installed: Path, folder: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(installed), *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def serving(installed: Path, folder: Path, environment: dict[str, str]) -> Iterator[URL]:
    process = subprocess.Popen(
        [str(installed)], cwd=folder, env=environment,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    first = process.stdout.readline()  # the address to open, once it listens
    address = re.search(r"http://127\.0\.0\.1:\d+", first)
    try:
        assert address, first + (process.stderr.read() if process.stderr else "")
        yield URL(address.group(0))
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=30)
        assert "TemplateNotFound" not in errors and "Traceback" not in errors, errors


class Person(WebVisitor):
    """A visitor who answers at a person's pace: the installed bot keeps its rate limits."""

    async def post(self, path: str, form: dict[str, str]) -> Page:
        await asyncio.sleep(0.6)
        return await super().post(path, form)


@pytest.fixture
async def visitor(serving: URL) -> AsyncIterator[WebVisitor]:
    browser = Person(serving)
    yield browser
    await browser.close()


@pytest.fixture
async def officer(serving: URL) -> AsyncIterator[Officer]:
    browser = Officer(serving)
    yield browser
    await browser.close()


async def test_an_applicant_an_attendee_and_an_officer_on_the_installed_wheel(
    installed: Path, folder: Path, environment: dict[str, str], serving: URL,
    visitor: WebVisitor, officer: Officer,
) -> None:  # fmt: skip
    run = asyncio.to_thread
    made = await run(
        patentbot, installed, folder, environment,
        "event", "new", "--title", "专利导航培训", "--date", "2024-10-08", "--place", "南沙",
    )  # fmt: skip
    code = made.split()[0]
    added = await run(patentbot, installed, folder, environment, "admins", "add", "审核员")
    link = re.search(r"http://\S+/office/signin/\S+", added)
    assert link, added

    # The applicant: the chat, its files, a whole interview.
    page = await visitor.get("/")
    assert page.status == 200 and page.hidden.get("csrf"), page.html
    for path in page.links:
        if path.startswith("/static/"):
            async with visitor.http.get(serving.join(URL(path))) as response:
                assert response.status == 200, path
    await visitor.send("/apply")
    await run_interview(visitor, programme("nansha-2024"), ELIGIBLE_ZH)
    assert ERROR not in visitor.text

    # An attendee: the event's code, scanned.
    attendee = WebVisitor(serving)
    try:
        survey = await attendee.get(f"/s/{code}")
        assert survey.status == 200 and survey.buttons, survey.html
    finally:
        await attendee.close()

    # The officer: signed in by the printed link, every page and file.
    await officer.sign_in(link.group(0))
    pages = [
        "/office/", "/office/applications", "/office/events", "/office/audit",
        "/office/broadcasts", "/office/broadcasts/new", "/office/static/office.css",
    ]  # fmt: skip
    for path in pages:
        await officer.get(path)
        assert officer.status == 200 and ERROR not in officer.html, (path, officer.html)
    listed = re.findall(r'href="(/office/applications/\d+)"', (await officer.get(pages[1])))
    event = re.search(r'href="(/office/events/\d+)"', await officer.get("/office/events"))
    assert listed and event
    for path in [listed[0], event.group(1)]:
        await officer.get(path)
        assert officer.status == 200 and ERROR not in officer.html, (path, officer.html)
    files = {
        f"{event.group(1)}/qr.png": b"\x89PNG",
        f"{event.group(1)}/chart.png": b"\x89PNG",
        f"{event.group(1)}/report.xlsx": b"PK",
    }
    for path, magic in files.items():
        await officer.get(path)
        assert officer.status == 200 and officer.body.startswith(magic), path
    await officer.get("/office/")
    await officer.post("/office/export.xlsx", {})  # the nav's button, with the page's token
    assert officer.status == 200 and officer.body.startswith(b"PK")

    await officer.get(listed[0])
    await officer.post(f"{listed[0]}/draft", {"locale": "zh_CN"})
    assert officer.status == 200, officer.html
    document = Document(io.BytesIO(officer.body))
    assert ELIGIBLE_ZH["enterprise_name"] in "\n".join(p.text for p in document.paragraphs)

    # A notice from the office, with no Telegram: in the applicant's inbox, the job done.
    await officer.get("/office/broadcasts/new")
    await officer.post("/office/broadcasts", {"text": "请于周五前提交材料", "audience": "all"})
    assert officer.status == 200, officer.html
    for _ in range(100):  # the delivery runner of the serving process ends the job
        if ZH("broadcast.state.done") in await officer.get("/office/broadcasts"):
            break
        await asyncio.sleep(0.1)
    assert ZH("broadcast.state.done") in officer.html, officer.html
    assert "请于周五前提交材料" in (await visitor.get("/")).html
