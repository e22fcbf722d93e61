"""The office pages in the same real headless Chromium as the web chat: an officer signs
in with the link the terminal printed, creates an event, and sees an attendee's answers
arrive in its report. Screenshots go to test-artifacts/browser/."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from selenium.webdriver.common.by import By

from forms.definition import Form
from handlers.survey import survey_form
from locales import translator
from models.db import connect
from models.tables import User
from testkit.web import answer_survey_in_pages
from tests.browser import Browser
from tests.test_web_browser import browser, site  # noqa: F401  (the fixtures)

t = translator("zh_CN")


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
    browser.open("/")  # this browser is a web visitor of the chat too
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
    assert "/office/broadcasts/1/" in browser.driver.page_source  # pause and cancel
    browser.shot("2-broadcast-jobs")

    browser.open("/")
    notice = browser.driver.find_element(By.CSS_SELECTOR, "section.broadcast b")
    assert notice.text == "培训改期"
    browser.shot("3-web-notice")
