"""The webhook is a public URL: whoever finds it may post anything, as often as they like.
It refuses calmly (401 without the secret, 413 too large, 400 not an update — never 500),
and the bot answers its users all along. Both frameworks, on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from itertools import cycle

import aiohttp
import pytest

from bot.settings import Settings
from bot.webhook import MAX_BODY, SECRET_HEADER, secret_token
from forms.definition import Form
from locales import translator
from tests.chat import current_question
from tests.conftest import ELIGIBLE_ZH
from tests.fake_bot_api import FakeBotAPI
from tests.telegram import FRAMEWORKS, TOKEN, bot_settings, next_step, running

FLOOD = 10_000  # posts in all
ROUNDS = 10  # the flood comes in rounds, each while a user is being answered
AT_ONCE = 20  # posts in flight at a time


def garbage(settings: Settings) -> list[tuple[dict[str, str], bytes, int]]:
    """(headers, body, the status it must get): every kind of refusal."""
    right = {SECRET_HEADER: secret_token(settings), "Content-Type": "application/json"}
    wrong = {SECRET_HEADER: "guess", "Content-Type": "application/json"}

    def body(value: object) -> bytes:
        return json.dumps(value).encode()

    update = {"update_id": 5, "message": {"message_id": 1, "date": 0, "text": "/export"}}
    return [
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


async def flood_round(
    http: aiohttp.ClientSession, url: str, posts: list[tuple[dict[str, str], bytes, int]]
) -> Counter[tuple[int, int]]:
    """Post them, AT_ONCE at a time; counts (status expected, status got)."""
    seen: Counter[tuple[int, int]] = Counter()
    queue = iter(posts)

    async def worker() -> None:
        for headers, body, expected in queue:
            async with http.post(url, data=body, headers=headers) as response:
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
        kinds = garbage(settings)
        # Mostly small posts; a large one in every hundred (10 MB in all).
        small = cycle(kinds[:-1])
        posts = [kinds[-1] if i % 100 == 99 else next(small) for i in range(FLOOD)]
        per_round = FLOOD // ROUNDS
        steps = ["/apply", *(ELIGIBLE_ZH[q] for q in ("enterprise_name", "uscc",
                 "contact_name", "contact_phone"))]  # fmt: skip
        steps += ["/help"] * (ROUNDS - len(steps))
        seen: Counter[tuple[int, int]] = Counter()
        async with running(server, settings), aiohttp.ClientSession() as http:
            url = str(settings.webhook_url)
            for round_, step in enumerate(steps):
                flood = asyncio.create_task(
                    flood_round(http, url, posts[round_ * per_round : (round_ + 1) * per_round])
                )
                await user.send(step)  # answered while the round of garbage comes in
                if step == "/help":
                    assert "/apply" in ((await user.next_message(timeout=30)).text or "")
                else:
                    text = await next_step(user, form, "zh_CN", timeout=30)
                    assert current_question(form, "zh_CN", text) is not None
                seen += await flood
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
