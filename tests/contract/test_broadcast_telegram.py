"""Broadcasts end to end: the real bot on each framework, over HTTP, against the fake Bot
API server — which answers 429 when sent to too fast and 403 when a user blocked the bot."""

from __future__ import annotations

import asyncio
import io
import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import segno

from handlers.kernel import registry
from handlers.kernel.render import plain
from handlers.kernel.router import Router
from locales import translator
from models import audiences, broadcast_jobs
from models.tables import Broadcast, Channel, User
from testkit.fake_bot_api import BotMessage, FakeBotAPI, FakeUser
from testkit.telegram import ADMIN, FRAMEWORKS, TOKEN, bot_settings, running
from testkit.web import web_user_id
from tests.broadcast_helpers import PROGRAMME, ROUTES, recipient_states, wait_for_status

# PTB's own RetryAfter warns that retry_after will become a timedelta (PtbCalls handles both).
pytestmark = pytest.mark.filterwarnings("ignore:Deprecated since version v22.2:DeprecationWarning")

ZH = translator("zh_CN")
RATE = 10.0  # the bot's broadcast rate in these tests
MESSAGE_IDS = itertools.count(100_000)


@pytest.fixture(params=FRAMEWORKS)
async def bot(
    request: pytest.FixtureRequest, database_url: str
) -> AsyncIterator[tuple[FakeBotAPI, Router]]:
    """The bot on one framework, polling a fake Bot API server; its router, to look into
    the database."""
    async with FakeBotAPI(token=TOKEN, bot_username="patentbot_test") as server:
        server.user(ADMIN, first_name="Admin", language_code="zh-hans")
        settings = bot_settings(server, database_url, request.param)
        settings = settings.model_copy(update={"broadcast_rate": RATE})
        async with running(server, settings) as router:
            yield server, router


async def recipients(
    server: FakeBotAPI, router: Router, count: int, start: int = 50_000, *, on_server: bool = True
) -> list[FakeUser | int]:
    """Users who started the bot (in its database), each with a chat on the server."""
    made: list[FakeUser | int] = []
    async with router.context.sessions() as session:
        for user_id in range(start, start + count):
            session.add(User(id=user_id, chat_id=user_id, locale="zh_CN"))
            made.append(server.user(user_id) if on_server else user_id)
        await session.commit()
    return made


async def queue(router: Router, audience: str = "all") -> int:
    async with router.context.sessions() as session:
        job = Broadcast(text="<b>通知</b>：培训改期", locale="zh_CN", status_chat_id=ADMIN)
        job = await broadcast_jobs.create_broadcast(
            session, job, audiences.Audience.parse(audience), PROGRAMME, ROUTES
        )
        await session.commit()
    router.context.jobs_changed.set()
    assert job.id is not None
    return job.id


def outputs(user: FakeUser) -> list[BotMessage]:
    return [m for m in user.transcript if not m.edited]


async def send_formatted(user: FakeUser, text: str, entities: list[dict[str, Any]]) -> None:
    """A message with formatting, as Telegram delivers it (the fake's send() has none)."""
    message = {
        "message_id": next(MESSAGE_IDS),
        "from": user.user_json(),
        "chat": user.chat_json(),
        "date": int(time.time()),
        "text": text,
        "entities": entities,
    }
    user._server.push_update({"message": message})
    await asyncio.sleep(0)


async def test_from_the_chat_to_everyone_once_with_formatting_and_progress(
    bot: tuple[FakeBotAPI, Router],
) -> None:
    server, router = bot
    users = [u for u in await recipients(server, router, 45) if isinstance(u, FakeUser)]
    admin = server.user(ADMIN)
    await admin.send("/broadcast")
    assert (await admin.next_message()).text == plain(ZH("broadcast.compose"))
    text = "报名截止 3月1日 & 详情"
    await send_formatted(
        admin,
        text,
        [
            {"type": "bold", "offset": 0, "length": 4},
            {"type": "text_link", "offset": 13, "length": 2, "url": "https://example.com/x"},
        ],
    )
    menu_message = await admin.next_message()
    assert menu_message.text == ZH("broadcast.choose_audience")
    everyone = len(users) + 1  # and the admin, who has started the bot too
    await admin.press(f"{ZH('broadcast.audience.all')}（{everyone}）")
    chosen, preview, summary = await admin.collect(count=3)
    assert chosen.edited and chosen.message_id == menu_message.message_id
    assert preview.text == text
    assert [e["type"] for e in preview.entities] == ["bold", "text_link"]
    assert f"收件人数：{everyone} 人" in (summary.text or "")
    await admin.press(ZH("broadcast.button.send"))
    started = await admin.next_message()
    assert started.edited and started.text == plain(ZH("broadcast.started", id=1, count=everyone))
    done = plain(ZH("broadcast.status.done", id=1))
    await admin.collect(lambda m: m.edited and done in (m.text or ""), timeout=30)
    job = await wait_for_status(router.context.sessions, 1)
    assert job.total == everyone
    for user in users:
        (got,) = outputs(user)  # exactly once
        assert got.text == text
        assert got.entities == preview.entities  # the formatting kept
    # The status message: sent once, then only edited — progress, then the summary.
    status_id = job.status_message_id
    edits = [c for c in server.calls if c.method == "editMessageText"]
    edits = [c for c in edits if c.params.get("message_id") == status_id]
    assert len(edits) >= 2
    final = plain(edits[-1].params["text"])
    assert done in final
    assert plain(ZH("broadcast.counts", sent=everyone, failed=0, unreachable=0, remaining=0,
                    total=everyone)) in final  # fmt: skip
    progress = [c for c in edits if c.params.get("reply_markup")]
    assert progress and "▓" in progress[0].params["text"] and "条/秒" in progress[0].params["text"]
    assert all(b.at - a.at >= 2.9 for a, b in itertools.pairwise(progress))
    sends = [c for c in server.calls if c.method == "sendMessage" and c.status == 200]
    # The broadcast's own sends: the admin's replies while composing are not rate-limited.
    sends = [c for c in sends if c.params["chat_id"] != ADMIN]
    assert len(sends) == len(users)
    first, last = sends[0].at, sends[-1].at
    assert (len(sends) - 1) / (last - first) <= RATE * 1.05  # the rate limit held


