"""Broadcasts by e-mail to a real SMTP server on loopback (aiosmtpd): what arrives, what a
refusal for good and a temporary one do, and the unsubscribe link, through the web app."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from sqlmodel import select
from yarl import URL

from bot.delivery.mail import Mailer
from bot.delivery.outbox import Delivery
from bot.pages.identity import Buckets, Signer
from bot.settings import Settings
from bot.transports.web import chat as web
from forms.definition import Form
from handlers.admin.broadcast_queue import Author, Message, queue_broadcast
from handlers.kernel.render import plain
from handlers.kernel.router import Router
from locales import translator
from models import broadcast_jobs
from models.tables import BroadcastRecipient, Channel, User
from testkit.answers import ELIGIBLE_ZH
from testkit.chat import Chat, run_interview
from testkit.mailbox import SENDER, Mailbox, smtp_server
from testkit.telegram import free_port
from testkit.web import WebVisitor
from tests.broadcast_helpers import PROGRAMME, wait_for_status

ZH = translator("zh_CN")
SECRET = "email-test-web-secret-of-enough-length"
PUBLIC = "https://bot.example.cn"
ROUTES = frozenset({Channel.WEB, Channel.EMAIL})


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture
async def site(router: Router) -> AsyncIterator[URL]:
    settings = Settings(
        database_url="sqlite://", web_listen=f"127.0.0.1:{free_port()}", web_secret=SECRET
    )
    fast = Buckets(rate=1000, burst=1000)
    async with web.listening(settings, router, per_visitor=fast, per_address=fast) as url:
        yield URL(url)


async def people(router: Router, addresses: dict[int, str | None]) -> None:
    """Web applicants, some of whom gave an address for notices."""
    async with router.context.sessions() as session:
        for user_id, address in addresses.items():
            user = User(id=user_id, chat_id=user_id, channel=Channel.WEB, locale="zh_CN")
            user.email = address
            session.add(user)
        await session.commit()


async def broadcast(router: Router, text: str) -> int:
    async with router.context.sessions() as session:
        job = await queue_broadcast(
            session, PROGRAMME, Author(None, "zh_CN"), "all", Message(text), ROUTES
        )
        await session.commit()
    assert not isinstance(job, Exception) and job.id is not None  # type: ignore[union-attr]
    return job.id  # type: ignore[union-attr]


@pytest.fixture
async def running(router: Router, mailbox: Mailbox) -> AsyncIterator[Delivery]:
    router.context.routes = ROUTES
    router.context.email_rate = 50.0  # a fast test; pacing itself is measured in bench/
    signer = Signer(SECRET.encode())
    mailer = Mailer(mailbox.url, SENDER, PUBLIC, signer, router.context.form)
    delivery = Delivery(router.context, mailer=mailer, poll_seconds=0.05)
    delivery.start()
    yield delivery
    await delivery.stop()
    await mailer.close()


async def test_each_address_gets_the_notice_once_in_text_and_html_from_the_office(
    router: Router, mailbox: Mailbox, running: Delivery
) -> None:
    box = mailbox
    box.busy.add("later@example.cn")
    await people(
        router,
        {-1001: "li@example.cn", -1002: "later@example.cn", -1003: "nobody@example.cn",
         -1004: None},
    )  # fmt: skip
    job_id = await broadcast(router, "<b>培训改期</b>：10月8日 → 10月15日 & 地点不变")
    await wait_for_status(router.context.sessions, job_id, timeout=20)
    assert [len(box.to(a)) for a in ("li@example.cn", "later@example.cn")] == [1, 1]
    assert box.to("nobody@example.cn") == []
    async with router.context.sessions() as session:
        counts = (await broadcast_jobs.state_counts(session, [job_id]))[job_id]
        gone = await session.get(User, -1003)
        mailed = select(BroadcastRecipient).where(BroadcastRecipient.channel == Channel.EMAIL)
        refused = [r for r in (await session.exec(mailed)).all() if r.user_id == -1003]
    assert counts["sent"] == 2 and counts["blocked"] == 1  # mail; and four web inboxes
    assert counts["inbox"] == 4
    assert gone is not None and "no such mailbox" in (gone.email_failed or "")
    assert [r.state for r in refused] == ["blocked"] and "no such mailbox" in str(refused[0].error)

    (mail,) = box.to("li@example.cn")
    assert mail["From"] == SENDER
    assert ZH("programme.nansha-2024.title") in mail["Subject"]
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and html is not None
    assert "培训改期：10月8日 → 10月15日 & 地点不变" in text.get_content()
    assert "<b>培训改期</b>" in html.get_content() and "&amp; 地点不变" in html.get_content()
    link = re.fullmatch(r"<(https://bot\.example\.cn/unsubscribe/\S+)>", mail["List-Unsubscribe"])
    assert link and link.group(1) in text.get_content() and link.group(1) in html.get_content()
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_the_unsubscribe_link_asks_then_stops_the_notices(
    router: Router, mailbox: Mailbox, running: Delivery, site: URL
) -> None:
    box = mailbox
    await people(router, {-1001: "li@example.cn", -1002: "wang@example.cn"})
    first = await broadcast(router, "第一次通知")
    await wait_for_status(router.context.sessions, first, timeout=20)
    links = {
        m["To"]: URL(m["List-Unsubscribe"].strip("<>")).path for m in box.messages
    }  # the link of each, on this site
    async with aiohttp.ClientSession() as browser:
        async with browser.get(site.join(URL(links["li@example.cn"]))) as page:
            asked = await page.text()
        assert page.status == 200 and "l***@example.cn" in asked
        async with router.context.sessions() as session:  # asking changed nothing
            assert (await session.get(User, -1001)).email == "li@example.cn"  # type: ignore[union-attr]
        async with browser.post(site.join(URL(links["li@example.cn"]))) as page:
            assert page.status == 200
            assert ZH("mail.unsubscribe.done") in await page.text()
        # A mail client's one-click unsubscribe (RFC 8058) for the other.
        one_click = {"List-Unsubscribe": "One-Click"}
        async with browser.post(site.join(URL(links["wang@example.cn"])), data=one_click):
            pass
        async with browser.get(site.join(URL(links["li@example.cn"]))) as page:
            assert ZH("mail.unsubscribe.gone") in await page.text()  # used: it says so
        async with browser.get(site.join(URL("/unsubscribe/forged.token"))) as page:
            assert page.status == 200 and ZH("mail.unsubscribe.gone") in await page.text()
    box.messages.clear()
    second = await broadcast(router, "第二次通知")
    await wait_for_status(router.context.sessions, second, timeout=20)
    assert box.messages == []  # nobody is mailed after unsubscribing


async def test_an_applicant_gives_an_address_once_asked_and_can_remove_it(
    router: Router, form: Form
) -> None:
    chat = Chat(router, 4242)
    await chat.send("/apply")
    await run_interview(chat, form, ELIGIBLE_ZH)
    assert plain(ZH("email.offer")) in chat.text  # under the result, once
    await chat.press(ZH("email.button.offer"))
    await chat.send("李明的邮箱")
    assert plain(ZH("email.invalid", typed="李明的邮箱")) in chat.text  # asked again
    await chat.send("Li.Ming@Example.CN")
    assert plain(ZH("email.saved", address="Li.Ming@example.cn")) in chat.text
    await chat.send("/mydata")
    (export,) = [r.document for r in chat.last if r.document]
    assert json.loads(export.content)["user"]["email"] == "Li.Ming@example.cn"
    await chat.send("/apply")  # a second application: not offered again
    assert plain(ZH("email.offer")) not in chat.text
    await chat.send("/email")
    assert "Li.Ming@example.cn" in chat.text
    await chat.press(ZH("email.button.remove"))
    assert plain(ZH("email.removed")) in chat.text
    async with router.context.sessions() as session:
        user = await session.get(User, 4242)
    assert user is not None and user.email is None


async def test_an_address_given_in_the_web_chat_gets_the_offices_notice(
    router: Router, mailbox: Mailbox, running: Delivery, site: URL
) -> None:
    box = mailbox
    visitor = WebVisitor(site)
    try:
        await visitor.get("/")
        await visitor.send("/email")
        await visitor.send("wang.fang@example.cn")
        assert plain(ZH("email.saved", address="wang.fang@example.cn")) in visitor.text
        job_id = await broadcast(router, "请于周五前补充审计报告")
        await wait_for_status(router.context.sessions, job_id, timeout=20)
        (mail,) = box.to("wang.fang@example.cn")
        assert "请于周五前补充审计报告" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "请于周五前补充审计报告" in (await visitor.get("/")).html  # and in the inbox
    finally:
        await visitor.close()
