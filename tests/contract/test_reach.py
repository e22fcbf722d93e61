"""Every applicant reachable on the channel they use: one notice from the office page
reaches a Telegram user on Telegram, a web applicant in their inbox (kept until they
dismiss it) and, as they gave an address, in their mailbox — the bot serving Telegram (a
fake Bot API server), the web chat and the office pages from one process, as
``patentbot`` does with BOT_TOKEN and SMTP_URL set."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import NamedTuple

import pytest
from yarl import URL

from bot.settings import Settings
from bot.transports.web import chat as web
from handlers.kernel.render import plain
from handlers.kernel.router import Router
from locales import translator
from models import broadcast_jobs
from testkit.fake_bot_api import FakeBotAPI
from testkit.mailbox import Mailbox, smtp_server
from testkit.office import Officer, add_officer_link
from testkit.telegram import TOKEN, bot_settings, free_port, running
from testkit.web import WebVisitor
from tests.broadcast_helpers import wait_for_status

ZH = translator("zh_CN")


class Deployment(NamedTuple):
    telegram: FakeBotAPI
    mailbox: Mailbox
    site: URL
    router: Router


NOTICE = "<b>材料补充</b>：请于 12 月 15 日前上传审计报告"


@pytest.fixture
async def everything(database_url: str) -> AsyncIterator[Deployment]:
    with smtp_server() as box:
        async with FakeBotAPI(token=TOKEN) as server:
            port = free_port()
            settings = Settings(
                **bot_settings(server, database_url, "aiogram").model_dump(exclude_unset=True),
                web_listen=f"127.0.0.1:{port}",
                public_url=f"http://127.0.0.1:{port}",
                smtp_url=box.url,
                smtp_from="南沙区知识产权办公室 <ip@example.gov.cn>",
                smtp_rate=50.0,
            )
            async with (
                running(server, settings) as router,
                web.listening(settings, router) as url,
            ):
                yield Deployment(server, box, URL(url), router)


async def test_one_notice_from_the_office_reaches_telegram_the_web_inbox_and_e_mail(
    everything: Deployment,
) -> None:
    server, box, site, router = everything
    partner = server.user(50_001, language_code="zh-hk")  # a Hong Kong partner, on Telegram
    await partner.send("/start")
    await partner.collect()
    applicant = WebVisitor(site)
    officer = Officer(site)
    try:
        await applicant.get("/")
        await applicant.send("/email")
        await applicant.send("zhang.wei@example.cn")
        assert plain(ZH("email.saved", address="zhang.wei@example.cn")) in applicant.text

        link = await add_officer_link(router, "王芳")  # as `patentbot admins add` makes it
        await officer.sign_in(str(site.join(URL(URL(link).path))))
        await officer.get("/office/broadcasts/new")
        await officer.post("/office/broadcasts/preview", {"text": NOTICE, "audience": "all"})
        assert "收件人数：<b>2</b> 人" in officer.html  # the partner and the applicant
        await officer.post("/office/broadcasts", {"text": NOTICE, "audience": "all"})
        job_id = int(re.findall(r"/office/broadcasts/(\d+)/", officer.html)[0])

        received = await partner.collect(lambda m: "审计报告" in (m.text or ""), timeout=20)
        assert "材料补充" in (received[-1].text or "")  # on Telegram
        for _ in range(2):  # in the web inbox, at every visit until dismissed
            page = await applicant.get("/")
            assert NOTICE in page.html
        notice = re.search(r'name="notice" value="(\d+)"', page.html)
        assert notice
        await applicant.post(
            "/inbox/dismiss", {"csrf": page.hidden["csrf"], "notice": notice.group(1)}
        )
        assert NOTICE not in (await applicant.get("/")).html
        for _ in range(200):  # by e-mail
            if box.to("zhang.wei@example.cn"):
                break
            await asyncio.sleep(0.05)
        (mail,) = box.to("zhang.wei@example.cn")
        assert "请于 12 月 15 日前上传审计报告" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]

        done = await wait_for_status(router.context.sessions, job_id, timeout=20)
        async with router.context.sessions() as session:
            counts = (await broadcast_jobs.state_counts(session, [job_id]))[job_id]
        assert done.total == 3 and counts["sent"] == 3  # Telegram, e-mail, the inbox shown
    finally:
        await applicant.close()
        await officer.close()
