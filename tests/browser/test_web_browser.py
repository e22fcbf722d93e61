"""The web chat in a real headless Chromium at a phone's size: an interview in Chinese,
a survey from its address, a draft downloaded. Screenshots are kept in
test-artifacts/browser/ (the run's artifacts); no request leaves 127.0.0.1 and the
console shows no error."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from docx import Document as Docx

from forms.definition import Form
from handlers.kernel.render import plain
from handlers.training.survey import survey_form
from locales import translator
from testkit.answers import ELIGIBLE_ZH
from testkit.chat import run_interview
from testkit.telegram import free_port
from testkit.web import answer_survey_in_pages
from tests.browser.chromium import Browser, checked, chromium_paths

t = translator("zh_CN")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """``patentbot web`` as deployed, on a free port of 127.0.0.1."""
    chromium_paths()  # skip (or, in CI, fail) before starting anything
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "WEB_"))}
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "WEB_LISTEN": f"127.0.0.1:{port}",
        "PUBLIC_URL": url,
        "DEFAULT_LOCALE": "zh_CN",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "web"], env=env, cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert server.stdout is not None
    line = server.stdout.readline()  # "… open http://…": it listens
    assert url in line, line
    yield url, env
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture
def browser(
    site: tuple[str, dict[str, str]], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Browser]:
    with checked(site[0], tmp_path / "downloads", ARTIFACTS / request.node.name) as chrome:
        yield chrome


async def test_an_interview_in_chinese_on_a_phone(browser: Browser, form: Form) -> None:
    browser.open("/")
    assert browser.driver.find_element("tag name", "html").get_attribute("lang") == "zh-CN"
    assert plain(t("privacy.notice_web")) in browser.text
    browser.shot("1-welcome")
    await browser.press(t("button.apply"))
    browser.shot("2-first-question")
    width = browser.driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390  # nothing wider than the phone: no sideways scrolling
    result = await run_interview(browser, form, ELIGIBLE_ZH)
    browser.shot("3-result")
    assert plain(t("result.eligible")) in result


async def test_a_survey_answered_from_its_address(
    browser: Browser, site: tuple[str, dict[str, str]], form: Form, tmp_path: Path
) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "bot.cli", "event", "new", "--title", "专利培训会",
         "--date", "2024-10-08", "--place", "南沙", "--out-dir", str(tmp_path)],
        env=site[1], cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    address = made.stdout.split("\n")[1]
    assert address.startswith(site[0] + "/s/")
    browser.open(address.removeprefix(site[0]))
    browser.shot("1-survey")
    await answer_survey_in_pages(browser, survey_form(form), "非常满意")
    browser.shot("2-thanks")
    report = subprocess.run(
        [sys.executable, "-m", "bot.cli", "report", address.rsplit("/", 1)[1],
         "--out-dir", str(tmp_path)],
        env=site[1], cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert t("report.valid", count=1) in report.stdout


async def test_a_draft_downloads(browser: Browser, form: Form, tmp_path: Path) -> None:
    browser.open("/")
    await browser.press(t("button.apply"))
    await run_interview(browser, form, ELIGIBLE_ZH)
    await browser.send("/draft")
    await browser.press(t("button.draft_now"))
    browser.shot("1-draft")
    browser.driver.find_element("css selector", ".file a").click()
    downloads = tmp_path / "downloads"
    deadline = time.monotonic() + 30
    while not list(downloads.glob("*.docx")):  # waits for the file, it does not time it
        assert time.monotonic() < deadline, list(downloads.iterdir()) if downloads.exists() else []
        time.sleep(0.2)
    (document,) = downloads.glob("*.docx")
    assert document.name.endswith("第1版.docx")
    text = "\n".join(p.text for p in Docx(str(document)).paragraphs)
    assert ELIGIBLE_ZH["enterprise_name"] in text
