"""Drive the web chat the way a browser without JavaScript does: read the page, post its
forms, follow the redirect. Same surface as testkit/chat.Chat (send, press, text,
keyboard), so the conversation helpers work on the web too; and, for the contract suite
(tests/contract/test_e2e_telegram.py), a web visitor with the fake Telegram user's surface."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

import aiohttp
from yarl import URL

from bot.app import build
from bot.pages.identity import WEB_ID_BASE, Buckets, Signer
from bot.settings import Settings
from bot.transports.web import chat as web
from forms.definition import Form
from handlers.kernel.render import plain
from handlers.kernel.types import Button
from locales import guess_locale, translator
from testkit.chat import current_question
from testkit.telegram import free_port


@dataclass
class Section:
    """One message on the page: its text, its file (a picture shown, or a link to
    download) with the file's caption, its rows of buttons."""

    text: str = ""
    caption: str = ""
    file: str = ""  # the file's address, /f/…
    photo: bool = False
    rows: list[list[Button]] = field(default_factory=list)
    edited: bool = False  # it rewrites the message whose button was pressed


@dataclass
class Page:
    status: int
    html: str
    messages: list[str] = field(default_factory=list)  # each message's text as shown
    buttons: list[Button] = field(default_factory=list)
    hidden: dict[str, str] = field(default_factory=dict)  # csrf, step
    links: list[str] = field(default_factory=list)  # href and src
    lang: str = ""
    sections: list[Section] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__()
        self.page = page
        self.depth = 0  # inside <section class="message">
        self.text: list[str] = []
        self.in_button = False
        self.form: dict[str, str] = {}
        self.label: list[str] = []
        self.part = ""  # which part of the section the text is in: text, caption

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.page.lang = a.get("lang", "")
        if tag == "section" and "message" in a.get("class", "").split():
            self.depth, self.text = 1, []
            self.page.sections.append(Section(edited="edited" in a.get("class", "").split()))
        elif self.depth and tag == "section":
            self.depth += 1
        if self.depth:
            self._in_section(tag, a)
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

    def _in_section(self, tag: str, a: dict[str, str]) -> None:
        section = self.page.sections[-1]
        if (tag, a.get("class")) in (("div", "text"), ("p", "caption")):
            self.part = str(a.get("class"))
        if (tag, a.get("class")) == ("div", "buttons"):
            section.rows.append([])
        if tag == "img" and a.get("src", "").startswith("/f/"):
            section.file, section.photo = a["src"], True
        if tag == "a" and a.get("href", "").startswith("/f/"):
            section.file = a["href"]

    def handle_endtag(self, tag: str) -> None:
        if (tag, self.part) in (("div", "text"), ("p", "caption")):
            self.part = ""
        if tag == "button":
            self.in_button = False
            if self.form.get("action") == "/press":
                button = Button("".join(self.label).strip(), self.form["data"])
                self.page.buttons.append(button)
                if self.depth and self.page.sections[-1].rows:
                    self.page.sections[-1].rows[-1].append(button)
        if tag == "section" and self.depth:
            self.depth -= 1
            if not self.depth:
                self.page.messages.append("".join(self.text).strip())

    def handle_data(self, data: str) -> None:
        if self.in_button:
            self.label.append(data)
        elif self.depth:
            self.text.append(data)
            section = self.page.sections[-1]
            if self.part == "text":
                section.text += data
            elif self.part == "caption":
                section.caption += data


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
    """Start the survey from its page (a scanned code shows it, with a button), rate every
    item ``level``, skip the open questions, submit: on a page, which shows only the newest
    step (the chat's answer_survey also presses buttons still on screen)."""
    t = translator("zh_CN")
    if any(b.text == t("button.survey_start") for b in page.keyboard()):
        await page.press(t("button.survey_start"))
    review = plain(t("survey.review_title"))
    while review not in page.text:
        qid = current_question(survey, "zh_CN", page.text)
        await page.press(t("button.skip") if qid in ("comment", "topics") else level)
    await page.press(t("button.survey_submit"))


# ---------------------------------------------------------------- the contract suite


@dataclass(frozen=True)
class WebFile:
    """A file a page offered, downloaded as the visitor would."""

    filename: str
    data: bytes
    caption: str | None


@dataclass(frozen=True)
class WebMessage:
    """One message of a page, with what the contract scenarios read of the fake Bot API's
    BotMessage. A file and its text come as two messages, as a Telegram transport sends
    them (the file with its caption first). ``edited``: the page marks it as rewriting
    the message whose button was pressed (on Telegram, an edit of that message)."""

    text: str | None
    buttons: list[list[str]]
    document: WebFile | None = None
    photo: WebFile | None = None
    edited: bool = False

    @property
    def caption(self) -> str | None:
        file = self.document or self.photo
        return None if file is None else file.caption


def web_user_id(number: int) -> int:
    """The web visitor a scenario calls ``number`` (web ids are far below Telegram's)."""
    return -(WEB_ID_BASE + number)


