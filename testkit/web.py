"""Drive the web chat the way a browser without JavaScript does: read the page, post its
forms, follow the redirect. Same surface as testkit/chat.Chat (send, press, text,
keyboard), so the conversation helpers work on the web too."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import aiohttp
from yarl import URL

from forms.definition import Form
from handlers.render import plain
from handlers.types import Button
from locales import translator
from testkit.chat import current_question


@dataclass
class Page:
    status: int
    html: str
    messages: list[str] = field(default_factory=list)  # each message's text as shown
    buttons: list[Button] = field(default_factory=list)
    hidden: dict[str, str] = field(default_factory=dict)  # csrf, step
    links: list[str] = field(default_factory=list)  # href and src
    lang: str = ""


class _Reader(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__()
        self.page = page
        self.depth = 0  # inside <section class="message">
        self.text: list[str] = []
        self.in_button = False
        self.form: dict[str, str] = {}
        self.label: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.page.lang = a.get("lang", "")
        if tag == "section" and a.get("class") == "message":
            self.depth, self.text = 1, []
        elif self.depth and tag == "section":
            self.depth += 1
        if tag == "br" and self.depth:
            self.text.append("\n")
        if tag in ("a", "img", "link", "script"):
            self.page.links.append(a.get("href") or a.get("src") or "")
        if tag == "form":
            self.form = {"action": a.get("action", "")}
        if tag == "input" and a.get("type") == "hidden":
            self.form[a.get("name", "")] = a.get("value", "")
            if a.get("name") in ("csrf", "step"):
                self.page.hidden[a["name"]] = a.get("value", "")
        if tag == "button":
            self.in_button, self.label = True, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self.in_button = False
            if self.form.get("action") == "/press":
                self.page.buttons.append(Button("".join(self.label).strip(), self.form["data"]))
        if tag == "section" and self.depth:
            self.depth -= 1
            if not self.depth:
                self.page.messages.append("".join(self.text).strip())

    def handle_data(self, data: str) -> None:
        if self.in_button:
            self.label.append(data)
        elif self.depth:
            self.text.append(data)


def read_page(status: int, html: str) -> Page:
    page = Page(status, html)
    _Reader(page).feed(html)
    return page


class WebVisitor:
    """One browser: its own cookie jar, the page it shows, the forms on it."""

    def __init__(self, base: URL, language: str = "zh-CN,zh;q=0.9", agent: str = "") -> None:
        self.base = base
        self.language_code = language.split(",")[0]
        headers = {"Accept-Language": language, "User-Agent": agent or "Mozilla/5.0"}
        self.http = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), headers=headers
        )
        self.page = Page(0, "")

    async def close(self) -> None:
        await self.http.close()

    async def get(self, path: str = "/") -> Page:
        async with self.http.get(self.base.join(URL(path))) as response:
            self.page = read_page(response.status, await response.text())
        return self.page

    async def post(self, path: str, form: dict[str, str]) -> Page:
        """Post a form and follow the redirect, as a browser does."""
        async with self.http.post(self.base.join(URL(path)), data=form) as response:
            self.page = read_page(response.status, await response.text())
        return self.page

    async def send(self, text: str) -> Page:
        return await self.post("/say", {**self.page.hidden, "text": text})

    async def press(self, label: str) -> Page:
        button = next((b for b in self.page.buttons if label in (b.text, b.data)), None)
        assert button is not None, f"no button {label!r}: {[b.text for b in self.page.buttons]}"
        return await self.post("/press", {**self.page.hidden, "data": button.data})

    def keyboard(self) -> list[Button]:
        return self.page.buttons

    @property
    def text(self) -> str:
        return "\n".join(self.page.messages)

    def cookie(self) -> str | None:
        found = self.http.cookie_jar.filter_cookies(self.base).get("patentbot")
        return None if found is None else found.value


async def answer_survey_in_pages(page: Any, survey: Form, level: str) -> None:
    """Rate every item ``level``, skip the open questions, submit: on a page, which shows
    only the newest step (the chat's answer_survey also presses buttons still on screen)."""
    t = translator("zh_CN")
    review = plain(t("survey.review_title"))
    while review not in page.text:
        qid = current_question(survey, "zh_CN", page.text)
        await page.press(t("button.skip") if qid in ("comment", "topics") else level)
    await page.press(t("button.survey_submit"))
