"""The office's Broadcasts page over HTTP, as an officer's browser uses it: compose,
preview, confirm; the job list with its progress, pause, resume and cancel."""

from __future__ import annotations

import html as html_module
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from sqlmodel import col, select
from yarl import URL

from bot.delivery.outbox import Delivery
from handlers.admin.broadcast_text import duration
from handlers.kernel.render import plain
from handlers.kernel.router import Router
from locales import translator
from models import broadcast_jobs, queries
from models.tables import Broadcast, BroadcastRecipient, Channel, User
from testkit.office import Officer
from testkit.web import WebVisitor, web_user_id
from tests.broadcast_helpers import ROUTES, wait_for_status
from tests.chat import test_office
from tests.chat.test_office import audit

site, officer = test_office.site, test_office.officer  # the fixtures
t = translator("zh_CN")
TELEGRAM_USER = 50_000


async def people(router: Router) -> None:
    """One Telegram user and one web visitor, in a deployment with Telegram."""
    router.context.routes = ROUTES
    async with router.context.sessions() as session:
        session.add(User(id=TELEGRAM_USER, chat_id=TELEGRAM_USER, locale="zh_CN"))
        visitor = web_user_id(1)
        session.add(User(id=visitor, chat_id=visitor, channel=Channel.WEB, locale="zh_CN"))
        await session.commit()


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[Tag] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append(Tag(tag, dict(attrs)))


@dataclass(frozen=True)
class Tag:
    name: str
    attrs: dict[str, str | None]

    @property
    def dangerous(self) -> bool:
        """What a browser would run: a script, a handler, a javascript: link."""
        href = (self.attrs.get("href") or "").strip().lower()
        handlers = [a for a in self.attrs if a.startswith("on")]
        return self.name == "script" or bool(handlers) or href.startswith("javascript:")


def tags(page: str) -> list[Tag]:
    parser = _Tags()
    parser.feed(page)
    return parser.found


async def jobs(router: Router) -> list[Broadcast]:
    async with router.context.sessions() as session:
        return list((await session.exec(select(Broadcast).order_by(col(Broadcast.id)))).all())


async def test_compose_preview_confirm_queues_one_job_for_telegram_users(
    router: Router, officer: Officer
) -> None:
    await people(router)
    await officer.get("/office/broadcasts/new")
    assert officer.status == 200
    assert 'value="all"' in officer.html and 'value="language:en"' in officer.html
    text = "<b>培训改期</b>\n详情 &amp; 报名"
    await officer.post("/office/broadcasts/preview", {"text": text, "audience": "all"})
    assert officer.status == 200, officer.html
    assert text in officer.html  # the message exactly as recipients get it
    assert "收件人数：<b>2</b> 人" in officer.html  # on Telegram and on the web
    rate = router.context.broadcast_rate
    telegram = t("broadcast.preview_route.telegram", count=1, rate=t.number(rate),
                 duration=duration(t, 1 / rate))  # fmt: skip
    web_line = t("broadcast.preview_route.web", count=1)
    assert html_module.escape(telegram, quote=False) in officer.html
    assert html_module.escape(web_line, quote=False) in officer.html
    assert await jobs(router) == []  # a preview changes nothing
    await officer.post("/office/broadcasts", {"text": text, "audience": "all"})
    assert officer.status == 200 and str(officer.headers.get("Refresh", "")) == ""
    assert t("office.broadcasts.jobs") in officer.html
    (job,) = await jobs(router)
    assert (job.text, job.audience, job.total) == (text, "all", 2)
    assert job.created_by is None and job.status_chat_id is None  # no Telegram author
    async with router.context.sessions() as session:
        recipients = (await session.exec(select(BroadcastRecipient))).all()
    assert sorted((r.user_id, r.channel, r.state) for r in recipients) == [
        (web_user_id(1), Channel.WEB, "inbox"),  # in their inbox at once
        (TELEGRAM_USER, Channel.TELEGRAM, "pending"),  # for the delivery runner
    ]
    assert (await audit(router))[-1] == ("王芳", "broadcast_queue", f"#{job.id} all")
    assert f"/office/broadcasts/{job.id}/pause" in officer.html
    assert 'http-equiv="refresh"' in officer.html  # progress reloads while it runs


async def test_pause_resume_and_cancel_go_through_the_use_case(
    router: Router, officer: Officer
) -> None:
    await people(router)
    await officer.get("/office/broadcasts/new")
    await officer.post("/office/broadcasts", {"text": "通知", "audience": "all"})
    (job,) = await jobs(router)
    await officer.post(f"/office/broadcasts/{job.id}/pause", {})
    assert (await jobs(router))[0].status == broadcast_jobs.PAUSED
    assert f"/office/broadcasts/{job.id}/resume" in officer.html
    assert 'http-equiv="refresh"' not in officer.html  # nothing runs
    await officer.post(f"/office/broadcasts/{job.id}/resume", {})
    assert (await jobs(router))[0].status == broadcast_jobs.RUNNING
    await officer.post(f"/office/broadcasts/{job.id}/stop", {})
    assert (await jobs(router))[0].status == broadcast_jobs.CANCELLED
    assert f"/office/broadcasts/{job.id}/" not in officer.html  # no buttons left
    actions = [a[1] for a in await audit(router)][-4:]
    assert actions == ["broadcast_queue", "broadcast_pause", "broadcast_resume", "broadcast_stop"]


