"""The office pages in the same real headless Chromium as the web chat: an officer signs
in with the link the terminal printed, creates an event, and sees an attendee's answers
arrive in its report. Screenshots go to test-artifacts/browser/."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from selenium.webdriver.common.by import By

from forms.definition import Form
from handlers.training.survey import survey_form
from locales import translator
from models.db import connect
from models.tables import User
from testkit.fake_bot_api import FakeBotAPI
from testkit.telegram import TOKEN, free_port
from testkit.web import answer_survey_in_pages
from tests.browser.chromium import Browser, checked, chromium_paths
from tests.browser.test_web_browser import ARTIFACTS, browser, site  # noqa: F401  (the fixtures)

t = translator("zh_CN")
T = TypeVar("T")


def submit(chrome: Browser, selector: str) -> None:
    button = chrome.driver.find_element(By.CSS_SELECTOR, selector)
    chrome._then_next_page(button.click)


async def test_an_officer_signs_in_creates_an_event_and_sees_its_report(
    browser: Browser,  # noqa: F811
    site: tuple[str, dict[str, str]],  # noqa: F811
    form: Form,
    tmp_path: Path,
) -> None:
    added = subprocess.run(
        [sys.executable, "-m", "bot.cli", "admins", "add", "王芳"],
        env=site[1], cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    found = re.search(r"http\S+/office/signin/\S+", added.stdout)
    assert found and found.group(0).startswith(site[0]), added.stdout

    browser.open("/office/")  # not signed in: the way in, no data
    assert t("office.signin.how") in browser.driver.page_source
    browser.open(found.group(0).removeprefix(site[0]))
    browser.shot("1-sign-in")
    submit(browser, "form[action='/office/signin'] button")
    assert t("office.overview.users") in browser.driver.page_source
    browser.shot("2-overview")

    browser.open("/office/events")
    fields = {"title": "专利培训会", "event_date": "2024-10-08", "place": "南沙"}
    for name, value in fields.items():
        box = browser.driver.find_element(By.ID, name)
        if box.get_attribute("type") == "date":  # typed as the date picker takes it
            browser.driver.execute_script("arguments[0].value = arguments[1]", box, value)
        else:
            box.send_keys(value)
    submit(browser, "form[action='/office/events'] button")
    page = browser.driver.page_source
    assert "专利培训会" in page and t("report.valid", count=0) in page
    address = re.search(re.escape(site[0]) + r"/s/[a-z0-9]+", page)
    assert address, page
    qr = browser.driver.find_element(By.CSS_SELECTOR, "img.qr")
    assert browser.driver.execute_script("return arguments[0].naturalWidth", qr) > 100
    browser.shot("3-event")
    event_page = browser.driver.current_url

    browser.open(address.group(0).removeprefix(site[0]))  # an attendee scans the code
    await answer_survey_in_pages(browser, survey_form(form), "非常满意")

    browser.driver.get(event_page)
    page = browser.driver.page_source
    assert t("report.valid", count=1) in page
    chart = browser.driver.find_element(By.CSS_SELECTOR, ".report img")
    assert browser.driver.execute_script("return arguments[0].naturalWidth", chart) > 100
    browser.shot("4-report")


async def test_an_officer_broadcasts_from_the_page_and_a_web_visitor_sees_it(
    browser: Browser,  # noqa: F811
    site: tuple[str, dict[str, str]],  # noqa: F811
    tmp_path: Path,
) -> None:
    engine, sessions = await connect(site[1]["DATABASE_URL"])
    async with sessions() as session:  # someone who started the bot on Telegram
        session.add(User(id=50_000, chat_id=50_000, locale="zh_CN"))
        await session.commit()
    await engine.dispose()
    browser.open("/")  # this browser is a web visitor of the chat too, from its first
    await browser.press(t("button.help"))  # answer (a look stores nothing)
    added = subprocess.run(
        [sys.executable, "-m", "bot.cli", "admins", "add", "王芳"],
        env=site[1], cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    found = re.search(r"http\S+/office/signin/\S+", added.stdout)
    assert found, added.stdout
    browser.open(found.group(0).removeprefix(site[0]))
    submit(browser, "form[action='/office/signin'] button")

    browser.open("/office/broadcasts/new")
    browser.driver.find_element(By.ID, "text").send_keys("<b>培训改期</b>\n详见通知")
    submit(browser, "form[action='/office/broadcasts/preview'] button")
    preview = browser.driver.find_element(By.CSS_SELECTOR, ".bot-text b")
    assert preview.text == "培训改期"  # rendered, as recipients see it
    browser.shot("1-broadcast-preview")
    submit(browser, "form[action='/office/broadcasts'] button")
    # Listed, and (a web-only deployment) done at once: the copy waits in one inbox.
    assert t("broadcast.counts_inbox", count="1") in browser.driver.page_source
    browser.shot("2-broadcast-jobs")

    browser.open("/")
    notice = browser.driver.find_element(By.CSS_SELECTOR, "section.broadcast b")
    assert notice.text == "培训改期"
    browser.shot("3-web-notice")


@pytest.fixture
def telegram() -> Iterator[tuple[FakeBotAPI, Callable[[Coroutine[Any, Any, T]], T]]]:
    """The fake Bot API server on a loop of its own thread: the browser's calls block
    this one, and Telegram must answer the bot meanwhile."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=120)

    async def started() -> FakeBotAPI:
        server = FakeBotAPI(TOKEN)
        await server.start()
        return server

    server = run(started())
    yield server, run
    run(server.stop())
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


