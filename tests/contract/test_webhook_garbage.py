"""The webhook and the web chat are public URLs: whoever finds them may post anything, as
often as they like. They refuse calmly (401/403 without the secret or cookie, 413 too
large, 400 not an update or not a form — never 500, no traceback per post), and the bot
answers its users all along. The webhook on both frameworks; all on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from itertools import cycle

import aiohttp
import pytest
from yarl import URL

from bot.pages.identity import Buckets
from bot.settings import Settings
from bot.transports.telegram.webhook import MAX_BODY, SECRET_HEADER, secret_token
from bot.transports.web.chat import MAX_BODY as MAX_WEB_BODY
from forms.definition import Form
from handlers.kernel.router import Router
from locales import translator
from testkit.answers import ELIGIBLE_ZH
from testkit.chat import current_question
from testkit.fake_bot_api import FakeBotAPI
from testkit.telegram import FRAMEWORKS, TOKEN, bot_settings, next_step, running
from testkit.web import WebVisitor
from tests.chat.test_web import serving

FLOOD = 10_000  # posts in all
ROUNDS = 10  # the flood comes in rounds, each while a user is being answered
AT_ONCE = 20  # posts in flight at a time


# A request: method, URL, headers, body, and the status it must get.
Post = tuple[str, str, dict[str, str], bytes, int]


def flood(kinds: list[Post], count: int = FLOOD) -> list[Post]:
    """Posts of every kind; the last kind (a large body) once in every hundred."""
    small = cycle(kinds[:-1])
    return [kinds[-1] if i % 100 == 99 else next(small) for i in range(count)]


def webhook_garbage(settings: Settings) -> list[Post]:
    """Every kind of refusal the webhook gives."""
    right = {SECRET_HEADER: secret_token(settings), "Content-Type": "application/json"}
    wrong = {SECRET_HEADER: "guess", "Content-Type": "application/json"}

    def body(value: object) -> bytes:
        return json.dumps(value).encode()

    update = {"update_id": 5, "message": {"message_id": 1, "date": 0, "text": "/export"}}
    kinds = [
        ({}, body(update), 401),
        (wrong, body(update), 401),
        (right, b"\xff\xfe not json", 400),
        (right, b"", 400),
        (right, body([update]), 400),
        (right, body("update"), 400),
        (right, body({"update_id": "5"}), 400),
        (right, body({"update_id": True}), 400),
        (right, body({"update_id": -1}), 400),
        (right, body({"update_id": 2**70}), 400),
        (right, b"1" * 5000, 400),  # an integer too long to read
        (right, b"[" * 100_000 + b"]" * 100_000, 400),  # nested beyond any parser
        (right, body({"update_id": 6, "message": "/export"}), 400),
        (right, body({"update_id": 7, "message": {"chat": 5}}), 400),
        (right, body({"update_id": 8, "callback_query": {"id": 1}}), 400),
        (right, body({"update_id": 9, "message": {"message_id": "a", "date": []}}), 400),
        # A gzip that does not unzip: the server closes that connection after its answer.
        ({**right, "Content-Encoding": "gzip", "Connection": "close"}, body(update), 400),
        (right, b'{"update_id": 10, "message": "' + b"x" * MAX_BODY + b'"}', 413),
    ]
    url = str(settings.webhook_url)
    return [("POST", url, headers, data, status) for headers, data, status in kinds]


async def flood_round(http: aiohttp.ClientSession, posts: list[Post]) -> Counter[tuple[int, int]]:
    """Send them, AT_ONCE at a time; counts (status expected, status got)."""
    seen: Counter[tuple[int, int]] = Counter()
    queue = iter(posts)

    async def worker() -> None:
        for method, url, headers, body, expected in queue:
            request = http.request(method, url, data=body, headers=headers, allow_redirects=False)
            async with request as response:
                await response.read()
                seen[expected, response.status] += 1

    await asyncio.gather(*(worker() for _ in range(AT_ONCE)))
    return seen


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.timeout(180)  # the flood's bound in time: 10,000 posts, on a busy machine
async def test_a_flood_of_garbage_is_refused_calmly_while_users_are_answered(
    framework: str, database_url: str, form: Form, caplog: pytest.LogCaptureFixture
) -> None:
    t = translator("zh_CN")
    async with FakeBotAPI(token=TOKEN, bot_username="patentbot_test") as server:
        settings = bot_settings(server, database_url, f"{framework}+webhook")
        user = server.user(1401, language_code="zh-hans")
        posts = flood(webhook_garbage(settings))

        async def answered(step: str) -> None:
            await user.send(step)
            if step == "/help":
                assert "/apply" in ((await user.next_message(timeout=30)).text or "")
            else:
                text = await next_step(user, form, "zh_CN", timeout=30)
                assert current_question(form, "zh_CN", text) is not None

        async with running(server, settings), aiohttp.ClientSession() as http:
            seen = await while_answered(http, posts, answered)
            await user.send(t("button.yes"))  # and it still answers after the flood
            assert current_question(form, "zh_CN", await next_step(user, form, "zh_CN")) == (
                "cluster"
            )
        assert sum(seen.values()) == FLOOD
        assert all(expected == got for expected, got in seen), seen
        assert not any(t("error.internal") in (m.text or "") for m in user.transcript)
        # Calmly: no traceback, and a few lines for ten thousand refusals (1st, 10th, …).
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        refusals = [
            r for r in caplog.records if r.name == "bot.webhook" and r.levelname == "WARNING"
        ]
        assert 1 <= len(refusals) <= 5


STEPS = ["/apply", *(ELIGIBLE_ZH[q] for q in ("enterprise_name", "uscc", "contact_name",
         "contact_phone"))] + ["/help"] * (ROUNDS - 5)  # fmt: skip


async def while_answered(
    http: aiohttp.ClientSession, posts: list[Post], answered: Callable[[str], Awaitable[None]]
) -> Counter[tuple[int, int]]:
    """The flood in ROUNDS, each while the user sends one of STEPS and is answered."""
    seen: Counter[tuple[int, int]] = Counter()
    per_round = len(posts) // ROUNDS
    for round_, step in enumerate(STEPS):
        garbage = asyncio.create_task(
            flood_round(http, posts[round_ * per_round : (round_ + 1) * per_round])
        )
        await answered(step)  # while the round of garbage comes in
        seen += await garbage
    return seen


def web_garbage(site: URL, cookie: str, csrf: str, step: int) -> list[Post]:
    """Every kind of refusal the web chat gives, to a visitor with a cookie and a form."""
    form = "application/x-www-form-urlencoded"
    mine = {"Cookie": f"patentbot={cookie}", "Content-Type": form}

    def post(path: str, headers: dict[str, str], data: str | bytes, status: int) -> Post:
        body = data.encode() if isinstance(data, str) else data
        return ("POST", str(site.with_path(path)), headers, body, status)

    answer = f"text=x&csrf={csrf}&step="
    return [
        post("/say", {"Content-Type": form}, "text=x", 403),  # no cookie
        post("/say", {**mine, "Cookie": "patentbot=1.forged"}, answer + str(step), 403),
        post("/say", mine, "text=x&csrf=guess&step=1", 403),
        post("/press", mine, f"data=bc:cancel:1&csrf=guess&step={step}", 403),
        post("/say", mine, answer + "abc", 400),
        post("/say", mine, answer + "9" * 30, 400),  # beyond any table's integer
        post("/say", mine, answer + "²", 400),  # a digit to str.isdigit, not to int()
        post("/say", mine, b"text=\xff\xfe&csrf=" + csrf.encode(), 400),  # not UTF-8
        post("/say", {**mine, "Content-Type": "multipart/form-data; boundary=b"}, "junk", 400),
        post("/say", {**mine, "Content-Encoding": "gzip", "Connection": "close"}, "x=1", 400),
        ("GET", str(site.with_path("/f/forged")), mine, b"", 404),
        ("GET", str(site.with_path("/wp-login.php")), {}, b"", 404),
        ("PUT", str(site.with_path("/say")), mine, b"", 405),
        post("/say", mine, answer + "1&pad=" + "x" * MAX_WEB_BODY, 413),
    ]


# Each refusal of the web chat is a page in the visitor's language (a database read, a
# template): 10,000 take two minutes here, so its flood is smaller than the webhook's.
WEB_FLOOD = 2_000


@pytest.mark.timeout(180)  # the flood's bound in time, on a busy machine
async def test_a_flood_at_the_web_chat_is_refused_calmly_while_a_visitor_is_answered(
    router: Router, form: Form, caplog: pytest.LogCaptureFixture
) -> None:
    # Every post reaches the handlers: the rate limits are tested on their own.
    fast = Buckets(rate=1_000_000, burst=1_000_000)
    async with serving(router, per_visitor=fast, per_address=fast) as site:
        attacker, user = WebVisitor(site), WebVisitor(site)
        await attacker.get("/")  # a cookie and a form of its own
        cookie, hidden = attacker.cookie(), attacker.page.hidden
        assert cookie is not None
        posts = flood(web_garbage(site, cookie, hidden["csrf"], int(hidden["step"])), WEB_FLOOD)
        await user.get("/")

        async def answered(step: str) -> None:
            page = await user.send(step)
            assert page.status == 200 and page.messages
            if step != "/help":
                assert current_question(form, "zh_CN", user.text) is not None

        # The flood's own client, sending exactly the cookie each post names, or none.
        http = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        try:
            seen = await while_answered(http, posts, answered)
            await user.send("是")  # and it still answers after the flood
            assert current_question(form, "zh_CN", user.text) == "cluster"
        finally:
            await http.close()
            await attacker.close()
            await user.close()
    assert sum(seen.values()) == WEB_FLOOD
    assert all(expected == got for expected, got in seen), seen
    assert translator("zh_CN")("error.internal") not in user.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