async def test_posts_without_the_csrf_token_are_refused(router: Router, officer: Officer) -> None:
    await people(router)
    await officer.get("/office/broadcasts/new")
    before = await audit(router)
    for path in ("/office/broadcasts/preview", "/office/broadcasts", "/office/broadcasts/1/stop"):
        await officer.post(path, {"text": "通知", "audience": "all"}, csrf=False)
        assert officer.status == 403, path
        assert plain(t("office.forged")) in officer.html
    assert await jobs(router) == [] and await audit(router) == before


async def test_a_script_typed_in_the_message_is_never_run(router: Router, officer: Officer) -> None:
    await people(router)
    await officer.get("/office/broadcasts/new")
    for text in ("<script>alert(1)</script>", '<a href="javascript:alert(1)" onclick="x()">a</a>'):
        await officer.post("/office/broadcasts/preview", {"text": text, "audience": "all"})
        assert not [tag for tag in tags(officer.html) if tag.dangerous], text
    await officer.post(
        "/office/broadcasts/preview", {"text": "<script>x</script>", "audience": "all"}
    )
    assert officer.status == 400  # refused by the HTML check, shown back as text
    assert "&lt;script&gt;" in officer.html
    assert await jobs(router) == []


async def test_a_web_visitor_keeps_the_notice_in_their_inbox_until_they_dismiss_it(
    router: Router, officer: Officer, site: URL
) -> None:
    await people(router)
    visitor = WebVisitor(site)
    try:
        await visitor.get("/")
        await visitor.send("/apply")  # a visitor who answered: a web user in "all"
        text = "<b>培训改期</b> 详见通知"
        await officer.get("/office/broadcasts/new")
        await officer.post("/office/broadcasts", {"text": text, "audience": "all"})
        (job,) = await jobs(router)
        assert job.total == 3  # the Telegram user, the scenario's visitor and this one
        sender = t("web.inbox.sender", date="").rstrip()
        for _ in range(2):  # shown at every visit until dismissed, from the office, dated
            page = await visitor.get("/")
            assert text in page.html and sender in page.html
            assert page.messages[0].startswith("📣 " + sender)  # at the top, before the chat
        async with router.context.sessions() as session:
            counts = (await broadcast_jobs.state_counts(session, [job.id]))[job.id]
        assert (counts["sent"], counts["inbox"]) == (1, 1)  # shown: delivered; one unread
        notice = re.search(r'name="notice" value="(\d+)"', page.html)
        assert notice
        await visitor.post(
            "/inbox/dismiss", {"csrf": page.hidden["csrf"], "notice": notice.group(1)}
        )
        assert text not in (await visitor.get("/")).html
        other = web_user_id(1)  # another visitor cannot dismiss someone else's
        async with router.context.sessions() as session:
            assert not await broadcast_jobs.dismiss(session, other, int(notice.group(1)))
            await queries.delete_user(session, other)  # erased: their copy goes with them
            await session.commit()
            left = (await session.exec(select(BroadcastRecipient))).all()
        assert other not in {r.user_id for r in left}
    finally:
        await visitor.close()


async def test_a_web_only_office_tells_its_web_applicants_and_the_job_ends(
    router: Router, officer: Officer, site: URL
) -> None:
    """No BOT_TOKEN: the web inbox is the only route. The preview says who cannot be
    reached and why, and the job ends rather than "sending" forever."""
    async with router.context.sessions() as session:
        session.add(User(id=TELEGRAM_USER, chat_id=TELEGRAM_USER, locale="zh_CN"))
        await session.commit()
    visitor = WebVisitor(site)
    delivery = Delivery(router.context, poll_seconds=0.05)
    delivery.start()
    try:
        await visitor.get("/")
        await visitor.send("/apply")
        await officer.get("/office/broadcasts/new")
        await officer.post("/office/broadcasts/preview", {"text": "通知", "audience": "all"})
        assert "收件人数：<b>1</b> 人" in officer.html
        keys = ("broadcast.preview_no_telegram", "broadcast.preview_no_telegram.plural")
        cannot = t.plural(*keys, 1)
        assert html_module.escape(cannot, quote=False) in officer.html
        await officer.post("/office/broadcasts", {"text": "通知", "audience": "all"})
        (job,) = await jobs(router)
        done = await wait_for_status(router.context.sessions, job.id or 0, timeout=10)
        assert done.total == 1
        await officer.get("/office/broadcasts")
        assert t("broadcast.state.done") in officer.html
        assert 'http-equiv="refresh"' not in officer.html  # nothing runs any more
        assert "通知" in (await visitor.get("/")).html
    finally:
        await delivery.stop()
        await visitor.close()