async def test_an_officer_broadcasts_to_telegram_and_watches_it_finish(
    telegram: tuple[FakeBotAPI, Callable[[Coroutine[Any, Any, Any]], Any]],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    server, run = telegram
    chromium_paths()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "WEB_"))}
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "WEB_LISTEN": f"127.0.0.1:{port}",
        "DEFAULT_LOCALE": "zh_CN",
        "BOT_TOKEN": TOKEN,
        "BOT_API_SERVER": server.base_url,
    }
    # patentbot as deployed: the web pages and Telegram in one process.
    log = tmp_path / "bot.log"  # a file, not a pipe: nobody must read it for the bot to go on
    with log.open("w") as out:
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot.cli"], env=env, cwd=tmp_path, stdout=out, stderr=out
        )
    try:
        for _ in range(180):  # "… open http://…" once it listens (aiogram imported first)
            if url in log.read_text() or bot.poll() is not None:
                break
            time.sleep(0.5)
        assert url in log.read_text(), log.read_text()
        applicant = server.user(61_001, first_name="陈", language_code="zh-hans")
        run(applicant.send("/start"))
        run(applicant.next_message(timeout=90))  # the greeting: the bot knows them now
        with checked(url, tmp_path / "downloads", ARTIFACTS / request.node.name) as chrome:
            added = subprocess.run(
                [sys.executable, "-m", "bot.cli", "admins", "add", "王芳"],
                env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            found = re.search(r"http\S+/office/signin/\S+", added.stdout)
            assert found, added.stdout
            chrome.open(found.group(0).removeprefix(url))
            submit(chrome, "form[action='/office/signin'] button")
            chrome.open("/office/broadcasts/new")
            chrome.driver.find_element(By.ID, "text").send_keys("<b>培训改期</b>")
            submit(chrome, "form[action='/office/broadcasts/preview'] button")
            submit(chrome, "form[action='/office/broadcasts'] button")
            # The runner in the same process sends it; the list shows it done (bounded).
            done = t("broadcast.state.done")
            for _ in range(60):
                chrome.open("/office/broadcasts")
                if done in chrome.driver.find_element(By.CSS_SELECTOR, "tbody").text:
                    break
                time.sleep(1)
            row = chrome.driver.find_element(By.CSS_SELECTOR, "tbody tr").text
            chrome.shot("1-broadcast-done")
            assert done in row, row
        received = run(applicant.next_message(timeout=30))
        assert "培训改期" in received.text
    finally:
        bot.terminate()
        bot.wait(timeout=30)