class WebUser:
    """A person in the web chat, with the surface of the fake Bot API's FakeUser that the
    contract scenarios use: send, press, and the bot's messages read one by one.

    Their browser holds the cookie of the visitor the scenario names (signed with the
    site's WEB_SECRET, as their first visit would have made it), so a scenario's admin is
    an admin here too. Opening the chat is the first thing a browser does: it greets, as
    /start does; what a scenario types first is typed on that page. An event's link
    (``/start survey-…`` on Telegram) is its address, /s/<code>, as scanning its QR code
    opens it."""

    def __init__(self, base: URL, signer: Signer, number: int, language_code: str | None) -> None:
        self.id = web_user_id(number)
        self.browser = WebVisitor(base, language_code or "")
        self.browser.http.cookie_jar.update_cookies({"patentbot": signer.cookie(self.id)}, base)
        self.opened = False
        self.transcript: list[WebMessage] = []
        self._read = 0
        self._log: list[str] = []

    @property
    def chat_id(self) -> int:
        return self.id

    async def send(self, text: str) -> None:
        self._log.append(f"visitor: {text}")
        if text.startswith("/start survey-"):  # the code scanned, its page's button pressed
            await self.browser.get(f"/s/{text.removeprefix('/start survey-')}")
            start = translator(guess_locale(self.browser.language_code))("button.survey_start")
            page = self.browser.page
            await self._show(await self.browser.press(start) if page.buttons else page)
        elif not self.opened:
            await self._open(shown=text == "/start")
            if text != "/start":
                await self._show(await self.browser.send(text))
        else:
            await self._show(await self.browser.send(text))
        self.opened = True

    async def press(self, label: str) -> Page:
        self._log.append(f"visitor pressed [{label}]")
        page = await self.browser.press(label)
        await self._show(page)
        return page

    async def next_message(self, timeout: float = 0) -> WebMessage:
        """The next message not yet read (a page is whole when it arrives: no wait)."""
        if self._read >= len(self.transcript):
            raise AssertionError("no new message on the page\n" + self.format_transcript())
        self._read += 1
        return self.transcript[self._read - 1]

    async def collect(
        self, until: Callable[[WebMessage], bool] | None = None, *, count: int | None = None
    ) -> list[WebMessage]:
        """Up to the first message ``until`` accepts, ``count`` of them, or all unread."""
        collected: list[WebMessage] = []
        while count is None or len(collected) < count:
            if until is None and count is None and self._read >= len(self.transcript):
                break
            collected.append(await self.next_message())
            if until is not None and until(collected[-1]):
                break
        return collected

    async def assert_no_message(self, within: float = 0) -> None:
        unread = self.transcript[self._read :]
        assert not unread, f"expected nothing more, got {unread}\n" + self.format_transcript()

    def format_transcript(self) -> str:
        return f"--- web visitor {self.id} ---\n" + "\n".join(f"  {line}" for line in self._log)

    async def close(self) -> None:
        await self.browser.close()

    async def _open(self, *, shown: bool) -> None:
        page = await self.browser.get("/")
        if shown:
            await self._show(page)
        else:
            assert page.status == 200, page.html

    async def _show(self, page: Page) -> None:
        assert page.status == 200, f"{page.status}: {page.messages}"
        for section in page.sections:
            shown: list[WebMessage] = []
            if section.file:
                file = await self._download(section.file, section.caption.strip() or None)
                photo, document = (file, None) if section.photo else (None, file)
                shown.append(WebMessage(None, [], document=document, photo=photo))
            if section.text.strip():
                buttons = [[b.text for b in row] for row in section.rows]
                shown.append(WebMessage(section.text.strip(), buttons, edited=section.edited))
            self.transcript += shown
            self._log += [f"bot: {m.text or m.caption or '(a file)'}" for m in shown]

    async def _download(self, address: str, caption: str | None) -> WebFile:
        async with self.browser.http.get(self.browser.base.join(URL(address))) as response:
            assert response.status == 200, address
            disposition = response.headers.get("Content-Disposition", "")
            name = unquote(disposition.partition("filename*=UTF-8''")[2])
            return WebFile(name or address, await response.read(), caption)


class WebChannel:
    """The web chat as the contract suite's channel: ``user(n)`` is a browser."""

    SECRET = "contract-suite-web-secret-of-32-chars-or-more"

    def __init__(self, base: URL) -> None:
        self.base = base
        self.signer = Signer(self.SECRET.encode())
        self.users: dict[int, WebUser] = {}

    def user(
        self, user_id: int, first_name: str = "", *, language_code: str | None = None
    ) -> WebUser:
        if user_id not in self.users:
            self.users[user_id] = WebUser(self.base, self.signer, user_id, language_code)
        return self.users[user_id]

    async def close(self) -> None:
        for user in self.users.values():
            await user.close()


@asynccontextmanager
async def web_channel(
    database_url: str, *, admin: int, bot_username: str
) -> AsyncIterator[WebChannel]:
    """The web chat served as ``patentbot`` serves it (its listener, its settings), with
    the rate limits lifted: a test answers faster than any person."""
    settings = Settings(
        database_url=database_url,
        admin_ids=str(web_user_id(admin)),
        bot_username=bot_username,  # the links an admin's events get, as on Telegram
        web_listen=f"127.0.0.1:{free_port()}",
        web_secret=WebChannel.SECRET,
    )
    router, engine = await build(settings)
    fast = Buckets(rate=1000, burst=1000)
    try:
        async with web.listening(settings, router, per_visitor=fast, per_address=fast) as url:
            channel = WebChannel(URL(url))
            try:
                yield channel
            finally:
                await channel.close()
    finally:
        await engine.dispose()
