"""Broadcasts at the handler level, with a sender in memory: who may, who gets it, and the
delivery guarantee (429s, 403s, errors, a crash mid-send, pause / resume / cancel)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot.delivery import outbox as delivery
from bot.delivery.outbox import Delivery
from bot.delivery.pacing import ChatSpacing, RateLimiter
from handlers.admin import broadcast_queue, broadcast_text
from handlers.kernel import registry
from handlers.kernel.render import plain
from handlers.kernel.router import Router
from handlers.kernel.types import Event, RateLimited, RecipientGone, Reply
from locales import translator
from models import audiences, broadcast_jobs, queries
from models.tables import Broadcast, Channel, User
from testkit.chat import Chat
from tests.broadcast_helpers import (
    PROGRAMME,
    ROUTES,
    MemorySender,
    Population,
    populate,
    recipient_states,
    wait_for_status,
)

ADMIN = 999
ZH = translator("zh_CN")


@pytest.fixture
async def population(router: Router) -> Population:
    return await populate(router.context.sessions)


@pytest.fixture
def sender(router: Router) -> MemorySender:
    memory = MemorySender()
    router.context.sender = memory
    router.context.routes = ROUTES
    router.context.broadcast_rate = 200.0  # fast tests; the limiter itself is tested below
    return memory


@pytest.fixture
async def runner(router: Router, sender: MemorySender) -> AsyncIterator[Delivery]:
    running = Delivery(router.context, progress_seconds=0.2, poll_seconds=0.1)
    running.start()
    yield running
    await running.stop()


async def queue(router: Router, audience: str, text: str = "通知") -> Broadcast:
    async with router.context.sessions() as session:
        job = Broadcast(text=text, locale="zh_CN", created_by=ADMIN, status_chat_id=ADMIN)
        job = await broadcast_jobs.create_broadcast(
            session, job, audiences.Audience.parse(audience), PROGRAMME, ROUTES
        )
        await session.commit()
    router.context.jobs_changed.set()
    return job


async def edited_to(sender: MemorySender, mark: str, timeout: float = 5) -> None:
    """Until the status message's last edit shows ``mark`` (edits wait for the chat's second)."""
    deadline = time.monotonic() + timeout
    while not (sender.edits and mark in sender.edits[-1][2].text):
        assert time.monotonic() < deadline, [e[2].text for e in sender.edits[-2:]]
        await asyncio.sleep(0.05)


# ------------------------------------------------------------------ who may


ADMIN_COMMANDS = [c.name for c in registry.COMMANDS if c.admin]


@pytest.mark.parametrize(
    "typed",
    [*(f"/{name}" for name in ADMIN_COMMANDS), "/broadcast list", "/broadcast cancel 1",
     "/admins add 1005", "/export applications"],
)  # fmt: skip
async def test_every_admin_command_answers_a_non_admin_like_an_unknown_one(
    router: Router, typed: str
) -> None:
    stranger = Chat(router, 1005)
    await stranger.send("/start")
    unknown = await stranger.send("/no_such_command")
    assert await stranger.send(typed) == unknown
    assert stranger.text == plain(ZH("error.unknown_command"))


@pytest.mark.parametrize("data", ["bc:list", "bc:pause:1:l", "bc:stop:1:s", "bc:send"])
async def test_admin_buttons_do_nothing_for_a_non_admin(router: Router, data: str) -> None:
    stranger = Chat(router, 1005)
    await stranger.send("/start")
    async with router.context.sessions() as session:
        await broadcast_jobs.create_broadcast(
            session,
            Broadcast(text="x", locale="zh_CN"),
            audiences.Audience("all"),
            PROGRAMME,
            ROUTES,
        )
        await session.commit()
    replies = await router.handle(Event(1005, 1005, callback_data=data))
    assert [r.text for r in replies] == [ZH("error.stale_button")]
    async with router.context.sessions() as session:
        assert all(
            j.status == broadcast_jobs.RUNNING
            for j in await broadcast_jobs.recent_broadcasts(session, 5)
        )


async def test_an_admin_adds_and_removes_admins_in_the_chat(router: Router) -> None:
    admin, colleague = Chat(router, ADMIN), Chat(router, 4321)
    await colleague.send("/start")
    await colleague.send("/stats")
    assert colleague.text == plain(ZH("error.unknown_command"))
    await admin.send("/admins add 4321")
    assert "4321" in admin.text
    await colleague.send("/stats")
    assert plain(ZH("stats.flags_title")) in colleague.text
    await colleague.send("/help")
    assert "/broadcast" in colleague.text
    await admin.send("/admins")
    assert "4321" in admin.text and "999" in admin.text
    await colleague.send(f"/admins remove {ADMIN}")  # ADMIN_IDS are the settings'
    assert colleague.text == plain(ZH("admins.in_settings", id=ADMIN))
    await admin.send("/admins remove 4321")
    assert admin.text == plain(ZH("admins.removed", id=4321))
    await colleague.send("/stats")
    assert colleague.text == plain(ZH("error.unknown_command"))


# ------------------------------------------------------------------ who gets it


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        ("all", "everyone"),
        ("unfinished", "unfinished"),
        ("eligible", "eligible+points"),
        ("flag:prior_project", "not_eligible"),
        ("flag:rd_ratio_low", "points"),
        ("event:{event}", "attendees"),
        ("language:en", "en"),
    ],
)
async def test_each_audience_is_exactly_its_users(
    router: Router, population: Population, audience: str, expected: str
) -> None:
    parsed = audiences.Audience.parse(audience.format(event=population.event_id))
    job = await queue(router, str(parsed))
    states = await recipient_states(router.context.sessions, job.id or 0)
    if expected == "en":
        async with router.context.sessions() as session:
            users = (await session.exec(select(User).where(User.locale == "en"))).all()
        wanted = {u.id for u in users if u.unreachable_at is None}
    else:
        wanted = set()
        for part in expected.split("+"):
            wanted |= set(getattr(population, part))
    assert set(states) == wanted
    assert job.total == len(wanted)
    assert not set(states) & set(population.unreachable)  # never the unreachable
    async with router.context.sessions() as session:
        reach = await audiences.reach(session, parsed, PROGRAMME, ROUTES)
    assert reach.routes[Channel.TELEGRAM] == len(wanted)
    assert reach.unreached["blocked"] == (1 if expected == "everyone" else 0)


async def test_compose_choose_preview_confirm(
    router: Router, population: Population, sender: MemorySender
) -> None:
    admin = Chat(router, ADMIN)
    await admin.send("/broadcast")
    assert plain(ZH("broadcast.compose")) in admin.text
    formatted = Event.message(ADMIN, ADMIN, "截止 提醒", html="<b>截止</b> 提醒 &lt;3")
    replies = await router.handle(formatted)
    admin.last = replies
    admin.transcript += replies
    eligible = len(population.eligible) + len(population.points)
    assert plain(ZH("broadcast.choose_audience")) in admin.text
    await admin.press(f"{ZH('broadcast.audience.eligible')}（{eligible}）")
    chosen, message, summary = admin.last
    assert chosen.edit and message.text == "<b>截止</b> 提醒 &lt;3"  # as recipients see it
    assert f"收件人数：<b>{eligible}</b> 人" in summary.text
    await admin.press(ZH("broadcast.button.change_audience"))
    await admin.press(ZH("broadcast.audience.flag") + " …")
    flag_button = admin.find_button("bc:aud:flag:prior_project")
    assert flag_button.text.startswith(f"❌ X1 {ZH('flag.prior_project.title')}")
    await admin.press("bc:aud:flag:prior_project")
    assert f"<b>{len(population.not_eligible)}</b>" in admin.last[-1].text
    router.context.jobs_changed.clear()
    await admin.press(ZH("broadcast.button.send"))
    assert admin.last[0].edit and "#1" in admin.text
    assert router.context.jobs_changed.is_set()  # the runner is told at once
    await admin.press("bc:send")  # a second tap starts nothing
    assert admin.text == plain(ZH("error.stale_button"))
    async with router.context.sessions() as session:
        jobs = await broadcast_jobs.recent_broadcasts(session, 5)
    assert [(j.total, j.text, j.audience) for j in jobs] == [
        (len(population.not_eligible), "<b>截止</b> 提醒 &lt;3", "flag:prior_project")
    ]


async def test_a_photo_is_broadcast_by_its_file_id(
    router: Router, population: Population, sender: MemorySender, runner: Delivery
) -> None:
    from handlers.kernel.types import Attachment

    admin = Chat(router, ADMIN)
    await admin.send("/broadcast")
    photo = Event.message(
        ADMIN, ADMIN, "海报", html="<i>海报</i>", attachment=Attachment("photo", "PHOTO-1")
    )
    admin.last = await router.handle(photo)
    admin.transcript += admin.last
    await admin.press("bc:aud:language")
    await admin.press("bc:aud:language:en")
    preview = admin.last[1]
    assert preview.photo is not None and preview.photo.file_id == "PHOTO-1"
    assert preview.photo.caption == "<i>海报</i>"
    await admin.press("bc:send")
    await wait_for_status(router.context.sessions, 1)
    for user_id in population.everyone:
        for reply in sender.sent.get(user_id, []):
            assert reply.photo is not None and reply.photo.file_id == "PHOTO-1"


async def test_nothing_to_send_and_too_long_are_explained(
    router: Router, population: Population
) -> None:
    admin = Chat(router, ADMIN)
    await admin.send("/broadcast")
    await admin.send("x" * 4097)
    assert admin.text == plain(ZH("broadcast.too_long", length=4097, limit=4096))
    # Tags are not text: a quote of exactly 4096 characters is within Telegram's limit.
    quoted = "<blockquote expandable>" + "x" * 4096 + "</blockquote>"
    await admin._handle(Event.message(ADMIN, ADMIN, "x" * 4096, html=quoted))
    assert plain(ZH("broadcast.choose_audience")) in admin.text
    await admin.send("短通知")
    await admin.press("bc:aud:event")
    assert "知识产权培训" in admin.keyboard()[0].text
    await admin.press("bc:back")
    assert plain(ZH("broadcast.choose_audience")) in admin.text
    await admin.press("bc:drop")
    assert admin.text == plain(ZH("broadcast.dropped"))


# ------------------------------------------------------------------ delivery


async def test_429s_403s_and_errors_end_with_everyone_sent_exactly_once(
    router: Router,
    population: Population,
    sender: MemorySender,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(delivery, "BACKOFF_SECONDS", (0.05, 0.05, 0.05, 0.05))
    monkeypatch.setattr(delivery, "PER_CHAT_SECONDS", 0.05)  # retries come sooner
    storm, blocked, flaky, broken = population.idle[0], population.idle[1], *population.eligible
    sender.failures[storm] = [RateLimited(0.2), RateLimited(0.2), RateLimited(0.1)]
    sender.failures[blocked] = [RecipientGone("Forbidden: bot was blocked by the user")]
    sender.failures[flaky] = [RuntimeError("Bad Gateway"), RuntimeError("Bad Gateway")]
    sender.failures[broken] = [RuntimeError("Bad Request: nope")] * delivery.MAX_ATTEMPTS
    job = await queue(router, "all")
    running = Delivery(router.context, progress_seconds=0.2, poll_seconds=0.1)
    running.start()
    try:
        job = await wait_for_status(router.context.sessions, job.id or 0)
    finally:
        await running.stop()
    states = await recipient_states(router.context.sessions, job.id or 0)
    for user_id in population.everyone:
        expected = 0 if user_id in (blocked, broken) else 1
        assert sender.received(user_id) == expected, user_id
    assert states[blocked][0] == broadcast_jobs.BLOCKED
    assert states[broken] == (broadcast_jobs.FAILED, "RuntimeError: Bad Request: nope")
    assert states[flaky][0] == states[storm][0] == broadcast_jobs.SENT
    assert running.limiter.pauses == 3  # every 429 paused everyone
    async with router.context.sessions() as session:
        gone = await session.get(User, blocked)
        assert gone is not None and gone.unreachable_at is not None
        reach = await audiences.reach(session, audiences.Audience("all"), PROGRAMME, ROUTES)
    assert (reach.routes[Channel.TELEGRAM], reach.unreached["blocked"]) == (
        len(population.everyone) - 1,
        2,
    )
    # The final summary says why some failed.
    final = sender.edits[-1][2].text
    assert plain(ZH("broadcast.status.done", id=job.id)) in plain(final)
    assert "Bad Request: nope — 1" in final
    # Writing to the bot again makes them reachable.
    await Chat(router, blocked).send("/help")
    async with router.context.sessions() as session:
        back = await session.get(User, blocked)
        assert back is not None and back.unreachable_at is None


@pytest.mark.parametrize("when", ["before", "after"])
async def test_a_crash_mid_send_resumes_without_sending_anyone_twice(
    router: Router, population: Population, sender: MemorySender, when: str
) -> None:
    """The runner dies (its task is cancelled, nothing recorded) while one message is in
    flight — not yet delivered ("before") or delivered but not recorded ("after"). A new
    runner resumes: everyone else exactly once, the one in flight at most once."""
    victim = population.unfinished[0]
    (sender.hang_before if when == "before" else sender.hang_after).add(victim)
    router.context.broadcast_rate = 20.0  # one recipient per wave
    job = await queue(router, "all")
    first = Delivery(router.context, progress_seconds=0.2, poll_seconds=0.1)
    first.start()
    await asyncio.wait_for(sender.hanging.wait(), 10)
    assert first._task is not None
    first._task.cancel()  # as good as SIGKILL: no clean-up runs
    await asyncio.gather(first._task, return_exceptions=True)
    sender.hang_before.clear()
    sender.hang_after.clear()
    second = Delivery(router.context, progress_seconds=0.2, poll_seconds=0.1)
    second.start()
    try:
        job = await wait_for_status(router.context.sessions, job.id or 0)
    finally:
        await second.stop()
    states = await recipient_states(router.context.sessions, job.id or 0)
    assert states[victim] == (broadcast_jobs.FAILED, broadcast_text.INTERRUPTED)
    assert sender.received(victim) == (1 if when == "after" else 0)
    for user_id in population.everyone:
        if user_id != victim:
            assert sender.received(user_id) == 1, user_id
            assert states[user_id][0] == broadcast_jobs.SENT
    assert plain(ZH("broadcast.reason.interrupted")) in plain(sender.edits[-1][2].text)


async def test_pause_resume_and_cancel(
    router: Router, population: Population, sender: MemorySender, runner: Delivery
) -> None:
    router.context.broadcast_rate = 5.0
    runner.limiter = RateLimiter(5.0)
    runner.wave = 1
    admin = Chat(router, ADMIN)

    def delivered() -> int:
        return sum(sender.received(u) for u in population.everyone)

    job = await queue(router, "all")
    while delivered() < 1:
        await asyncio.sleep(0.02)
    await admin.send(f"/broadcast pause {job.id}")
    await wait_for_status(router.context.sessions, job.id or 0, (broadcast_jobs.PAUSED,))
    await asyncio.sleep(0.5)
    paused_at = delivered()
    await asyncio.sleep(0.6)
    assert delivered() == paused_at  # nothing while paused
    await edited_to(sender, "⏸")
    await admin.send("/broadcast list")
    assert f"#{job.id} · {ZH('broadcast.state.paused')}" in admin.text
    await admin.press(f"#{job.id} {ZH('broadcast.button.resume')}")
    assert admin.last[0].text == ZH("broadcast.resumed", id=job.id, count=job.total - paused_at)
    while delivered() == paused_at:
        await asyncio.sleep(0.02)
    await admin.press(f"#{job.id} {ZH('broadcast.button.stop')}")  # asks first
    await admin.press(ZH("broadcast.button.stop_confirm"))
    job = await wait_for_status(router.context.sessions, job.id or 0, (broadcast_jobs.CANCELLED,))
    await asyncio.sleep(0.5)
    delivered = delivered()
    assert paused_at < delivered < job.total
    assert all(sender.received(u) <= 1 for u in population.everyone)
    await edited_to(sender, "🛑")
    await admin.send(f"/broadcast resume {job.id}")  # a cancelled job stays cancelled
    assert admin.text == plain(
        ZH("broadcast.not_changed", id=job.id, status=ZH("broadcast.state.cancelled"))
    )


async def test_progress_edits_one_status_message_and_spaces_each_chat(
    router: Router, population: Population, sender: MemorySender
) -> None:
    router.context.broadcast_rate = 5.0
    # The admin is a recipient too: the broadcast and the status edits share their chat.
    async with router.context.sessions() as session:
        session.add(User(id=ADMIN, chat_id=ADMIN, locale="zh_CN"))
        await session.commit()
    job = await queue(router, "all")
    running = Delivery(router.context, progress_seconds=0.3, poll_seconds=0.1)
    running.start()
    try:
        await wait_for_status(router.context.sessions, job.id or 0)
        await asyncio.sleep(0.2)
    finally:
        await running.stop()
    status = sender.sent[ADMIN][0]  # the status message was sent once …
    assert plain(ZH("broadcast.status.running", id=job.id)) in plain(status.text)
    assert sender.received(ADMIN) == 2  # … and the broadcast itself
    message_ids = {message_id for _, message_id, _, _ in sender.edits}
    assert message_ids == {1}  # every later change edits it
    assert len(sender.edits) >= 2  # progress (when the chat had a free second), final
    progress = [at for _, _, reply, at in sender.edits if reply.buttons]
    assert all(b - a >= 0.29 for a, b in itertools.pairwise(progress))
    texts = [plain(reply.text) for _, _, reply, _ in sender.edits]
    assert any("条/秒" in text for text in texts[:-1])  # rate and ETA while it runs
    assert plain(ZH("broadcast.status.done", id=job.id)) in texts[-1]
    for chat, times in sender.times.items():  # at most one message a second per chat
        assert all(b - a >= 0.99 for a, b in itertools.pairwise(times)), chat


class FakeTime:
    """A clock that moves only when the code under test sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_the_rate_limiter_spaces_sends_evenly() -> None:
    time_ = FakeTime()
    limiter = RateLimiter(50.0, time_.clock, time_.sleep)
    started = time_.now
    stamps = []
    for _ in range(50):
        assert await limiter.acquire(limiter.pauses)
        stamps.append(time_.now)
    assert stamps[-1] - started == pytest.approx(0.98)  # 50 sends, 20 ms apart: no burst
    assert all(b - a == pytest.approx(0.02) for a, b in itertools.pairwise(stamps))
    limiter.pause(0.3)  # a 429: every send waits, and one reserved before it must not go
    assert not await limiter.acquire(limiter.pauses - 1)
    assert time_.now - stamps[-1] == pytest.approx(0.3)
    # Work between sends (a wave's database writes, under half an interval) does not slow
    # the rate down; an idle limiter does not make up for lost time with a burst.
    time_ = FakeTime()
    limiter = RateLimiter(25.0, time_.clock, time_.sleep)
    started = time_.now
    for _ in range(26):
        await limiter.acquire(limiter.pauses)
        time_.now += 0.008
    assert time_.now - started == pytest.approx(1.0 + 0.008)
    time_.now += 5  # idle
    before = time_.now
    await limiter.acquire(limiter.pauses)
    await limiter.acquire(limiter.pauses)
    assert time_.now - before == pytest.approx(0.04)
    spacing = ChatSpacing(1.0, time_.clock)
    spacing.mark(7)
    time_.now += 0.05
    assert spacing.wait_needed(7) == pytest.approx(0.95) and spacing.wait_needed(8) == 0.0


