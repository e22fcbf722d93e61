"""A real headless Chromium (Debian's, driven by Selenium through Debian's chromedriver)
on the web chat, at a phone's size, with the same surface as testkit/chat.Chat so the
conversation helpers drive it; nothing it loads may come from outside 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from handlers.kernel.types import Button

PHONE = (390, 844)  # CSS pixels of a common phone


def chromium_paths() -> tuple[str, str]:
    """(chromium, chromedriver); CI must have them (.ci/run installs them), elsewhere the
    browser tests are skipped with what to install."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    advice = "apt-get install chromium chromium-driver"
    if os.environ.get("CI"):
        pytest.fail(f"no Chromium in CI: .ci/run must {advice}")
    pytest.skip(f"no Chromium here ({advice})")


class Browser:
    def __init__(self, base: str, downloads: Path, shots: Path, language: str = "zh-CN") -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        chromium, driver = chromium_paths()
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for argument in (
            "--headless=new",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            f"--window-size={PHONE[0]},{PHONE[1]}",
            f"--lang={language}",
            # Every host but the test server's resolves to nothing: no request can leave.
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        ):
            options.add_argument(argument)
        options.add_experimental_option("prefs", {"intl.accept_languages": language})
        # Headless windows are at least 500 px wide: a phone's viewport is emulated.
        metrics = {"width": PHONE[0], "height": PHONE[1], "pixelRatio": 2}
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics})
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        self.driver = webdriver.Chrome(options=options, service=Service(driver))
        self.driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
        self.base = base.rstrip("/")
        self.shots = shots
        self.language_code = language
        self.requested: list[str] = []
        self.console: list[dict[str, Any]] = []

    def close(self) -> None:
        self._collect_logs()
        self.driver.quit()

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    def shot(self, name: str) -> Path:
        """Keep what the page looks like now, as a test artifact."""
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def _collect_logs(self) -> None:
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                self.requested.append(message["params"]["request"]["url"])
        self.console += self.driver.get_log("browser")

    def outside_requests(self) -> list[str]:
        self._collect_logs()
        return [u for u in self.requested if not u.startswith(("http://127.0.0.1", "data:"))]

    def console_errors(self) -> list[dict[str, Any]]:
        self._collect_logs()
        return [e for e in self.console if e.get("level") == "SEVERE"]

    # --- what testkit/chat.py's helpers use -------------------------------------------

    def _buttons(self) -> list[Any]:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, ".buttons button")

    def keyboard(self) -> list[Button]:
        from selenium.webdriver.common.by import By

        found = []
        for button in self._buttons():
            form = button.find_element(By.XPATH, "./ancestor::form")
            data = form.find_element(By.NAME, "data").get_attribute("value") or ""
            found.append(Button(button.text.strip(), data))
        return found

    def _then_next_page(self, act: Any) -> None:
        """Do something that posts a form, and wait for the page the redirect brings."""
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.wait import WebDriverWait

        old = self.driver.find_element(By.TAG_NAME, "html")
        act()

        def replaced(driver: Any) -> bool:
            try:
                old.is_enabled()  # chromedriver says "stale", or sometimes "no such node"
            except WebDriverException:
                return driver.execute_script("return document.readyState") == "complete"
            return False

        WebDriverWait(self.driver, 30).until(replaced)

    async def press(self, label: str) -> None:
        for button, seen in zip(self._buttons(), self.keyboard(), strict=True):
            if label in (seen.text, seen.data):
                self._then_next_page(button.click)
                return
        raise AssertionError(f"no button {label!r}: {[b.text for b in self.keyboard()]}")

    async def send(self, text: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        box = self.driver.find_element(By.ID, "text")
        box.send_keys(text)
        self._then_next_page(lambda: box.send_keys(Keys.ENTER))

    @property
    def text(self) -> str:
        from selenium.webdriver.common.by import By

        sections = self.driver.find_elements(By.CSS_SELECTOR, "section.message .text")
        return "\n".join(s.text for s in sections)


@contextmanager
def checked(base: str, downloads: Path, shots: Path) -> Iterator[Browser]:
    """A browser at ``base`` that, when the test is done, must not have asked anything of
    another host nor logged a console error."""
    chrome = Browser(base, downloads, shots)
    yield chrome
    outside, errors = chrome.outside_requests(), chrome.console_errors()
    chrome.close()
    assert not outside, f"requests left 127.0.0.1: {outside}"
    assert not errors, f"the browser console shows errors: {errors}"