async def test_a_429_storm_still_delivers_everything_exactly_once(
    bot: tuple[FakeBotAPI, Router],
) -> None:
    server, router = bot
    users = [u for u in await recipients(server, router, 12) if isinstance(u, FakeUser)]
    server.rate_limit_per_second = 3  # slower than the bot: it is answered 429 …
    server.per_chat_limit_per_second = 1
    server.fail_next("sendMessage", error_code=429, retry_after=1, times=3)  # … and more
    job_id = await queue(router)
    job = await wait_for_status(router.context.sessions, job_id, timeout=40)
    assert server.rate_limited_count >= 3
    for user in users:
        assert len(outputs(user)) == 1
    states = await recipient_states(router.context.sessions, job_id)
    assert {state for state, _ in states.values()} == {broadcast_jobs.SENT}
    assert job.total == len(users)


async def test_blocked_and_unknown_chats_become_unreachable(
    bot: tuple[FakeBotAPI, Router],
) -> None:
    server, router = bot
    users = [u for u in await recipients(server, router, 10) if isinstance(u, FakeUser)]
    await recipients(server, router, 2, start=60_000, on_server=False)  # "chat not found"
    for user in users[:3]:
        user.block()
    job_id = await queue(router)
    await wait_for_status(router.context.sessions, job_id, timeout=20)
    states = await recipient_states(router.context.sessions, job_id)
    blocked = {u for u, (state, _) in states.items() if state == broadcast_jobs.BLOCKED}
    assert blocked == {u.id for u in users[:3]} | {60_000, 60_001}
    for user in users[3:]:
        assert len(outputs(user)) == 1
    async with router.context.sessions() as session:
        reach = await audiences.reach(session, audiences.Audience("all"), PROGRAMME, ROUTES)
    # Left out of later broadcasts:
    assert (reach.routes[Channel.TELEGRAM], reach.unreached["blocked"]) == (len(users) - 3, 5)


async def test_telegram_users_get_it_on_telegram_web_visitors_in_their_inbox(
    bot: tuple[FakeBotAPI, Router],
) -> None:
    server, router = bot
    (user,) = [u for u in await recipients(server, router, 1) if isinstance(u, FakeUser)]
    visitor = web_user_id(7)
    async with router.context.sessions() as session:
        session.add(User(id=visitor, chat_id=visitor, channel=Channel.WEB, locale="zh_CN"))
        await session.commit()
    admin = server.user(ADMIN)
    await admin.send("/broadcast")
    await admin.next_message()
    await admin.send("培训改期")
    await admin.next_message()  # the audience menu: the admin, the user, the visitor
    await admin.press(f"{ZH('broadcast.audience.all')}（3）")
    _, _, summary = await admin.collect(count=3)
    said = plain(summary.text or "")
    assert "收件人数：3 人" in said
    assert plain(ZH("broadcast.preview_route.web", count=1)) in said
    assert "Telegram：2 人" in said
    await admin.press(ZH("broadcast.button.send"))
    await wait_for_status(router.context.sessions, 1, timeout=20)
    states = await recipient_states(router.context.sessions, 1)
    assert {u: state for u, (state, _) in states.items()} == {
        user.id: broadcast_jobs.SENT,
        ADMIN: broadcast_jobs.SENT,
        visitor: broadcast_jobs.INBOX,  # until a page shows it
    }
    assert [m.text for m in outputs(user)] == ["培训改期"]
    async with router.context.sessions() as session:
        web = await session.get(User, visitor)
        assert web is not None and web.unreachable_at is None


async def test_a_photo_goes_by_its_telegram_id(bot: tuple[FakeBotAPI, Router]) -> None:
    server, router = bot
    users = [u for u in await recipients(server, router, 3) if isinstance(u, FakeUser)]
    admin = server.user(ADMIN)
    await admin.send("/broadcast")
    await admin.next_message()
    picture = io.BytesIO()
    segno.make("patentbot").save(picture, kind="png", scale=4)
    await admin.send_photo(picture.getvalue(), caption="培训海报")
    await admin.next_message()  # the audience menu
    await admin.press("bc:aud:language")
    await admin.next_message()
    await admin.press("bc:aud:language:zh_CN")
    _, preview, _ = await admin.collect(count=3)
    assert preview.photo is not None and preview.caption == "培训海报"
    await admin.press(ZH("broadcast.button.send"))
    await wait_for_status(router.context.sessions, 1, timeout=20)
    uploads = [c for c in server.calls if c.method == "sendPhoto"]
    assert all(isinstance(c.params["photo"], str) for c in uploads)  # by id, no upload
    for user in users:
        (got,) = outputs(user)
        assert got.photo is not None and got.photo.file_id == preview.photo.file_id
        assert got.caption == "培训海报"


async def test_every_admin_command_is_refused_to_a_non_admin(
    bot: tuple[FakeBotAPI, Router],
) -> None:
    server, _ = bot
    stranger = server.user(7007, language_code="zh-hans")
    await stranger.send("/start")
    await stranger.collect(count=1)
    unknown = plain(ZH("error.unknown_command"))
    for command in [c.name for c in registry.COMMANDS if c.admin]:
        await stranger.send(f"/{command}")
        assert (await stranger.next_message()).text == unknown, command