def test_terminal_html_is_checked() -> None:
    assert broadcast_queue.check_html("<b>粗</b> &amp; <a href='https://x'>链接</a>") == (
        "粗 & 链接",
        [],
    )
    assert broadcast_queue.check_html("<div>x</div>")[1] == ["<div>"]
    assert broadcast_queue.check_html("<b>open")[1] == ["<b>"]
    assert broadcast_queue.check_html("1 < 2")[1]
    assert broadcast_queue.check_html("&nbsp;")[1] == ["&nbsp;"]


async def test_the_status_reply_counts(router: Router) -> None:
    from collections import Counter

    job = Broadcast(id=3, text="x", locale="en", total=10, status=broadcast_jobs.RUNNING)
    counts = Counter(
        {
            broadcast_jobs.SENT: 5,
            broadcast_jobs.FAILED: 1,
            broadcast_jobs.BLOCKED: 1,
            broadcast_jobs.PENDING: 3,
        }
    )
    reply: Reply = broadcast_text.status_reply(translator("en"), job, counts, rate=2.0)
    assert "▓▓▓▓▓▓▓▓░░░░ 70%" in reply.text
    assert "Sent 5 · failed 1 · unreachable 1 · remaining 3 (of 10)" in reply.text
    assert "Rate 2.0/s · about 2 s to go" in reply.text
    assert [b.data for row in reply.buttons for b in row] == ["bc:pause:3:s", "bc:cancel:3:s"]


async def test_delete_erases_whom_broadcasts_went_to(
    router: Router, population: Population, sender: MemorySender, runner: Delivery
) -> None:
    leaving = population.idle[0]
    job = await queue(router, "all")
    await wait_for_status(router.context.sessions, job.id or 0)
    async with router.context.sessions() as session:
        await queries.add_admin(session, leaving, ADMIN)
        await session.commit()
    chat = Chat(router, leaving)
    await chat.send("/delete")
    await chat.press("delete:yes")
    states = await recipient_states(router.context.sessions, job.id or 0)
    assert leaving not in states and len(states) == job.total - 1
    async with router.context.sessions() as session:
        assert not await queries.is_stored_admin(session, leaving)
